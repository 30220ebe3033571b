// What the chain costs per inference when inferences come in batches, on one dev node, next to a
// transfer measured in the same run. For each batch size: batches pre-signed from many requesters
// and sent at once (`inference.submitTask` with a `Batch` input), each drawn executor's commit and
// reveal of an outputs root sent at once, then every block followed until each batch is finalised
// at its window's end. The executors are the script's own accounts (no model runs: the chain's
// cost of a batch does not depend on its outputs). Counts, from the blocks themselves, the bytes
// and the weight every batch's extrinsics were charged and the weight of the hooks that drew,
// compared and finalised them (each block's mandatory weight above an idle block's), and divides
// by the inferences. Shared by the load script (e2e/bench/batches.mjs) and its short form in the
// suite (e2e/test/load.test.mjs). See docs/benchmarks.md.
import { Keyring } from '@polkadot/keyring';
import { hexToU8a, u8aConcat, u8aToHex } from '@polkadot/util';
import { blake2AsHex, blake2AsU8a } from '@polkadot/util-crypto';
import { sleep } from './flood.mjs';
import { BLOCK_SECONDS, blockReader, presigner, runPhase, startLoadNode } from './load.mjs';
import { jurorsForABatch, turnBatchesOn } from './node.mjs';

const UNIT = 10n ** 12n;
const MODEL = blake2AsHex('batch-load-model', 256);
const PARAMS = { maxTokens: 1, temperatureMilli: 0, seed: 1, mode: 'ExactMatch' };
/** The least commit period the script asks: it commits as soon as all are drawn. */
const MIN_COMMIT_PERIOD = 10;
const EXECUTOR_STAKE = 2_000n * UNIT;
const VERIFIER_STAKE = 100n * UNIT;
const METHODS = ['inference.submitTask', 'inference.commit', 'inference.reveal', 'inference.revealAuditSecret'];

/**
 * Starts a dev node, turns batches on (root's `BatchesTaken`), registers `executors` batch
 * executors and enough verifiers for a batch's juries, measures `transfers` transfers, then runs
 * `batches` batches of each size of `sizes`. Returns { transfer, sizes: [figures] }.
 */
export async function measureBatches({
  name = 'batch-load',
  sizes = [1, 100, 1024],
  batches = 64,
  transfers = 2000,
  requesters = 16,
  executors = 32,
  log = () => {},
}) {
  const { node, api, connections } = await startLoadNode(name);
  try {
    const consts = api.consts;
    const sr = new Keyring({ type: 'sr25519', ss58Format: 42 });
    const alice = sr.addFromUri('//Alice');
    const keyring = new Keyring({ type: 'ed25519', ss58Format: 42 });
    // The verifiers a batch needs at submission: every jury of its disputes, and one per executor.
    const jurorsNeeded = jurorsForABatch(api) + 1;
    const payers = Array.from({ length: requesters }, (_, i) => keyring.addFromUri(`//batch-load//requester//${i}`));
    const agents = Array.from({ length: executors }, (_, i) => keyring.addFromUri(`//batch-load//executor//${i}`));
    const verifiers = Array.from({ length: jurorsNeeded + 4 }, (_, i) => keyring.addFromUri(`//batch-load//verifier//${i}`));
    const signers = [...payers, ...agents, ...verifiers];
    const { nonces, sign } = presigner(api, signers);
    const blocks = blockReader(api);

    // Setup, not measured: batches on, accounts funded, executors and verifiers registered.
    const on = await turnBatchesOn(api, alice);
    if (on.dispatchError) throw new Error(`batches not turned on: ${on.dispatchError}`);
    nonces.set(alice.address, (await api.rpc.system.accountNextIndex(alice.address)).toNumber());
    const funding = signers.map((s) => sign(api.tx.balances.transferKeepAlive(s.address, EXECUTOR_STAKE + 1_000n * UNIT), alice));
    await runPhase(api, connections, blocks, 'balances.transferKeepAlive', funding, { quiet: true });
    const registrations = [
      ...agents.map((s, i) => sign(api.tx.agents.register(`batch-executor-${i}`, 'http://load', '1', [MODEL], ['BatchExecutor'], EXECUTOR_STAKE), s)),
      ...verifiers.map((s, i) => sign(api.tx.agents.register(`batch-verifier-${i}`, 'http://load', '1', [MODEL], ['Verifier'], VERIFIER_STAKE), s)),
    ];
    const registered = await runPhase(api, connections, blocks, 'agents.register', registrations, { quiet: true });
    if (registered.succeeded !== registrations.length) throw new Error(`${registered.succeeded} of ${registrations.length} agents registered`);
    // The script's executors run no model (they commit at once): each declares the most batch
    // speed, so that a draw takes it for as many batches as its stake backs, whatever their commit
    // periods (runtime spec 129 counts an executor's open batches against its speed).
    const speeds = agents.map((s) => sign(api.tx.agents.setBatchSpeed(10_000), s));
    const sped = await runPhase(api, connections, blocks, 'agents.setBatchSpeed', speeds, { quiet: true });
    if (sped.succeeded !== speeds.length) throw new Error(`${sped.succeeded} of ${speeds.length} batch speeds set`);
    log(`# ${payers.length} requesters, ${agents.length} batch executors and ${verifiers.length} verifiers`);

    // The baseline: transfers, sent at once.
    const transferPhase = await runPhase(
      api, connections, blocks, 'balances.transferKeepAlive',
      Array.from({ length: transfers }, (_, i) => sign(api.tx.balances.transferKeepAlive(alice.address, 1n), signers[i % signers.length])),
    );
    const transfer = { ...transferPhase, ...methodTotals(blocks, transferPhase.first, transferPhase.first + transferPhase.blocks + 4, ['balances.transferKeepAlive']) };
    log(`# transfer: ${JSON.stringify(transferPhase.rate)}, ${transfer.bytes / transfer.count} bytes, ${transfer.weight / BigInt(transfer.count) / 1_000_000n} µs each`);

    const results = [];
    for (const items of sizes) {
      // Every agent seen lately, so that the draws and the jury check find them (LivenessPeriod).
      await runPhase(api, connections, blocks, 'agents.heartbeat', [...agents, ...verifiers].map((s) => sign(api.tx.agents.heartbeat(), s)), { quiet: true });
      const idle = await idleHooks(api, blocks);

      const shortest = Math.ceil(items / consts.inference.itemsPerBlock.toNumber()) + Math.ceil((items * PARAMS.maxTokens) / consts.inference.tokensPerBlock.toNumber());
      const commitPeriod = Math.max(shortest, MIN_COMMIT_PERIOD);
      const fee = [
        consts.inference.minFeePerExecutor.toBigInt(),
        consts.inference.minFeePerItem.toBigInt() * BigInt(items),
        consts.inference.minFeePerSeatBlock.toBigInt() * BigInt(commitPeriod),
      ].reduce((a, b) => (b > a ? b : a));
      const tag = `${items}-${Date.now()}`;
      const submissions = Array.from({ length: batches }, (_, i) => {
        const input = {
          Batch: {
            root: blake2AsHex(`inputs ${tag} ${i}`, 256),
            uri: `http://batch-load/inputs/${tag}/${i}.json`,
            items,
            auditCommitment: blake2AsHex(hexToU8a(auditSecretOf(blake2AsHex(`inputs ${tag} ${i}`, 256))), 256),
          },
        };
        return sign(api.tx.inference.submitTask(MODEL, input, PARAMS, fee, 1, commitPeriod), payers[i % payers.length]);
      });
      const submitted = await runPhase(api, connections, blocks, 'inference.submitTask', submissions, { quiet: true });
      if (submitted.succeeded !== batches) throw new Error(`${submitted.succeeded} of ${batches} batches of ${items} taken`);
      const assigned = await waitForBatchEvents(api, blocks, submitted.first, batches, 'TaskAssigned');
      const byAddress = new Map(agents.map((s) => [s.address, s]));
      const work = [...assigned].map(([task, { event }]) => {
        const signer = byAddress.get(event.data.executors[0].toString());
        const root = blake2AsU8a(`outputs ${task}`, 256);
        const salt = blake2AsU8a(`salt ${task}`, 256);
        const commitment = blake2AsHex(u8aConcat(root, salt, signer.publicKey), 256);
        return { task, signer, root: u8aToHex(root), salt: u8aToHex(salt), commitment };
      });
      const committed = await runPhase(api, connections, blocks, 'inference.commit',
        work.map((w) => sign(api.tx.inference.commit(w.task, w.commitment), w.signer)), { quiet: true, weightClass: 'operational' });
      const revealed = await runPhase(api, connections, blocks, 'inference.reveal',
        work.map((w) => sign(api.tx.inference.reveal(w.task, w.root, w.salt, null, `http://batch-load/outputs/${w.task}.json`), w.signer)),
        { quiet: true, weightClass: 'operational' });
      if (committed.succeeded !== batches || revealed.succeeded !== batches) {
        throw new Error(`batches of ${items}: ${committed.succeeded} commits and ${revealed.succeeded} reveals of ${batches} succeeded`);
      }
      // At each window's end its requester reveals its audit secret (part of what a batch costs).
      const window = consts.inference.challengePeriod.toNumber() + Math.floor(commitPeriod / 4);
      const awaited = await waitForBatchEvents(api, blocks, revealed.first, batches, 'AuditSecretAwaited', { timeoutMs: (window + 40) * BLOCK_SECONDS * 2_000 });
      const byRequester = new Map(payers.map((s) => [s.address, s]));
      const secrets = [];
      for (const task of awaited.keys()) {
        const record = (await api.query.inference.tasks(task)).unwrap();
        const secret = auditSecretOf(record.input.asBatch.root.toHex());
        secrets.push(sign(api.tx.inference.revealAuditSecret(task, secret), byRequester.get(record.requester.toString())));
      }
      const secretsRevealed = await runPhase(api, connections, blocks, 'inference.revealAuditSecret', secrets, { quiet: true, weightClass: 'operational' });
      if (secretsRevealed.succeeded !== batches) throw new Error(`${secretsRevealed.succeeded} of ${batches} audit secrets revealed`);
      // Every batch to its end: finalised, or audited (5 %, drawn from its secret and a block
      // hash; the script's executors show nothing, so those are left out of the figures).
      const ended = await waitForBatchEvents(api, blocks, revealed.first, batches, 'TaskFinalised', { audits: true, timeoutMs: 120 * BLOCK_SECONDS * 1_000 });
      const finalised = [...ended.values()].filter((e) => e.kind === 'TaskFinalised');
      const last = Math.max(...[...ended.values()].map((e) => e.block));
      const totals = methodTotals(blocks, submitted.first, last, METHODS);
      let hooks = 0n;
      for (let n = submitted.first; n <= last; n++) {
        const mandatory = (await blocks.read(n)).weight.mandatory;
        if (mandatory > idle) hooks += mandatory - idle;
      }
      // Inferences settled in each block: the items of the batches it finalised.
      const settledIn = new Map();
      for (const e of finalised) settledIn.set(e.block, (settledIn.get(e.block) ?? 0) + items);
      const submittedAt = new Map([...assigned].map(([task, a]) => [task, a.submittedAt]));
      const latency = finalised.map((e) => e.block - submittedAt.get(e.task)).sort((a, b) => a - b);
      const inferences = BigInt(batches * items);
      const figures = {
        items,
        batches,
        fee: fee.toString(),
        commitPeriod,
        finalised: finalised.length,
        audited: batches - finalised.length,
        bytesPerBatch: totals.bytes / batches,
        extrinsicsMicrosPerBatch: Number(totals.weight / BigInt(batches) / 1_000_000n),
        hooksMicrosPerBatch: Number(hooks / BigInt(batches) / 1_000_000n),
        bytesPerInference: totals.bytes / (batches * items),
        picosPerInference: (totals.weight + hooks) / inferences,
        maxSettledInABlock: Math.max(0, ...settledIn.values()),
        blocksToFinalised: latency.length ? latency[Math.floor(latency.length / 2)] : null,
        blocks: last - submitted.first + 1,
      };
      log(`# batches of ${items}: ${JSON.stringify(figures, (k, v) => (typeof v === 'bigint' ? v.toString() : v))}`);
      results.push(figures);
    }
    const limits = {
      weight: consts.system.blockWeights.maxBlock.refTime.toBigInt(),
      bytes: consts.system.blockLength.max.normal.toNumber(),
    };
    return { transfer, sizes: results, limits };
  } finally {
    await Promise.allSettled(connections.map((p) => p.disconnect()));
    await node.stop();
  }
}

/** The audit secret of the script's batch whose inputs root is `root`. */
function auditSecretOf(root) {
  return blake2AsHex(`audit secret of ${root}`, 256);
}

/** The extrinsics of `methods` in blocks `from..=to`: how many, their bytes and their weight. */
function methodTotals(blocks, from, to, methods) {
  let count = 0;
  let bytes = 0;
  let weight = 0n;
  for (let n = from; n <= to; n++) {
    const block = blocks.cached(n);
    if (!block) continue;
    for (const m of methods) {
      const c = block.get(m);
      if (!c) continue;
      count += c.included;
      bytes += c.bytes;
      weight += c.weight;
    }
  }
  return { count, bytes, weight };
}

/** The hooks' weight of a block with nothing due (the timestamp's inherent and the hooks' reads): the least of three. */
async function idleHooks(api, blocks) {
  const start = (await api.rpc.chain.getHeader()).number.toNumber();
  while ((await api.rpc.chain.getHeader()).number.toNumber() < start + 3) await sleep(500);
  let least = null;
  for (let n = start + 1; n <= start + 3; n++) {
    const w = (await blocks.read(n)).weight.mandatory;
    if (least === null || w < least) least = w;
  }
  return least;
}

/**
 * Follows blocks from `from` until `count` batches had event `method` of the inference pallet
 * (or, with `audits`, an audit opened); returns task → { kind, block, event, submittedAt }.
 */
async function waitForBatchEvents(api, blocks, from, count, method, { audits = false, timeoutMs = 300_000 } = {}) {
  const seen = new Map();
  const submittedAt = new Map();
  let last = from - 1;
  const deadline = Date.now() + timeoutMs;
  while (seen.size < count) {
    if (Date.now() > deadline) throw new Error(`only ${seen.size} of ${count} batches had ${method}`);
    const best = (await api.rpc.chain.getHeader()).number.toNumber();
    while (last < best) {
      last += 1;
      for (const { event } of (await blocks.read(last)).events) {
        if (api.events.inference.TaskSubmitted.is(event)) submittedAt.set(event.data.task.toNumber(), last);
        if (api.events.inference.TaskExpired.is(event)) throw new Error(`batch ${event.data.task} expired`);
        const task = event.data.task?.toNumber?.();
        if (task === undefined || seen.has(task)) continue;
        if (event.section === 'inference' && event.method === method) {
          seen.set(task, { kind: method, block: last, event, submittedAt: submittedAt.get(task), task });
        } else if (audits && api.events.challenges.DisputeOpened.is(event) && event.data.kind.isAudit) {
          seen.set(task, { kind: 'audit', block: last, event, task });
        }
      }
    }
    await sleep(500);
  }
  return seen;
}

/** The table the batch load script prints: each size's cost per inference, next to a transfer's. */
export function batchTable({ transfer, sizes, limits }) {
  const micros = (ps) => (Number(ps) / 1e6).toFixed(ps < 10_000_000n ? 3 : 1);
  const transferPs = transfer.weight / BigInt(transfer.count);
  const lines = [
    `baseline: \`balances.transfer_keep_alive\`, ${transfer.rate.saturated ? '' : '≥ '}${transfer.rate.perBlock} a block, ${Math.round(transfer.bytes / transfer.count)} bytes and ${micros(transferPs)} µs each`,
    '',
    '| items a batch | batches (audited) | bytes a batch | µs a batch: extrinsics + hooks | bytes an inference | µs an inference | × transfer | inferences a block (weight; bytes) | settled in one block, seen | blocks submit → final |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const s of sizes) {
    const byWeight = limits.weight / s.picosPerInference;
    const byBytes = Math.floor(limits.bytes / s.bytesPerInference);
    lines.push(
      `| ${s.items} | ${s.batches} (${s.audited}) | ${Math.round(s.bytesPerBatch)} | ${s.extrinsicsMicrosPerBatch} + ${s.hooksMicrosPerBatch} | ${s.bytesPerInference.toFixed(2)} | ` +
        `${micros(s.picosPerInference)} | ${(Number(s.picosPerInference) / Number(transferPs)).toFixed(3)} | ` +
        `${byWeight.toLocaleString('en')}; ${byBytes.toLocaleString('en')} | ${s.maxSettledInABlock} | ${s.blocksToFinalised} |`,
    );
  }
  return lines.join('\n');
}
