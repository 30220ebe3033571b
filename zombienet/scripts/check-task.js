// Waits until the latest task (or task args[0]) is finalised, then checks that its three
// executors all delivered the same output, and that each operator key submitted exactly one
// commit and one reveal for it: nothing twice, even across an agent node's restart. Returns 1.
const { AGENTS, submissionsFor, untilFinalized } = require('./lib.js');

async function run(nodeName, networkInfo, args) {
  const { wsUri, userDefinedTypes } = networkInfo.nodesByName[nodeName];
  const api = await zombie.connect(wsUri, userDefinedTypes);
  await zombie.util.cryptoWaitReady();
  const keyring = new zombie.Keyring({ type: 'sr25519' });
  const task = args[0] !== undefined ? Number(args[0]) : (await api.query.inference.nextTaskId()).toNumber() - 1;

  const finalisedAt = await untilFinalized(api, async (hash) => {
    const info = await (await api.at(hash)).query.inference.tasks(task);
    if (info.isNone) throw new Error(`task ${task} does not exist`);
    const status = info.unwrap().status;
    if (status.isExpired || status.isDisputed) throw new Error(`task ${task} is ${status.type}`);
    return status.isFinalised;
  });
  const info = (await api.query.inference.tasks(task)).unwrap();
  const submittedAt = info.submittedAt.toNumber();
  const outputs = new Set(info.assignments.map((a) => a.output.toString()));
  if (info.assignments.length !== 3 || outputs.size !== 1 || info.assignments.some((a) => a.output.isNone)) {
    throw new Error(`task ${task}: expected three executors with one output, got ${JSON.stringify(info.assignments.toHuman())}`);
  }
  const counts = await submissionsFor(api, task, submittedAt, finalisedAt);
  for (const [, operatorUri, node] of AGENTS) {
    const operator = keyring.addFromUri(operatorUri).address;
    const sent = counts[operator] || { commit: 0, reveal: 0 };
    console.log(`task ${task}: ${node} sent ${sent.commit} commit and ${sent.reveal} reveal`);
    if (sent.commit !== 1 || sent.reveal !== 1) {
      throw new Error(`task ${task}: ${node} sent ${sent.commit} commits and ${sent.reveal} reveals`);
    }
  }
  console.log(`task ${task}: submitted in #${submittedAt}, finalised in #${finalisedAt}, output ${[...outputs][0]}`);
  await api.disconnect();
  return 1;
}

module.exports = { run };
