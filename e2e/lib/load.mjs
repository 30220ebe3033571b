// Throughput of agent calls next to ordinary transfers, on one dev node, measured the way
// polkadot-stps measures a chain: every extrinsic signed beforehand (immortal, explicit nonces,
// from many accounts), all of a kind sent to the pool at once, and the blocks counted that take
// them in. Shared by the load script (e2e/bench/load.mjs) and its short form in the suite
// (e2e/test/load.test.mjs).
import { WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { u8aConcat, u8aToHex } from '@polkadot/util';
import { blake2AsHex, blake2AsU8a } from '@polkadot/util-crypto';
import { sleep } from './flood.mjs';
import { startDevNode } from './node.mjs';

const UNIT = 10n ** 12n;
export const BLOCK_SECONDS = 3;
const MODEL = blake2AsHex('load-model', 256);
/** What one open task holds of its executor's stake (the runtime's wrong-result slash). */
const COLLATERAL = 20n * UNIT;
const FEE = 10n ** 10n; // the least fee of one executor, 0.01 AGC
const PARAMS = { maxTokens: 4, temperatureMilli: 0, seed: 1, mode: 'ExactMatch' };
const COMMIT_PERIOD = 100;
/** Blocks without a new inclusion, everything sent, after which a phase ends. */
const IDLE_BLOCKS = 4;

/**
 * The calls measured, in the order they run, with the pallet and method their blocks show and
 * the weight class they fill (commits and reveals are operational: the whole block is theirs).
 */
export const KINDS = [
  ['transfer', 'balances.transferKeepAlive', 'normal'],
  ['heartbeat', 'agents.heartbeat', 'normal'],
  ['submitTask', 'inference.submitTask', 'normal'],
  ['commit', 'inference.commit', 'operational'],
  ['reveal', 'inference.reveal', 'operational'],
];

/**
 * Starts a dev node with a transaction pool large enough for a phase and runs the five phases:
 * `count` transfers, `count` heartbeats from `agents` registered agents, `tasks` tasks submitted
 * from the other accounts, then each task's commit and reveal by its executor. Returns
 * { phases: { kind: figures }, accounts, agents }; `log` receives progress lines.
 */
export async function measureThroughput({ name = 'load', count = 4000, tasks = 1000, accounts = 64, agents = 32, log = () => {} }) {
  const { node, api, connections } = await startLoadNode(name);
  try {
    const keyring = new Keyring({ type: 'ed25519', ss58Format: 42 });
    const alice = new Keyring({ type: 'sr25519', ss58Format: 42 }).addFromUri('//Alice');
    const signers = Array.from({ length: accounts }, (_, i) => keyring.addFromUri(`//load//${i}`));
    const executors = signers.slice(0, agents);
    const requesters = signers.slice(agents);
    const { nonces, sign } = presigner(api, signers);
    const blocks = blockReader(api);

    // Setup, not measured: fund every account, register the executors with stake for their
    // share of the tasks.
    const stake = (BigInt(Math.ceil(tasks / agents)) + 5n) * COLLATERAL;
    nonces.set(alice.address, (await api.rpc.system.accountNextIndex(alice.address)).toNumber());
    const funding = signers.map((s) => sign(api.tx.balances.transferKeepAlive(s.address, stake + 1_000n * UNIT), alice));
    await runPhase(api, connections, blocks, 'balances.transferKeepAlive', funding, { quiet: true });
    const registrations = executors.map((s, i) =>
      sign(api.tx.agents.register(`load-${i}`, 'http://load', '1', [MODEL], ['Executor'], stake), s),
    );
    const registered = await runPhase(api, connections, blocks, 'agents.register', registrations, { quiet: true });
    if (registered.succeeded !== agents) throw new Error(`${registered.succeeded} of ${agents} agents registered`);
    // Each requester prepays its tasks' fees and deposits (about 0.025 AGC a task here), as an
    // agent submitting tasks all day would: a submission then holds nothing of its own.
    const prepay = BigInt(Math.ceil(tasks / requesters.length)) * 3n * FEE + UNIT;
    const prepaid = await runPhase(api, connections, blocks, 'inference.prepay',
      requesters.map((s) => sign(api.tx.inference.prepay(prepay), s)), { quiet: true });
    if (prepaid.succeeded !== requesters.length) throw new Error(`${prepaid.succeeded} of ${requesters.length} requesters prepaid`);
    log(`# ${accounts} accounts funded, ${agents} executors registered, ${requesters.length} requesters prepaid`);

    const phases = {};
    // Runs the phase of one of KINDS and keeps its figures.
    const measure = async (kind, signed) => {
      const [, method, weightClass] = KINDS.find(([k]) => k === kind);
      phases[kind] = await runPhase(api, connections, blocks, method, signed, { weightClass });
      log(`# ${kind}: ${JSON.stringify(phases[kind])}`);
      return phases[kind];
    };
    const spread = (n, from, make) => Array.from({ length: n }, (_, i) => sign(make(i), from[i % from.length]));

    await measure('transfer', spread(count, signers, () => api.tx.balances.transferKeepAlive(alice.address, 1n)));
    await measure('heartbeat', spread(count, executors, () => api.tx.agents.heartbeat()));

    // Tasks: the block each was submitted in, and (from its `TaskAssigned`) its executor.
    const submitted = await measure('submitTask',
      spread(tasks, requesters, (i) => api.tx.inference.submitTask(MODEL, { Inline: `load ${i}` }, PARAMS, FEE, 1, COMMIT_PERIOD)));
    const assigned = await waitForAssignments(api, blocks, submitted.first, tasks);
    const latency = [...assigned.values()].map((a) => a.block - a.submittedAt);
    phases.submitTask.assignmentBlocks = summary(latency);
    log(`# ${assigned.size} tasks assigned, blocks from submission: ${JSON.stringify(phases.submitTask.assignmentBlocks)}`);

    // Each executor commits to and then reveals one output for each of its tasks.
    const byAddress = new Map(executors.map((s) => [s.address, s]));
    const work = [...assigned].map(([task, { executor }]) => {
      const output = `output of ${task}`;
      const outputHash = blake2AsU8a(output, 256);
      const salt = blake2AsU8a(`salt ${task}`, 256);
      const signer = byAddress.get(executor);
      const commitment = blake2AsHex(u8aConcat(outputHash, salt, signer.publicKey), 256);
      return { task, signer, output, outputHash: u8aToHex(outputHash), salt: u8aToHex(salt), commitment };
    });
    await measure('commit', work.map((w) => sign(api.tx.inference.commit(w.task, w.commitment), w.signer)));
    await measure('reveal',
      work.map((w) => sign(api.tx.inference.reveal(w.task, w.outputHash, w.salt, w.output, null), w.signer)));
    return { phases, accounts, agents };
  } finally {
    await Promise.allSettled(connections.map((p) => p.disconnect()));
    await node.stop();
  }
}

/**
 * Starts a dev node with a transaction pool large enough for a phase, and opens 4 more
 * connections to it to send extrinsics on: { node, api, connections }.
 */
export async function startLoadNode(name) {
  const node = await startDevNode(name, ['--pool-limit', '40000', '--pool-kbytes', '131072']);
  const connections = await Promise.all(
    Array.from({ length: 4 }, async () => {
      const provider = new WsProvider(node.rpcUrl);
      await provider.isReady;
      return provider;
    }),
  );
  return { node, api: node.api, connections };
}

/**
 * Signs extrinsics beforehand, immortal, with explicit nonces counted from 0 for each of
 * `signers` (set `nonces` for an account that has sent some already). `sign(tx, signer)`
 * returns { hex, address, nonce, resign(tip) }, what `runPhase` sends.
 */
export function presigner(api, signers) {
  const nonces = new Map(signers.map((s) => [s.address, 0]));
  const signing = { blockHash: api.genesisHash, genesisHash: api.genesisHash, runtimeVersion: api.runtimeVersion, era: 0 };
  const sign = (tx, signer) => {
    const nonce = nonces.get(signer.address);
    nonces.set(signer.address, nonce + 1);
    return {
      hex: tx.sign(signer, { ...signing, nonce }).toHex(),
      address: signer.address,
      nonce,
      // Signed again with a tip: another hash, which a pool that dropped (and banned) the
      // first does not refuse.
      resign: (tip) => tx.sign(signer, { ...signing, nonce, tip }).toHex(),
    };
  };
  return { nonces, sign };
}

/**
 * Sends every signed extrinsic of `signed` ({ hex, address, nonce, resign }, all of method
 * `method`) to the pool, as fast as it takes them, and follows the blocks until all are in.
 * Returns the figures: how many were sent, refused by the pool (sent again later), included,
 * succeeded; the blocks that included them; and the rate in the blocks that took all they could
 * (`full`: whose weight of the call's class, or whose whole weight, reached 90 % of its limit),
 * in extrinsics a block and a second. When no block was full, `rate.saturated` is false and the
 * rate is the fullest block's count: a lower bound, set by how fast the script sent them.
 *
 * A pool under this load can lose transactions it accepted; every later one of the same account
 * then waits on the missing nonce. When no block includes any for IDLE_BLOCKS blocks, those whose
 * nonce the chain has not reached are signed again with a tip (another hash: the pool may have
 * banned the first) and sent (at most 3 times), as a wallet would: `resent` counts them.
 */
export async function runPhase(api, connections, blocks, method, signed, { quiet = false, weightClass = 'normal' } = {}) {
  // A new block first: the pool then validates against a state that holds the last phase's
  // transactions (validated against an older one, a whole phase of an account's transactions
  // waits as "future", whose part of the pool is a tenth of its size, and some are dropped).
  const before = (await api.rpc.chain.getHeader()).number.toNumber();
  while ((await api.rpc.chain.getHeader()).number.toNumber() <= before) await sleep(200);
  await sleep(500);
  const start = (await api.rpc.chain.getHeader()).number.toNumber();
  // No phase may run longer than this, whatever the chain does.
  const deadline = Date.now() + 120_000 + 30 * signed.length;
  let refused = 0;
  let resent = 0;
  const errors = new Map();
  const send = async (list, tip) => {
    let next = 0;
    const senders = connections.flatMap((provider) =>
      Array.from({ length: 16 }, async () => {
        while (next < list.length) {
          const tx = list[next++];
          try {
            await provider.send('author_submitExtrinsic', [tip ? tx.resign(tip) : tx.hex]);
          } catch (error) {
            const message = String(error?.message ?? error).slice(0, 120);
            // Resent, but in the pool already or in a block since: nothing lost.
            if (tip && /already imported|1013|outdated|stale/i.test(message)) continue;
            refused += 1;
            errors.set(message, (errors.get(message) ?? 0) + 1);
          }
        }
      }),
    );
    await Promise.all(senders);
    return (await api.rpc.chain.getHeader()).number.toNumber();
  };
  await send(signed, 0n);
  let resends = 0;

  let included = 0;
  let succeeded = 0;
  let last = start;
  let progressAt = start;
  const perBlock = [];
  while (included < signed.length) {
    if (Date.now() > deadline) {
      throw new Error(`${method}: ${included} of ${signed.length} included when the phase's time ran out`);
    }
    const best = (await api.rpc.chain.getHeader()).number.toNumber();
    while (last < best) {
      last += 1;
      const block = await blocks.read(last);
      const counts = block.get(method) ?? { included: 0, succeeded: 0 };
      if (counts.included > 0) progressAt = last;
      included += counts.included;
      succeeded += counts.succeeded;
      // The hooks' weight in the block (the mandatory class), in ms.
      const hooksMs = Number(block.weight.mandatory / 100_000_000n) / 10;
      perBlock.push([last, counts.included, blocks.full(block, weightClass), hooksMs]);
    }
    if (included < signed.length && last - progressAt >= IDLE_BLOCKS) {
      if (resends === 3) break;
      // Nonces as of the last block read: what it has not included is pending.
      const at = await api.rpc.chain.getBlockHash(last);
      const onChain = new Map();
      for (const address of new Set(signed.map((tx) => tx.address))) {
        onChain.set(address, (await api.query.system.account.at(at, address)).nonce.toNumber());
      }
      const pending = signed.filter((tx) => tx.nonce >= onChain.get(tx.address));
      resends += 1;
      resent += pending.length;
      progressAt = await send(pending, BigInt(resends));
    }
    await sleep(250);
  }
  const inclusions = perBlock.filter(([, n]) => n > 0);
  const first = inclusions.length ? inclusions[0][0] : null;
  const full = inclusions.filter(([, , isFull]) => isFull);
  const maxPerBlock = Math.max(0, ...inclusions.map(([, n]) => n));
  const perBlockRate = full.length ? full.reduce((sum, [, n]) => sum + n, 0) / full.length : maxPerBlock;
  const figures = {
    sent: signed.length,
    refused,
    resent,
    included,
    succeeded,
    first,
    blocks: inclusions.length,
    maxPerBlock,
    // Each block that included some: how many, and the hooks' weight in it (ms).
    inBlocks: inclusions.map(([, n, , hooksMs]) => `${n} (hooks ${hooksMs} ms)`),
    rate: {
      perBlock: Math.round(perBlockRate),
      perSecond: Math.round(perBlockRate / BLOCK_SECONDS),
      saturated: full.length > 0,
      blocks: full.length,
    },
  };
  if (errors.size) figures.errors = Object.fromEntries(errors);
  if (!quiet && included < signed.length) figures.missing = signed.length - included;
  return figures;
}

/**
 * Reads blocks once each: for each block number, a Map from `pallet.method` to the extrinsics
 * of that method it includes, how many of them succeeded, their encoded bytes and the weight
 * (ref time, ps) they were charged. Also keeps its events and the block's weight by class.
 */
export function blockReader(api) {
  const cache = new Map();
  const limits = api.consts.system.blockWeights;
  const max = {
    block: limits.maxBlock.refTime.toBigInt(),
    normal: limits.perClass.normal.maxTotal.unwrap().refTime.toBigInt(),
    operational: limits.perClass.operational.maxTotal.unwrap().refTime.toBigInt(),
  };
  const reached = (used, limit) => used * 10n >= limit * 9n;
  return {
    /** Whether a block read took all it could: its weight of `weightClass`, or its whole weight, at 90 % of the limit. */
    full(counts, weightClass) {
      const w = counts.weight;
      return reached(w[weightClass], max[weightClass]) || reached(w.normal + w.operational + w.mandatory, max.block);
    },
    /** A block read already, or undefined. */
    cached(number) {
      return cache.get(number);
    },
    async read(number) {
      if (!cache.has(number)) {
        const hash = await api.rpc.chain.getBlockHash(number);
        const [block, events, weight] = await Promise.all([
          api.rpc.chain.getBlock(hash),
          api.query.system.events.at(hash),
          api.query.system.blockWeight.at(hash),
        ]);
        const counts = new Map();
        const methods = block.block.extrinsics.map((x) => `${x.method.section}.${x.method.method}`);
        block.block.extrinsics.forEach((x, i) => {
          const c = counts.get(methods[i]) ?? { included: 0, succeeded: 0, bytes: 0, weight: 0n };
          c.included += 1;
          c.bytes += x.encodedLength;
          counts.set(methods[i], c);
        });
        for (const { phase, event } of events) {
          if (phase.isApplyExtrinsic && api.events.system.ExtrinsicSuccess.is(event)) {
            const c = counts.get(methods[phase.asApplyExtrinsic.toNumber()]);
            c.succeeded += 1;
            c.weight += event.data.dispatchInfo.weight.refTime.toBigInt();
          }
        }
        counts.events = events;
        counts.weight = {
          normal: weight.normal.refTime.toBigInt(),
          operational: weight.operational.refTime.toBigInt(),
          mandatory: weight.mandatory.refTime.toBigInt(),
        };
        cache.set(number, counts);
      }
      return cache.get(number);
    },
  };
}

/** Follows blocks from `from` until `tasks` tasks were assigned; returns task → {executor, block, submittedAt}. */
async function waitForAssignments(api, blocks, from, tasks) {
  const assigned = new Map();
  const submittedAt = new Map();
  let last = from - 1;
  const deadline = Date.now() + 300_000;
  while (assigned.size < tasks) {
    if (Date.now() > deadline) throw new Error(`only ${assigned.size} of ${tasks} tasks assigned`);
    const best = (await api.rpc.chain.getHeader()).number.toNumber();
    while (last < best) {
      last += 1;
      for (const { event } of (await blocks.read(last)).events) {
        if (api.events.inference.TaskSubmitted.is(event)) submittedAt.set(event.data.task.toNumber(), last);
        if (api.events.inference.TaskAssigned.is(event)) {
          const task = event.data.task.toNumber();
          assigned.set(task, { executor: event.data.executors[0].toString(), block: last, submittedAt: submittedAt.get(task) });
        }
      }
    }
    await sleep(500);
  }
  return assigned;
}

function summary(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    min: sorted[0],
    median: sorted[Math.floor(sorted.length / 2)],
    max: sorted[sorted.length - 1],
  };
}

/** The table the load script prints: each call's rate and its ratio to the transfer's. */
export function throughputTable(phases) {
  const base = phases.transfer.rate.perSecond;
  const lines = [
    '| call | sent | included (succeeded) | blocks | max a block | extrinsics/s | × transfer |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const [kind, method] of KINDS) {
    const p = phases[kind];
    const bound = p.rate.saturated ? '' : ' ≥';
    const ratio = base ? (p.rate.perSecond / base).toFixed(2) : '–';
    lines.push(`| \`${method}\` | ${p.sent} | ${p.included} (${p.succeeded}) | ${p.blocks} | ${p.maxPerBlock} | ${bound}${p.rate.perSecond} | ${ratio} |`);
  }
  return lines.join('\n');
}
