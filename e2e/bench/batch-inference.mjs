// Batched inference through the chain next to the endpoint alone. On one dev node whose
// off-chain worker executes Alice's batches against the reference inference server (Alice the only
// batch executor, redundancy 1, exact match, 2 tokens an item), measures and prints:
//
// - the endpoint alone: `items` chat completions called one after another, as the worker calls
//   them (the same request body), in inferences per second;
// - `batches` batches of `items` items submitted one after another, as fast as the chain draws
//   Alice for them (at the batch speed she declares from the endpoint's rate, halved, so that
//   the chain gives her no more at once than she runs in time): the inferences executed (every item of
//   a batch is run before its commitment) and committed per second, from the submission to the
//   last commitment and from the first draw to the last commitment (the executor at work); then
//   revealed, and finalised after the challenge window, per second from the submission;
//
// each as a share of the endpoint's rate. Batches an audit was drawn for at their window's end (5 %:
// their verifiers here run no node, so nobody judges them) are left out of the finalised figure.
// See docs/benchmarks.md.
//
//   node e2e/bench/batch-inference.mjs [items] [batches] [delay-ms]   (defaults 1,024 items,
//        4 batches, no delay; delay-ms > 0 has the server answer after that delay, a model that
//        takes that long)
import { Keyring } from '@polkadot/keyring';
import { hexToU8a } from '@polkadot/util';
import { blake2AsHex, cryptoWaitReady } from '@polkadot/util-crypto';
import { sleep } from '../lib/flood.mjs';
import { itemHash, merkleRoot } from '../lib/merkle.mjs';
import {
  endpointAlone,
  jurorsForABatch,
  revealAuditSecretsWhenAwaited,
  sendInBlock,
  startDevNode,
  startInferenceServer,
  turnBatchesOn,
} from '../lib/node.mjs';

/** The audit secret of the bench's batch whose inputs root is `root`. */
const auditSecretOf = (root) => blake2AsHex(`audit secret of ${root}`, 256);

const items = Number(process.argv[2] || 1024);
const batches = Number(process.argv[3] || 4);
const delayMs = Number(process.argv[4] || 0);
const UNIT = 10n ** 12n;
const MODEL_NAME = 'ngram-en';
const MODEL = blake2AsHex(MODEL_NAME, 256);
const PARAMS = { maxTokens: 2, temperatureMilli: 0, seed: 11, mode: 'ExactMatch' };
const VERIFIER_STAKE = 100n * UNIT;
// Each batch reserves a wrong result's slash and 15 item slashes of Alice's stake: under 100 AGC
// at these sizes.
const STAKE_PER_BATCH = 100n * UNIT;

const prompt = (batch, i) => `Batch ${batch} item ${i}: the river carries`;
const log = (line) => console.log(line);
const maxOf = (...values) => values.reduce((a, b) => (b > a ? b : a));

await cryptoWaitReady();
const server = await startInferenceServer('bench-batch-endpoint', ['--model', MODEL_NAME, '--admin', '--documents']);
let node;
try {
  if (delayMs > 0) await server.setFault('slow', delayMs);
  // The endpoint alone, called as the worker calls it: one item after another.
  const { seconds: endpointSeconds, rate: endpointRate } = await endpointAlone(
    server, MODEL_NAME, Array.from({ length: items }, (_, i) => prompt(batches, i)), PARAMS,
  );
  log(`# endpoint alone: ${items} calls in ${endpointSeconds.toFixed(2)} s, ${endpointRate.toFixed(1)} inferences/s`);

  node = await startDevNode('bench-batch-inference', [
    '--inference-endpoint', server.baseUrl,
    '--inference-model', MODEL_NAME,
    '--inference-outputs-url', `${server.url}/documents/`,
  ]);
  const { api } = node;
  const consts = api.consts;
  const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  const alice = keyring.addFromUri('//Alice');
  const aliceOperator = keyring.addFromUri('//Alice//operator');
  const bob = keyring.addFromUri('//Bob');
  const verifiers = Array.from({ length: jurorsForABatch(api) + 1 }, (_, i) => keyring.addFromUri(`//Verifier//${i}`));

  // Setup: batches on, the verifiers funded and registered, Alice a batch executor whose node holds
  // her operator key.
  const expectOk = (label) => (result) => {
    if (result.dispatchError) throw new Error(`${label}: ${result.dispatchError}`);
  };
  expectOk('batches on')(await turnBatchesOn(api, alice));
  let nonce = (await api.rpc.system.accountNextIndex(alice.address)).toNumber();
  const stake = BigInt(batches) * STAKE_PER_BATCH + 100n * UNIT;
  (await Promise.all([
    ...verifiers.map((v) =>
      sendInBlock(api, api.tx.balances.transferKeepAlive(v.address, VERIFIER_STAKE + 10n * UNIT), alice, { nonce: nonce++ })),
    sendInBlock(api, api.tx.agents.register('bench-batches', server.baseUrl, '1', [MODEL], ['BatchExecutor'], stake), alice, { nonce: nonce++ }),
    sendInBlock(api, api.tx.agents.setOperator(aliceOperator.address), alice, { nonce: nonce++ }),
  ])).forEach(expectOk('setup'));
  (await Promise.all([
    sendInBlock(api, api.tx.agents.acceptOperator(alice.address), aliceOperator),
    ...verifiers.map((v, i) =>
      sendInBlock(api, api.tx.agents.register(`verifier-${i}`, 'http://verifier', '1', [MODEL], ['Verifier'], VERIFIER_STAKE), v)),
  ])).forEach(expectOk('registrations'));
  // Alice declares her node's batch speed: the blocks of the chain's reference batch work
  // (ItemsPerBlock items and TokensPerBlock tokens a block) it does in a 3-second block, from the
  // endpoint's rate measured above, halved for the worker's own work (runtime spec 129). A batch
  // is drawn to her only while her open batches fit in its commit period at that speed.
  const referenceBlocksAnItem = 1 / consts.inference.itemsPerBlock.toNumber() + PARAMS.maxTokens / consts.inference.tokensPerBlock.toNumber();
  const speed = Math.max(1, Math.min(10_000, Math.floor((endpointRate * 3 * referenceBlocksAnItem) / 2)));
  expectOk('batch speed')(await sendInBlock(api, api.tx.agents.setBatchSpeed(speed), alice));
  log(`# Alice's batch speed: ${speed} blocks of reference work a block`);

  // The batches' terms: the shortest commit period the chain allows (sized for ItemsPerBlock calls
  // a block), and the least fee.
  const commitPeriod =
    Math.ceil(items / consts.inference.itemsPerBlock.toNumber()) +
    Math.ceil((items * PARAMS.maxTokens) / consts.inference.tokensPerBlock.toNumber());
  const fee = maxOf(
    consts.inference.minFeePerExecutor.toBigInt(),
    consts.inference.minFeePerItem.toBigInt() * BigInt(items),
    consts.inference.minFeePerSeatBlock.toBigInt() * BigInt(commitPeriod),
  );
  const inputs = [];
  for (let b = 0; b < batches; b++) {
    const prompts = Array.from({ length: items }, (_, i) => prompt(b, i));
    const uri = `${server.url}/documents/bench-inputs-${process.pid}-${b}.json`;
    const put = await fetch(uri, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(prompts) });
    if (put.status !== 200) throw new Error(`PUT ${uri} answered ${put.status}`);
    inputs.push({ root: merkleRoot(prompts.map(itemHash)), uri });
  }
  log(`# ${batches} batches of ${items} items: commit period ${commitPeriod} blocks, fee ${fee} each`);

  // Every event of the batches, by task: the block and the time it was seen.
  const seen = new Map();
  const note = (task, name, block) => {
    const entry = seen.get(task) ?? {};
    if (!(name in entry)) entry[name] = { block, at: Date.now() };
    seen.set(task, entry);
  };
  let following = true;
  const unsubscribe = await api.rpc.chain.subscribeNewHeads(async (header) => {
    try {
      const number = header.number.toNumber();
      for (const { event } of await (await api.at(header.hash)).query.system.events()) {
        const task = event.data.task?.toNumber?.();
        if (task === undefined) continue;
        if (event.section === 'inference') note(task, event.method, number);
        if (api.events.challenges.DisputeOpened.is(event)) note(task, event.data.kind.isAudit ? 'Audit' : 'Dispute', number);
      }
    } catch (error) {
      // A block read as the node stops; one missed earlier shows as a timeout.
      if (following) log(`# reading block ${header.number}: ${error.message}`);
    }
  });
  const until = async (ids, done, what, timeoutMs) => {
    const deadline = Date.now() + timeoutMs;
    while (!ids.every((id) => done(seen.get(id) ?? {}))) {
      if (Date.now() > deadline) throw new Error(`batches ${ids.filter((id) => !done(seen.get(id) ?? {})).join(', ')}: no ${what} within ${timeoutMs} ms`);
      const failed = ids.find((id) => seen.get(id)?.TaskExpired || seen.get(id)?.ExecutorMissedDeadline);
      if (failed !== undefined) throw new Error(`batch ${failed} missed a deadline: see e2e/logs/bench-batch-inference.log`);
      await sleep(200);
    }
  };

  // From Bob: as many at once as Alice has the time for at her speed (each batch needs its whole
  // commit period of reference work: `speed` of them), the rest each once she commits one. The
  // chain draws her for a batch only while her open batches leave her the time (runtime spec 129).
  const submission = (b) => {
    const { root, uri } = inputs[b];
    return api.tx.inference.submitTask(MODEL, { Batch: { root, uri, items, auditCommitment: blake2AsHex(hexToU8a(auditSecretOf(root)), 256) } }, PARAMS, fee, 1, commitPeriod);
  };
  // Each batch's audit secret, revealed once its window has ended (by Eve: anyone may send it,
  // and Bob's nonces are the submissions').
  const secretOfTask = new Map();
  const secrets = await revealAuditSecretsWhenAwaited(api, keyring.addFromUri('//Eve'), (task) => secretOfTask.get(task));
  const taskOf = (result) => {
    if (result.dispatchError) throw new Error(`submission: ${result.dispatchError}`);
    return result.events.find(({ event }) => api.events.inference.TaskSubmitted.is(event)).event.data.task.toNumber();
  };
  const commitments = () => [...seen.values()].filter((e) => e.ResultCommitted).length;
  const atOnce = Math.min(batches, speed);
  nonce = (await api.rpc.system.accountNextIndex(bob.address)).toNumber();
  const sent = Date.now();
  const ids = (await Promise.all(inputs.slice(0, atOnce).map((_, b) => sendInBlock(api, submission(b), bob, { nonce: nonce + b })))).map(taskOf);
  ids.forEach((id, b) => secretOfTask.set(id, auditSecretOf(inputs[b].root)));
  for (let b = atOnce; b < batches; b++) {
    const waitUntil = Date.now() + (commitPeriod + 10) * 3_000 * 2;
    while (commitments() < b - atOnce + 1) {
      if (Date.now() > waitUntil) throw new Error(`no commitment within ${commitPeriod + 10} blocks for batch ${b} to be taken`);
      await sleep(200);
    }
    ids.push(taskOf(await sendInBlock(api, submission(b), bob)));
    secretOfTask.set(ids[b], auditSecretOf(inputs[b].root));
  }
  if (atOnce < batches) log(`# ${batches - atOnce} of ${batches} batches submitted each after a commitment`);
  const blockTime = 3_000;
  await until(ids, (e) => e.ResultCommitted, 'commitment', (commitPeriod + 10) * blockTime * 2);
  await until(ids, (e) => e.TaskRevealed, 'reveal', 60_000);
  const window = consts.inference.challengePeriod.toNumber() + Math.floor(commitPeriod / 4);
  await until(ids, (e) => e.TaskFinalised || e.Audit, 'end of window', (window + 40) * blockTime * 2);
  await secrets.stop();
  following = false;
  await unsubscribe();

  const of = (name, pick) => ids.map((id) => seen.get(id)[name]?.[pick]).filter((v) => v !== undefined);
  const lastAt = (name) => Math.max(...of(name, 'at'));
  const total = items * batches;
  const committedRate = total / ((lastAt('ResultCommitted') - sent) / 1000);
  const workingRate = total / ((lastAt('ResultCommitted') - Math.min(...of('TaskAssigned', 'at'))) / 1000);
  const revealedRate = total / ((lastAt('TaskRevealed') - sent) / 1000);
  const finalised = ids.filter((id) => seen.get(id).TaskFinalised);
  const finalisedRate = finalised.length ? (items * finalised.length) / ((lastAt('TaskFinalised') - sent) / 1000) : NaN;
  const blocksOf = (from, to) => ids.map((id) => seen.get(id)[to].block - seen.get(id)[from].block);
  log(`# blocks from the draw to the commitment, by batch: ${blocksOf('TaskAssigned', 'ResultCommitted').join(', ')} ` +
    `(the chain allows ${commitPeriod}); from the submission to the finalisation: ${finalised.map((id) => seen.get(id).TaskFinalised.block - seen.get(id).TaskSubmitted.block).join(', ')}`);

  const row = (label, rate) => `| ${label} | ${rate.toFixed(1)} | ${(rate / endpointRate).toFixed(3)} |`;
  console.log(`\nmodel delay ${delayMs} ms; ${batches} batches of ${items} items, ${PARAMS.maxTokens} tokens an item; 3-second blocks\n`);
  console.log('| | inferences/s | × endpoint alone |');
  console.log('|---|---:|---:|');
  console.log(row('endpoint alone (calls one after another)', endpointRate));
  console.log(row('executed and committed, from the submission', committedRate));
  console.log(row('executed and committed, from the first draw (the executor at work)', workingRate));
  console.log(row('revealed, from the submission', revealedRate));
  if (finalised.length) console.log(row(`finalised after the challenge window (${finalised.length} of ${batches} batches, the others audited)`, finalisedRate));
} finally {
  if (node) await node.stop();
  await server.stop();
}
process.exit(0);
