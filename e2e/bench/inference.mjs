// Inference through the chain next to the endpoint alone. On one dev node whose off-chain worker
// executes Alice's tasks against the reference inference server, measures and prints:
//
// - the endpoint alone: `tasks` chat completions called one after another, as the worker calls
//   them (the same request body), in inferences per second;
// - the latency of single tasks, in blocks, at idle and under a flood of transfers that keeps
//   every block full: from the submission's block to the draw (`TaskAssigned`), to the executor's
//   reveal (`ResultRevealed`), and from the draw to the reveal;
// - `tasks` tasks submitted at once: inferences executed and revealed per second, and finalised
//   per second (after the challenge window), from the first submission's block;
//
// with the chain's rate as a share of the endpoint's: over the whole run, and from the first
// reveal to the last (the pipeline full). See docs/benchmarks.md. AGENTCHAIN_NODE_LOG (for example
// `runtime::offchain=debug`) logs every duty the worker sends, with its nonce.
//
//   node e2e/bench/inference.mjs [tasks] [delay-ms]   (default 60 tasks; delay-ms > 0 has the
//                                                       server answer after that delay, a model
//                                                       that takes that long)
import { Keyring } from '@polkadot/keyring';
import { blake2AsHex, cryptoWaitReady } from '@polkadot/util-crypto';
import { sleep, startFlood, watchBlocks } from '../lib/flood.mjs';
import { endpointAlone, nameOperator, sendAndFinalize, startDevNode, startInferenceServer } from '../lib/node.mjs';

const tasks = Number(process.argv[2] || 60);
const delayMs = Number(process.argv[3] || 0);
const UNIT = 10n ** 12n;
const MODEL_NAME = 'ngram-en';
const MODEL = blake2AsHex(MODEL_NAME, 256);
const PARAMS = { maxTokens: 12, temperatureMilli: 0, seed: 7, mode: 'ExactMatch' };
const FEE = UNIT / 10n;
const COMMIT_PERIOD = 100;
const SINGLE_RUNS = 5;
const BLOCK_SECONDS = 3;

const prompt = (i) => `Task number ${i}: the river carries`;
const log = (line) => console.log(line);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

await cryptoWaitReady();
const server = await startInferenceServer('bench-inference-endpoint', ['--model', MODEL_NAME, '--admin']);
if (delayMs > 0) await server.setFault('slow', delayMs);
let node;
let flood;
try {
  // The endpoint alone, called as the worker calls it.
  const { seconds: endpointSeconds, rate: endpointRate } = await endpointAlone(
    server, MODEL_NAME, Array.from({ length: tasks }, (_, i) => prompt(i)), PARAMS,
  );
  log(`# endpoint alone: ${tasks} calls in ${endpointSeconds.toFixed(2)} s, ${endpointRate.toFixed(1)} inferences/s`);

  node = await startDevNode('bench-inference', [
    '--inference-endpoint', server.baseUrl,
    '--inference-model', MODEL_NAME,
    '--pool-limit', '40000', '--pool-kbytes', '131072',
  ]);
  const { api } = node;
  const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  const alice = keyring.addFromUri('//Alice');
  const bob = keyring.addFromUri('//Bob');
  // Every open task reserves 20 AGC of the executor's stake.
  const stake = BigInt(tasks + 10) * 20n * UNIT;
  const registered = await sendAndFinalize(
    api,
    api.tx.agents.register('bench-agent', server.baseUrl, '1', [MODEL], ['Executor'], stake),
    alice,
  );
  if (registered.dispatchError) throw new Error(`register: ${registered.dispatchError}`);
  await nameOperator(api, alice, keyring.addFromUri('//Alice//operator'));

  // Every task event, by task: the block (and the time it was seen) of each.
  const seen = new Map();
  const note = (id, name, block) => {
    const entry = seen.get(id) ?? {};
    if (!(name in entry)) entry[name] = { block, at: Date.now() };
    seen.set(id, entry);
  };
  const unsubscribe = await api.rpc.chain.subscribeNewHeads(async (header) => {
    const number = header.number.toNumber();
    const events = await (await api.at(header.hash)).query.system.events();
    for (const { event } of events) {
      if (event.section !== 'inference' || !event.data.task) continue;
      note(event.data.task.toNumber(), event.method, number);
    }
  });
  const until = async (ids, name, timeoutMs) => {
    const deadline = Date.now() + timeoutMs;
    while (!ids.every((id) => seen.get(id)?.[name])) {
      if (Date.now() > deadline) {
        const missing = ids.filter((id) => !seen.get(id)?.[name]);
        throw new Error(`no ${name} for tasks ${missing.slice(0, 10).join(', ')} within ${timeoutMs} ms`);
      }
      await sleep(200);
    }
  };
  const submitTx = (i) =>
    api.tx.inference.submitTask(MODEL, { Inline: prompt(i) }, PARAMS, FEE, 1, COMMIT_PERIOD);

  /** Submits single tasks one after another, each once the previous one is revealed. */
  const singles = async (label, first, tip = 0n) => {
    const rows = [];
    for (let i = 0; i < SINGLE_RUNS; i++) {
      const id = (await api.query.inference.nextTaskId()).toNumber();
      let timer;
      await new Promise((resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`task ${id} not included within 60 s`)), 60_000);
        submitTx(first + i)
          .signAndSend(bob, { tip }, ({ status, dispatchError }) => {
            if (dispatchError) reject(new Error(`submit: ${dispatchError}`));
            else if (status.isInBlock) resolve();
            else if (status.isDropped || status.isInvalid || status.isUsurped) reject(new Error(`submit: ${status.type}`));
          })
          .catch(reject);
      }).finally(() => clearTimeout(timer));
      await until([id], 'ResultRevealed', 120_000);
      const e = seen.get(id);
      rows.push({
        assigned: e.TaskAssigned.block - e.TaskSubmitted.block,
        revealed: e.ResultRevealed.block - e.TaskSubmitted.block,
        afterAssignment: e.ResultRevealed.block - e.TaskAssigned.block,
      });
    }
    const of = (key) => `median ${median(rows.map((r) => r[key]))}, max ${Math.max(...rows.map((r) => r[key]))}`;
    log(`# ${label}: submission → assignment ${of('assigned')}; submission → reveal ${of('revealed')}; ` +
      `assignment → reveal ${of('afterAssignment')} blocks (${SINGLE_RUNS} tasks)`);
    return rows;
  };

  const idle = await singles('idle', 0);

  // Many tasks at once.
  let nonce = (await api.rpc.system.accountNextIndex(bob.address)).toNumber();
  const firstId = (await api.query.inference.nextTaskId()).toNumber();
  const ids = Array.from({ length: tasks }, (_, i) => firstId + i);
  const sent = Date.now();
  const startBlock = (await api.rpc.chain.getHeader()).number.toNumber();
  await Promise.all(
    ids.map((_, i) => submitTx(100 + i).signAndSend(bob, { nonce: nonce++ }).then(() => {})),
  );
  await until(ids, 'ResultRevealed', 600_000);
  const revealedAt = Math.max(...ids.map((id) => seen.get(id).ResultRevealed.at));
  const lastReveal = Math.max(...ids.map((id) => seen.get(id).ResultRevealed.block));
  await until(ids, 'TaskFinalised', 900_000);
  const finalisedAt = Math.max(...ids.map((id) => seen.get(id).TaskFinalised.at));
  const lastFinalised = Math.max(...ids.map((id) => seen.get(id).TaskFinalised.block));
  const revealRate = tasks / ((revealedAt - sent) / 1000);
  // The rate once the pipeline (draw, first call, commit, reveal) is full: between the first
  // reveal and the last.
  const firstRevealedAt = Math.min(...ids.map((id) => seen.get(id).ResultRevealed.at));
  const steadyRate = (tasks - 1) / ((revealedAt - firstRevealedAt) / 1000);
  const finalisedRate = tasks / ((finalisedAt - sent) / 1000);
  const firstBlock = Math.min(...ids.map((id) => seen.get(id).TaskSubmitted.block));
  const perBlock = (last) => tasks / (last - firstBlock + 1);
  log(`# ${tasks} tasks at once (submitted from block #${startBlock}): revealed by block #${lastReveal} ` +
    `(${(tasks / ((revealedAt - sent) / 1000)).toFixed(2)} inferences/s), finalised by block #${lastFinalised}`);

  // Single tasks again, under a flood of transfers.
  flood = await startFlood(api, node.rpcUrl, alice, { log });
  const blocks = watchBlocks(api);
  await sleep(6 * BLOCK_SECONDS * 1000);
  // With a tip, as a requester in a congested chain would send it (the flood sends none).
  const loaded = await singles('under a flood of transfers', 1000, 1_000_000n);
  const fullBlocks = blocks.fullBlocks().length;
  const floodStats = flood.stats();
  await flood.stop();
  flood = undefined;
  await blocks.stop();
  await unsubscribe();

  const row = (label, value, ratio) => `| ${label} | ${value} | ${ratio} |`;
  console.log(`\nmodel delay ${delayMs} ms; ${BLOCK_SECONDS}-second blocks\n`);
  console.log('| | inferences/s | × endpoint alone |');
  console.log('|---|---:|---:|');
  console.log(row('endpoint alone (calls one after another)', endpointRate.toFixed(2), '1.00'));
  console.log(row(`${tasks} tasks through the chain, executed and revealed`, revealRate.toFixed(2), (revealRate / endpointRate).toFixed(3)));
  console.log(row(`${tasks} tasks through the chain, from the first reveal to the last`, steadyRate.toFixed(2), (steadyRate / endpointRate).toFixed(3)));
  console.log(row(`${tasks} tasks through the chain, finalised (after the challenge window)`, finalisedRate.toFixed(2), (finalisedRate / endpointRate).toFixed(3)));
  console.log(`\n${tasks} tasks: revealed at ${perBlock(lastReveal).toFixed(2)} a block, finalised at ${perBlock(lastFinalised).toFixed(2)} a block, from block #${firstBlock}`);
  const lat = (rows, key) => `${median(rows.map((r) => r[key]))} (max ${Math.max(...rows.map((r) => r[key]))})`;
  console.log('\n| latency in blocks (median, max) | submission → assignment | assignment → reveal | submission → reveal |');
  console.log('|---|---:|---:|---:|');
  console.log(`| idle | ${lat(idle, 'assigned')} | ${lat(idle, 'afterAssignment')} | ${lat(idle, 'revealed')} |`);
  console.log(`| flood of transfers (${fullBlocks} full blocks, ${floodStats.submitted} transfers sent) | ${lat(loaded, 'assigned')} | ${lat(loaded, 'afterAssignment')} | ${lat(loaded, 'revealed')} |`);
} finally {
  if (flood) await flood.stop();
  if (node) await node.stop();
  await server.stop();
}
process.exit(0);
