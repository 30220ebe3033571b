// Alice submits a task for `ngram-en` to all three agents (redundancy 3) with a commit period of
// args[0] blocks (default 20). With args[1] = N, returns once N executors have committed (in
// finalized blocks); otherwise at once. Returns the task id.
const { MODEL_NAME, UNIT, finalize, untilFinalized } = require('./lib.js');

async function run(nodeName, networkInfo, args) {
  const { wsUri, userDefinedTypes } = networkInfo.nodesByName[nodeName];
  const api = await zombie.connect(wsUri, userDefinedTypes);
  await zombie.util.cryptoWaitReady();
  const alice = new zombie.Keyring({ type: 'sr25519' }).addFromUri('//Alice');
  const commitPeriod = Number(args[0] || 20);
  const waitForCommits = Number(args[1] || 0);

  const task = (await api.query.inference.nextTaskId()).toNumber();
  const included = await finalize(
    api,
    api.tx.inference.submitTask(
      zombie.util.blake2AsHex(MODEL_NAME, 256),
      { Inline: `zombienet task ${task}: the harbour at dawn` },
      { maxTokens: 12, temperatureMilli: 0, seed: task, mode: 'ExactMatch' },
      3n * UNIT,
      3,
      commitPeriod,
    ),
    alice,
  );
  const block = (await api.rpc.chain.getHeader(included)).number.toNumber();
  console.log(`task ${task} submitted, finalized in block #${block}`);
  if (waitForCommits > 0) {
    await untilFinalized(api, async (hash) => {
      const info = (await (await api.at(hash)).query.inference.tasks(task)).unwrap();
      const committed = info.assignments.filter((a) => a.commitment.isSome).length;
      // Drawn at the block after the submission: `Submitted` until then.
      return committed >= waitForCommits || !(info.status.isAssigned || info.status.isSubmitted);
    });
    console.log(`task ${task}: ${waitForCommits} executors committed`);
  }
  await api.disconnect();
  return task;
}

module.exports = { run };
