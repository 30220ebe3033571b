// Load benchmark of the most used query, the runtime API call `InferenceApi_tasks_for` (the tasks
// assigned to an agent): the latency of a full page (16 tasks) with 16 tasks on chain and with
// many, next to a baseline query on the same node (`system_accountNextIndex`). Prints the figures; the cost of a page must
// not grow with the tasks on chain.
//
//   node e2e/bench/tasks-for.mjs [tasks]      (default 1000; the node binary as for the e2e tests)
import { ApiPromise, WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { sendAndFinalize, startDevNode } from '../lib/node.mjs';

const UNIT = 10n ** 12n;
const MODEL = '0x' + '5e'.repeat(32);
const CALLS = 300;
const target = Number(process.argv[2] || 1000);

async function timed(label, call) {
  for (let i = 0; i < 20; i++) await call(); // warm up
  const samples = [];
  for (let i = 0; i < CALLS; i++) {
    const start = process.hrtime.bigint();
    await call();
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  samples.sort((a, b) => a - b);
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  const p50 = samples[Math.floor(samples.length / 2)];
  const p99 = samples[Math.floor(samples.length * 0.99)];
  console.log(`${label.padEnd(48)} mean ${mean.toFixed(3)} ms  p50 ${p50.toFixed(3)} ms  p99 ${p99.toFixed(3)} ms`);
  return mean;
}

await cryptoWaitReady();
const node = await startDevNode('bench-tasks-for');
const api = await ApiPromise.create({ provider: new WsProvider(node.rpcUrl), noInitWarn: true });
try {
  const keyring = new Keyring({ type: 'sr25519' });
  const alice = keyring.addFromUri('//Alice');
  const requesters = ['//Bob', '//Charlie', '//Dave', '//Eve', '//Ferdie'].map((uri) => keyring.addFromUri(uri));
  // Each open task holds part of the executor's stake as collateral for a wrong result (20 UNIT
  // on this runtime): the stake covers every task the benchmark opens.
  const stake = BigInt(target + 100) * 20n * UNIT;
  await sendAndFinalize(api, api.tx.agents.register('bench', '', '', [MODEL], ['Executor'], stake), alice);
  const params = { maxTokens: 4, temperatureMilli: 0, seed: 1, mode: 'ExactMatch' };
  const submit = (who, nonce, i) =>
    sendAndFinalize(api, api.tx.inference.submitTask(MODEL, { Inline: `bench ${i}` }, params, UNIT / 100n, 1, 100), who, { nonce });
  const firstNonce = (await api.rpc.system.accountNextIndex(requesters[0].address)).toNumber();
  await Promise.all([...Array(16).keys()].map((i) => submit(requesters[0], firstNonce + i, i)));

  const openTasks = async () => (await api.query.inference.assignedTasks.keys(alice.address)).length;
  const query = () => api.call.inferenceApi.tasksFor(alice.address, null, 16);
  // The same call through `state_call`, without polkadot.js's decoding: the node's share of the time.
  const args = api.createType('(AccountId, Option<u64>, u32)', [alice.address, null, 16]).toHex();
  const raw = () => api._rpcCore.provider.send('state_call', ['InferenceApi_tasks_for', args]);
  const one = () => api.call.inferenceApi.tasksFor(alice.address, null, 1);
  const baseline = () => api.rpc.system.accountNextIndex(alice.address);
  console.log(`open tasks of the agent: ${await openTasks()}`);
  const base1 = await timed('system_accountNextIndex (baseline)', baseline);
  const few = await timed('InferenceApi_tasks_for, limit 16', query);
  const fewRaw = await timed('InferenceApi_tasks_for, limit 16, state_call', raw);
  await timed('InferenceApi_tasks_for, limit 1', one);

  // Many tasks: every requester submits its share, with consecutive nonces, in parallel.
  const started = Date.now();
  const perRequester = Math.ceil(target / requesters.length);
  const failures = [];
  await Promise.all(
    requesters.map(async (who, r) => {
      const first = (await api.rpc.system.accountNextIndex(who.address)).toNumber();
      const sends = [];
      for (let i = 0; i < perRequester; i++) {
        sends.push(
          submit(who, first + i, r * perRequester + i).then(
            ({ dispatchError }) => dispatchError && failures.push(dispatchError),
            (error) => failures.push(error.message),
          ),
        );
      }
      await Promise.all(sends);
    }),
  );
  // Executors are drawn from the hash of a block after the submission, a bounded number of
  // tasks per block: wait until every accepted task is assigned.
  const expected = 16 + perRequester * requesters.length - failures.length;
  let open = await openTasks();
  for (let waited = 0; open < expected && waited < 300; waited++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    open = await openTasks();
  }
  if (failures.length) console.log(`submissions refused: ${failures.length} (first: ${failures[0]})`);
  console.log(`open tasks of the agent: ${open} (submitted and assigned in ${((Date.now() - started) / 1000).toFixed(0)} s)`);
  const base2 = await timed('system_accountNextIndex (baseline)', baseline);
  const many = await timed(`InferenceApi_tasks_for, limit 16, ${open} tasks`, query);
  const manyRaw = await timed(`InferenceApi_tasks_for, limit 16, state_call, ${open} tasks`, raw);
  await timed(`InferenceApi_tasks_for, limit 1, ${open} tasks`, one);
  const page = await query();
  console.log(`page: ${page.tasks.length} tasks, next ${page.next.toString()}`);
  console.log(
    `summary: a page of 16 takes ${few.toFixed(3)} ms with 16 tasks on chain and ${many.toFixed(3)} ms with ` +
      `${open} (x${(many / few).toFixed(2)}; state_call x${(manyRaw / fewRaw).toFixed(2)}); ` +
      `${(few / base1).toFixed(1)} and ${(many / base2).toFixed(1)} times the baseline query`,
  );
} finally {
  await api.disconnect();
  await node.stop();
}
