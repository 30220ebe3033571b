// A batched inference task, end to end on a real dev node, at any size: Alice's agent node
// (BatchExecutor, `--inference-outputs-url`) runs a batch of `items` items against the reference
// inference server, by itself: it fetches the inputs document Bob published, checks it against the
// batch's root, runs the items (as many a block as its runs' time allows), publishes
// its outputs document and commits then reveals the Merkle root of its outputs. Its endpoint lies
// on exactly one item (`only_prompt` of `PUT /admin/fault`). Bob challenges that item
// (`challenges.challengeItem`); Alice's node shows the item's input and output hash by itself; a
// jury of three verifiers, who sign from polkadot.js, re-executes the item (the test asks the
// honest server) and votes; Alice's root is found wrong on the item and slashed an item's price,
// the batch goes back to its window, and at its end Alice is paid her share less that one item
// (less the protocol cut) and Bob refunded the item: the requester pays only for correct work.
// (An audit drawn at the window's end, 5 % of runs, is judged the same way.) Batches are off until
// root turns them on (the storage parameter `BatchesTaken`): the test sees one refused, then turns
// them on with sudo. See docs/batches.md.
//
// Run at 24 items in the suite (e2e/test/batches.test.mjs) and at 1,000 outside it
// (e2e/long/batch-of-1000.test.mjs, scripts/long-e2e.sh).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Keyring } from '@polkadot/keyring';
import { hexToU8a, u8aToHex, u8aToString } from '@polkadot/util';
import { blake2AsHex, cryptoWaitReady, randomAsHex } from '@polkadot/util-crypto';
import { itemHash, merkleRoot } from './merkle.mjs';
import {
  blockNumberOf,
  eventSince,
  jurorsForABatch,
  sendInBlock,
  startDevNode,
  startInferenceServer,
  turnBatchesOn,
} from './node.mjs';
import { startFlood, untilFull, watchBlocks } from './flood.mjs';
import {
  MODEL,
  MODEL_NAME,
  UNIT,
  VERIFIER_STAKE,
  completion,
  itemSlashOf,
  max,
  min,
  perbillOf,
  sendVote,
  setFault,
  voteCommitment,
} from './jury.mjs';
import { TIP } from './liveness.mjs';
import { startEdge } from './edge.mjs';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { runCli } from './cli.mjs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// An item's call to Alice's endpoint while her edge agent runs the first items, in ms: slow
// enough to kill it between two items, well before the lie.
const EDGE_ITEM_DELAY_MS = 300;

/** The value of the SCALE compact integer at `bytes[at]`, and how many bytes it takes (below 2^30). */
function compactLength(bytes, at) {
  const mode = bytes[at] & 3;
  if (mode === 0) return [bytes[at] >> 2, 1];
  if (mode === 1) return [(bytes[at] | (bytes[at + 1] << 8)) >> 2, 2];
  if (mode === 2) return [(bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 2, 4];
  throw new Error(`a compact length of 2^30 or more at byte ${at}: not an output's`);
}

// Items a root's collateral reserves an item slash for (`MAX_ITEMS_FOUND_WRONG`, primitives).
const MAX_ITEMS_FOUND_WRONG = 15n;

const SUBJECTS = [
  'the river', 'the market', 'the harbour', 'the old lighthouse', 'the baker', 'the ledger', 'the bridge', 'the rain',
];
const VERBS = ['carries', 'was', 'gives'];

// Blocks from an item dispute's opening to the block that holds a showing, at most: the node's
// run after the opening's block sends it and the next block takes it (1 at idle), a flood costs
// a block more (the pool's lagging view, docs/liveness.md), and one more is margin.
const MAX_SHOWING_BLOCKS = 3;


/**
 * The batch of the suite (e2e/test/batches.test.mjs), also run under a flood outside it
 * (e2e/long/batch-showing-under-flood.test.mjs): 24 items, three blocks of `ItemsPerBlock` (8)
 * endpoint calls for the chain, one run for the node; 8 tokens each; the lie on item 13.
 */
export const BATCH_OF_24 = {
  items: 24,
  lie: 13,
  maxTokens: 8,
  // At least ⌈N / ItemsPerBlock⌉ + ⌈N × max_tokens / TokensPerBlock⌉ = 3 + 3 = 6 blocks, at most
  // twice that or MaxCommitPeriod (100); 16 leaves a busy machine room. The window is
  // ChallengePeriod + commit_period / 4 = 20 + 4 blocks.
  commitPeriod: 16,
  // 0.01 AGC an item (a single task's minimum fee): above the batch minimum of max(MinFeePerExecutor
  // 0.01, MinFeePerItem 0.0015 × 24, MinFeePerSeatBlock 0.0001 × 16) = 0.036 AGC.
  fee: 240n * 10n ** 9n,
  // Collateral 65 AGC (20 AGC + 15 items × an item slash of 3 AGC); 200 AGC covers it and its slash.
  aliceStake: 200n * UNIT,
};

/**
 * Declares the test of a batch of `items` items whose item `lie` Alice's endpoint lies on, with
 * `maxTokens` tokens an item, submitted with `commitPeriod` blocks to commit and a fee of `fee`
 * (planck), Alice staking `aliceStake`; `name` names the node's and the server's logs.
 *
 * With `flood`, 32 accounts flood ordinary transfers (e2e/lib/flood.mjs) from before Bob's
 * challenge until the item dispute closes, every block full: Alice's node's showings, a duty of
 * the dispute's executor, still land within `MAX_SHOWING_BLOCKS` of the dispute's opening, and
 * Bob's challenge and the jurors' votes get in (the challenge with a tip of a millionth of an AGC,
 * as any ordinary transaction in a flood needs).
 */
export function describeBatchWithALie({ name, items: ITEMS, lie: LIE, maxTokens: MAX_TOKENS, commitPeriod: COMMIT_PERIOD, fee: FEE, aliceStake: ALICE_STAKE, timeoutMs, flood: FLOOD = false, edge: EDGE = false }) {
  const PARAMS = { maxTokens: MAX_TOKENS, temperatureMilli: 0, seed: 11, mode: 'ExactMatch' };
  // Distinct prompts, each naming its item.
  const PROMPTS = Array.from(
    { length: ITEMS },
    (_, i) => `Item ${i}: ${SUBJECTS[i % SUBJECTS.length]} ${VERBS[Math.floor(i / SUBJECTS.length) % VERBS.length]}`,
  );
  // The time a batch's commit period lasts, with room for everything else.
  const waitMs = (blocks) => 60_000 + blocks * 3_000 * 2;

  const executorName = EDGE ? 'an edge agent' : 'an agent node';
describe(`batches: ${executorName} runs a batch of ${ITEMS} items, lies on one, and a challenge of that item slashes it`, { timeout: timeoutMs }, () => {
  let server;
  let jurorServer;
  const edges = new Map();
  const edgeArgs = new Map();
  let node;
  let api;
  let alice;
  let aliceOperator;
  let bob;
  let verifiers;
  let jurorsNeeded;

  before(async () => {
    await cryptoWaitReady();
    const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
    alice = keyring.addFromUri('//Alice');
    aliceOperator = keyring.addFromUri('//Alice//operator');
    bob = keyring.addFromUri('//Bob');
    server = await startInferenceServer(`${name}-endpoint`, ['--model', MODEL_NAME, '--admin', '--documents']);
    if (EDGE) {
      // A node that runs no endpoint: Alice's work is her edge agent's, and the jurors' their
      // edge agents', against a server of their own (the honest model).
      node = await startDevNode(name);
      jurorServer = await startInferenceServer(`${name}-jurors`, ['--model', MODEL_NAME]);
    } else {
      // `--dev` is Alice's node: it authors blocks, inserts the operator key //Alice//operator,
      // and publishes the outputs of its batches in the server's document store.
      node = await startDevNode(name, [
        '--inference-endpoint', server.baseUrl,
        '--inference-model', MODEL_NAME,
        '--inference-outputs-url', `${server.url}/documents/`,
      ]);
    }
    api = node.api;

    // The verifiers a batch needs at submission: every jury of its disputes, and one per executor.
    jurorsNeeded = jurorsForABatch(api);
    const redundancy = 1;
    verifiers = Array.from({ length: jurorsNeeded + redundancy }, (_, i) => keyring.addFromUri(`//Verifier//${i}`));
    console.log(`# ${verifiers.length} verifiers: ${jurorsNeeded} for a jury and its appeals, ${redundancy} for the executor`);

    // Alice funds the verifiers, registers her agent as a batch executor of the model (batches
    // are drawn from BatchExecutors only) and names her node's operator key: one nonce after
    // the other, sent at once. The runtime has no utility pallet to batch them.
    const nonce = (await api.rpc.system.accountNextIndex(alice.address)).toNumber();
    const funded = verifiers.map((verifier, i) =>
      sendInBlock(api, api.tx.balances.transferKeepAlive(verifier.address, VERIFIER_STAKE + 10n * UNIT), alice, {
        nonce: nonce + i,
      }),
    );
    const registered = sendInBlock(
      api,
      api.tx.agents.register('alice-batches', server.baseUrl, '1', [MODEL], ['BatchExecutor'], ALICE_STAKE),
      alice,
      { nonce: nonce + verifiers.length },
    );
    const named = sendInBlock(api, api.tx.agents.setOperator(aliceOperator.address), alice, {
      nonce: nonce + verifiers.length + 1,
    });
    for (const result of await Promise.all([...funded, registered, named])) assert.equal(result.dispatchError, null);
    // Then the operator accepts, and the verifiers register for the model.
    const rest = await Promise.all([
      sendInBlock(api, api.tx.agents.acceptOperator(alice.address), aliceOperator),
      ...verifiers.map((verifier, i) =>
        sendInBlock(
          api,
          api.tx.agents.register(`verifier-${i}`, 'http://verifier', '1', [MODEL], ['Verifier'], VERIFIER_STAKE),
          verifier,
        ),
      ),
    ]);
    for (const result of rest) assert.equal(result.dispatchError, null);
    if (EDGE) {
      // Alice's edge agent, with her node's operator key, publishing outputs in the same store.
      edgeOf('alice', [
        '--operator-key', '//Alice//operator', '--endpoint', server.baseUrl, '--model', MODEL_NAME,
        '--outputs-url', `${server.url}/documents`,
      ]);
    }
  });

  after(async () => {
    for (const edge of edges.values()) await edge.stop();
    if (node) await node.stop();
    if (server) await server.stop();
    if (jurorServer) await jurorServer.stop();
  });

  /** The edge agent named `who`, started with `args` (and a state directory of its own) if it is not running. */
  function edgeOf(who, args) {
    if (!edges.has(who)) {
      const stateDir = mkdtempSync(join(tmpdir(), `agentchain-${name}-${who}-`));
      edgeArgs.set(who, [...args, '--state-dir', stateDir]);
      edges.set(who, startEdge(`${name}-${who}`, node.rpcUrl, edgeArgs.get(who)));
    }
    return edges.get(who);
  }

  /** Starts the edge agent `who` again, on the same state (the one before is stopped or killed). */
  function restartEdge(who) {
    edges.set(who, startEdge(`${name}-${who}-restarted`, node.rpcUrl, edgeArgs.get(who)));
    return edges.get(who);
  }

  /**
   * Resolves, with their number, once Alice's edge agent keeps at least `count` outputs of batch
   * `id` on disk (records of `cli/src/edge/batch.rs`: a compact length, the output, its hash).
   */
  async function untilKept(id, count) {
    const stateDir = edgeArgs.get('alice').at(-1);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const dirs = existsSync(join(stateDir, 'batches')) ? readdirSync(join(stateDir, 'batches')) : [];
      const dir = dirs.find((d) => d.startsWith(`${id}-`));
      const file = dir && join(stateDir, 'batches', dir, 'outputs.scale');
      let kept = 0;
      if (file && existsSync(file)) {
        const bytes = readFileSync(file);
        for (let at = 0; at < bytes.length; kept += 1) {
          const [length, read] = compactLength(bytes, at);
          at += read + length + 32;
          if (at > bytes.length) break;
        }
        if (kept >= count) return kept;
      }
      assert.ok(Date.now() < deadline, `Alice's edge agent kept ${kept} outputs of batch ${id} within a minute`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  const isEvent = (section, method, id) => (event) =>
    event.section === section && event.method === method && event.data.task.toNumber() === id;
  /** Any of the inference pallet's events `methods` about task `id`. */
  const isInference = (id, ...methods) => (event) => methods.some((method) => isEvent('inference', method, id)(event));

  /**
   * Follows the item dispute over batch `id` opened at or after block `fromBlock`: Alice's node
   * shows the item's input and her root's output hash of it by itself; the first jury, drawn from
   * the verifiers, commits to and reveals the honest output hash of the item (`honestHashes`).
   * Resolves with what happened, once the dispute closed.
   */
  async function judgeItem(id, fromBlock, honestHashes) {
    const opened = await eventSince(api, fromBlock, isEvent('challenges', 'ItemDisputeOpened', id), {
      what: `the item dispute over batch ${id}`,
      timeoutMs: 60_000,
    });
    const item = opened.event.data.item.toNumber();
    const showDeadline = opened.event.data.showDeadline.toNumber();
    const [inputShown, outputShown] = await Promise.all(
      ['ItemInputShown', 'ItemOutputShown'].map((method) =>
        eventSince(api, opened.blockNumber, isEvent('challenges', method, id), {
          what: `${method} of item ${item} of batch ${id}`,
          timeoutMs: 90_000,
        }),
      ),
    );
    const showingBlocks = [inputShown, outputShown].map((shown) => shown.blockNumber - opened.blockNumber);
    console.log(
      `# item ${item}: dispute opened in #${opened.blockNumber}, input shown ${showingBlocks[0]} and output ` +
        `${showingBlocks[1]} blocks later${FLOOD ? ', under the flood' : ''} (showing deadline #${showDeadline})`,
    );
    for (const [i, shown] of [inputShown, outputShown].entries()) {
      assert.ok(showingBlocks[i] <= MAX_SHOWING_BLOCKS, `shown ${showingBlocks[i]} blocks after the opening`);
      assert.ok(shown.blockNumber < showDeadline, `shown before the showing deadline #${showDeadline}`);
      assert.equal(shown.event.data.item.toNumber(), item);
      assert.equal(shown.event.data.by.toString(), aliceOperator.address, `shown by ${EDGE ? "Alice's edge agent" : "Alice's node"}`);
    }

    const drawn = await eventSince(
      api,
      showDeadline,
      (event) => isEvent('challenges', 'JuryDrawn', id)(event) && event.data.round.toNumber() === 0,
      { what: `the jury of the dispute over item ${item}`, timeoutMs: 90_000 },
    );
    const seated = drawn.event.data.jurors.map((juror) => juror.toString());
    const jurors = verifiers.filter((verifier) => seated.includes(verifier.address));
    assert.equal(seated.length, api.consts.challenges.jurySize.toNumber());
    assert.equal(jurors.length, seated.length, 'every juror is one of the verifiers');

    const vote = honestHashes[item];
    if (EDGE) {
      // The jurors' edge agents, started now that they are drawn, re-execute the item and vote.
      const started = jurors.map((juror) => {
        const index = verifiers.indexOf(juror);
        return edgeOf(`verifier-${index}`, [
          '--operator-key', `//Verifier//${index}`, '--endpoint', jurorServer.baseUrl, '--model', MODEL_NAME,
        ]);
      });
      const counted = await eventSince(api, drawn.blockNumber, isEvent('challenges', 'VotesCounted', id), {
        what: `the count of the dispute over item ${item}`,
        timeoutMs: 120_000,
      });
      assert.equal(counted.event.data.verdict.unwrap().toHex(), vote, 'the edge jurors found the honest output');
      assert.equal(counted.event.data.revealed.toNumber(), jurors.length);
      for (const edge of started) {
        const revealedVote = await edge.waitFor((e) => e.event === 'revealVote' && e.task === id, { what: 'its vote revealed' });
        assert.equal(revealedVote.vote, vote);
      }
      const closed = await eventSince(api, counted.blockNumber, isEvent('challenges', 'DisputeClosed', id), {
        what: `the close of the dispute over item ${item}`,
        timeoutMs: 90_000,
      });
      const events = (await (await api.at(closed.blockHash)).query.system.events()).map(({ event }) => event);
      return { item, opened, outputShown, jurors, closed, events };
    }
    const salts = jurors.map(() => randomAsHex(32));
    const committed = await Promise.all(
      jurors.map((juror, i) =>
        sendVote(api, () => api.tx.challenges.commitVote(id, voteCommitment(api, id, 0, vote, salts[i], juror.address)), juror),
      ),
    );
    for (const result of committed) assert.equal(result.dispatchError, null);
    const revealing = await eventSince(api, drawn.blockNumber, isEvent('challenges', 'VoteRevealPhaseStarted', id), {
      what: `the reveal phase of the dispute over item ${item}`,
      timeoutMs: 90_000,
    });
    const revealed = await Promise.all(
      jurors.map((juror, i) => sendVote(api, () => api.tx.challenges.revealVote(id, vote, salts[i]), juror)),
    );
    for (const result of revealed) assert.equal(result.dispatchError, null);
    const counted = await eventSince(api, revealing.blockNumber, isEvent('challenges', 'VotesCounted', id), {
      what: `the count of the dispute over item ${item}`,
      timeoutMs: 90_000,
    });
    assert.equal(counted.event.data.verdict.unwrap().toHex(), vote);
    assert.equal(counted.event.data.revealed.toNumber(), jurors.length);
    // Nobody appeals: the dispute closes once the appeal window ends.
    const closed = await eventSince(api, counted.blockNumber, isEvent('challenges', 'DisputeClosed', id), {
      what: `the close of the dispute over item ${item}`,
      timeoutMs: 90_000,
    });
    const events = (await (await api.at(closed.blockHash)).query.system.events()).map(({ event }) => event);
    return { item, opened, outputShown, jurors, closed, events };
  }

  test('the lie on one item is challenged and slashed, and the requester pays only for the correct items', async () => {
    const consts = api.consts;
    const N = BigInt(ITEMS);

    // What the runtime asks of this batch (runtime/src/configs/agentchain.rs, docs/batches.md).
    const itemsPerBlock = consts.inference.itemsPerBlock.toNumber();
    const tokensPerBlock = consts.inference.tokensPerBlock.toNumber();
    const shortest = Math.ceil(ITEMS / itemsPerBlock) + Math.ceil((ITEMS * MAX_TOKENS) / tokensPerBlock);
    const longest = Math.max(2 * shortest, consts.inference.maxCommitPeriod.toNumber());
    assert.ok(COMMIT_PERIOD >= shortest && COMMIT_PERIOD <= longest, `commit period within ${shortest}..=${longest}`);
    const minFee = max(
      consts.inference.minFeePerExecutor.toBigInt(),
      consts.inference.minFeePerItem.toBigInt() * N,
      consts.inference.minFeePerSeatBlock.toBigInt() * BigInt(COMMIT_PERIOD),
    );
    assert.ok(FEE >= minFee, `the fee ${FEE} is at least the batch's minimum ${minFee}`);
    const share = FEE; // one executor
    const perItem = share / N;
    const jurorReward = consts.challenges.jurorReward.toBigInt();
    const jurySize = BigInt(consts.challenges.jurySize.toNumber());
    const slashFeeMultiple = BigInt(consts.challenges.slashFeeMultiple.toNumber());
    // An item's slash: max(2 × JurySize × JurorReward, SlashFeeMultiple × share / N), 3 AGC at
    // the sizes tested.
    const itemSlash = itemSlashOf(consts, share, N);
    // A task's collateral (a missed commit, a withheld reveal, a wrong result: at least 20 AGC,
    // SlashFeeMultiple × share above that) and an item slash for each item the root may be found
    // wrong on (15 at most).
    const wrongResultSlash = max(consts.challenges.wrongResultSlash.toBigInt(), share * slashFeeMultiple);
    const collateral =
      max(consts.inference.missedDeadlineSlash.toBigInt(), consts.inference.missedRevealSlash.toBigInt(), wrongResultSlash) +
      min(N, MAX_ITEMS_FOUND_WRONG) * itemSlash;
    assert.ok(collateral <= ALICE_STAKE, 'Alice can back the batch');
    // The item's challenge bond: max(MinChallengeBond, ChallengeBondFeeMultiple × fee / N).
    const bond = max(
      consts.challenges.minChallengeBond.toBigInt(),
      BigInt(consts.challenges.challengeBondFeeMultiple.toNumber()) * (FEE / N),
    );
    console.log(
      `# batch of ${ITEMS} items: fee ${FEE}, commit period ${COMMIT_PERIOD} (at least ${shortest}), ` +
        `collateral ${collateral}, item slash ${itemSlash}, bond ${bond}`,
    );

    // Bob publishes the inputs document and submits the batch under its root: from polkadot.js,
    // or, with edge agents, with the CLI (`task submit --batch FILE --batch-uri URL --publish`),
    // which reads the items, computes their root, publishes the document and commits to an audit
    // secret of its own.
    const inputsRoot = merkleRoot(PROMPTS.map(itemHash));
    const inputsUri = `${server.url}/documents/batch-inputs-${process.pid}-${Date.now()}.json`;
    if (!EDGE) {
      const put = await fetch(inputsUri, {
        method: 'PUT',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(PROMPTS),
      });
      assert.equal(put.status, 200, 'the inputs document is stored');
    }

    // Alice's endpoint will lie on item LIE alone. Her edge agent's is slow at first instead, so
    // that it can be killed in the middle of the batch; it lies once restarted.
    const lie = async () => {
      const fault = await setFault(server, { mode: 'wrong', only_prompt: PROMPTS[LIE] });
      assert.equal(fault.only_prompt, PROMPTS[LIE]);
    };
    if (EDGE) await setFault(server, { mode: 'slow', delay_ms: EDGE_ITEM_DELAY_MS });
    else await lie();

    const escrowBefore = await escrowOf(bob.address);
    const inputsFile = join(mkdtempSync(join(tmpdir(), `agentchain-${name}-inputs-`)), 'inputs.json');
    writeFileSync(inputsFile, JSON.stringify(PROMPTS));
    const submitWithCli = () =>
      runCli(node.rpcUrl, [
        'task', 'submit', '--suri', '//Bob', '--model', MODEL_NAME, '--batch', inputsFile, '--batch-uri', inputsUri,
        '--publish', '--max-tokens', `${MAX_TOKENS}`, '--seed', `${PARAMS.seed}`, '--fee', `${Number(FEE) / Number(UNIT)}`,
        '--commit-period', `${COMMIT_PERIOD}`, '--json',
      ]);
    const auditSecret = randomAsHex(32);
    const submit = () =>
      sendInBlock(
        api,
        api.tx.inference.submitTask(
          MODEL,
          { Batch: { root: inputsRoot, uri: inputsUri, items: ITEMS, auditCommitment: blake2AsHex(auditSecret, 256) } },
          PARAMS,
          FEE,
          1,
          COMMIT_PERIOD,
        ),
        bob,
      );
    // Batches are off until root turns them on: the storage parameter `BatchesTaken`.
    if (EDGE) {
      const refused = await submitWithCli();
      assert.equal(refused.code, 1, refused.stderr);
      assert.match(refused.stderr, /BatchesNotJudged/, 'no batch is taken by default');
    } else {
      assert.equal((await submit()).dispatchError, 'inference.BatchesNotJudged', 'no batch is taken by default');
    }
    const turnedOn = await turnBatchesOn(api, alice);
    assert.equal(turnedOn.dispatchError, null);
    assert.equal(await escrowOf(bob.address), escrowBefore, 'the refused batch held nothing');
    let id;
    let submittedAt;
    // Bob reveals his audit secret once the batch's window has ended (the chain refuses it
    // before): with the CLI, whose `task reveal-audit-secret` waits for that end by itself.
    let cliReveal;
    if (EDGE) {
      const submitted = await submitWithCli();
      assert.equal(submitted.code, 0, `the batch is taken: ${submitted.stderr}`);
      ({ id } = submitted.json);
      submittedAt = submitted.json.submittedIn.number;
      // What the CLI submitted is the batch the test knows: its root, its count, and the
      // commitment to the audit secret it printed.
      const { root, items, auditCommitment } = (await api.query.inference.tasks(id)).unwrap().input.asBatch;
      assert.equal(root.toHex(), inputsRoot);
      assert.equal(items.toNumber(), ITEMS);
      assert.equal(auditCommitment.toHex(), blake2AsHex(hexToU8a(submitted.json.auditSecret), 256));
      assert.deepEqual(await (await fetch(inputsUri)).json(), PROMPTS, 'the CLI published the inputs document');
      cliReveal = runCli(
        node.rpcUrl,
        ['task', 'reveal-audit-secret', `${id}`, '--suri', '//Bob', '--secret', submitted.json.auditSecret, '--json'],
        { timeout: timeoutMs },
      );
    } else {
      const submitted = await submit();
      assert.equal(submitted.dispatchError, null, 'the batch is taken');
      id = submitted.events
        .find(({ event }) => api.events.inference.TaskSubmitted.is(event))
        .event.data.task.toNumber();
      submittedAt = await blockNumberOf(api, submitted.blockHash);
    }

    // Alice is drawn at the next block and reserves the batch's collateral.
    const assigned = await eventSince(api, submittedAt, isInference(id, 'TaskAssigned', 'TaskExpired'), {
      what: `the draw of batch ${id}`,
      timeoutMs: 30_000,
    });
    assert.equal(assigned.event.method, 'TaskAssigned', 'Alice, the only batch executor, is drawn');
    assert.deepEqual(assigned.event.data.executors.map(String), [alice.address]);
    const drawnTask = (await (await api.at(assigned.blockHash)).query.inference.tasks(id)).unwrap();
    assert.equal(drawnTask.collateral.toBigInt(), collateral);

    // With an edge agent: killed (SIGKILL) once it kept two outputs, and restarted on the same
    // state, it goes on from the items it kept, and commits once.
    if (EDGE) {
      const first = edges.get('alice');
      await first.waitFor((e) => e.event === 'executingBatch' && e.task === id, { what: 'the batch started' });
      const outputs = await untilKept(id, 2);
      await first.kill();
      await lie();
      const restarted = restartEdge('alice');
      const resumed = await restarted.waitFor((e) => e.event === 'executingBatch' && e.task === id, { what: 'the batch resumed' });
      console.log(`# Alice's edge agent killed with ${outputs} outputs kept; restarted, it goes on from item ${resumed.done}`);
      assert.ok(resumed.done >= 2 && resumed.done < LIE, `resumed from the items kept (${resumed.done}), before the lie`);
      assert.equal(first.events.filter((e) => e.event === 'commit').length, 0, 'nothing committed before the kill');
    }

    // Her node runs the items, as many a block as its runs' time allows, then commits to
    // the root of its outputs, publishes its outputs document and reveals the root with its URI.
    const settled = isInference(id, 'ResultCommitted', 'ExecutorMissedDeadline', 'TaskExpired');
    const committed = await eventSince(api, assigned.blockNumber, settled, {
      what: `the commitment of batch ${id}`,
      timeoutMs: waitMs(COMMIT_PERIOD),
    });
    assert.equal(committed.event.method, 'ResultCommitted', `Alice's node committed (see e2e/logs/${name}.log)`);
    // The commit period is sized for ItemsPerBlock calls a block; the reference server answers
    // in milliseconds, so the node runs many more a block and commits well before its deadline
    // (the edge agent's endpoint is slowed down on purpose).
    if (!EDGE) {
      assert.ok(
        committed.blockNumber - assigned.blockNumber < Math.ceil(ITEMS / itemsPerBlock),
        `the items took fewer than the ${Math.ceil(ITEMS / itemsPerBlock)} blocks of ItemsPerBlock a block (#${assigned.blockNumber} → #${committed.blockNumber})`,
      );
    }
    if (EDGE) {
      const commits = edges.get('alice').events.filter((e) => e.event === 'commit' && e.task === id && !e.resend);
      assert.equal(commits.length, 1, 'the restarted edge agent committed once');
    }
    const windowOpened = await eventSince(api, committed.blockNumber, isInference(id, 'TaskRevealed', 'TaskExpired'), {
      what: `the reveal of batch ${id}`,
      timeoutMs: 60_000,
    });
    assert.equal(windowOpened.event.method, 'TaskRevealed');
    const outputsRoot = windowOpened.event.data.outputHash.toHex();
    const originalEnd = windowOpened.event.data.challengeEnd.toNumber();
    console.log(
      `# batch ${id}: submitted in #${submittedAt}, drawn in #${assigned.blockNumber}, committed in ` +
        `#${committed.blockNumber}, revealed in #${windowOpened.blockNumber}, window until #${originalEnd}`,
    );

    // With `flood`: transfers fill every block from here until the item dispute closes.
    let flood;
    let blocks;
    if (FLOOD) {
      blocks = watchBlocks(api, { min: 500 });
      const funder = new Keyring({ type: 'sr25519', ss58Format: 42 }).addFromUri('//Ferdie');
      flood = await startFlood(api, node.rpcUrl, funder, { log: console.log });
      await untilFull(blocks, flood);
    }
    const tip = FLOOD ? { tip: TIP } : {};

    // Bob challenges item LIE at once. A batch is disputed one item at a time: `challenge` is
    // refused.
    const bobNonce = (await api.rpc.system.accountNextIndex(bob.address)).toNumber();
    const [whole, challenged] = await Promise.all([
      sendInBlock(api, api.tx.challenges.challenge(id, bond), bob, { nonce: bobNonce, ...tip }),
      sendInBlock(api, api.tx.challenges.challengeItem(id, LIE, bond), bob, { nonce: bobNonce + 1, ...tip }),
    ]);
    assert.equal(whole.dispatchError, 'challenges.BatchNeedsItem');
    assert.equal(challenged.dispatchError, null);
    const challengedAt = await blockNumberOf(api, challenged.blockHash);
    const stakeBefore = (await (await api.at(challenged.blockHash)).query.agents.agents(alice.address)).unwrap().stake.toBigInt();

    // Meanwhile: the item outputs the model really gives (the server honest again, asked exactly
    // as the node asks), and Alice's outputs document, which her root commits to.
    await setFault(server, { mode: 'honest' });
    const honest = [];
    for (const prompt of PROMPTS) honest.push(await completion(server, MODEL_NAME, PARAMS, prompt));
    const honestHashes = honest.map((output) => u8aToHex(itemHash(output)));
    const outputsUri = u8aToString((await api.query.inference.outputUris(id, alice.address)).unwrap());
    assert.ok(outputsUri.startsWith(`${server.url}/documents/`), outputsUri);
    const outputs = await (await fetch(outputsUri)).json();
    assert.equal(outputs.length, ITEMS);
    assert.equal(merkleRoot(outputs.map(itemHash)), outputsRoot, 'the revealed root is the outputs document\'s');
    for (let i = 0; i < ITEMS; i++) {
      if (i === LIE) assert.notEqual(outputs[i], honest[i], `item ${i} is the lie`);
      else assert.equal(outputs[i], honest[i], `item ${i} is honest`);
    }
    console.log(
      `# item ${LIE}: ${JSON.stringify(PROMPTS[LIE])} → Alice ${JSON.stringify(outputs[LIE])}, ` +
        `the model ${JSON.stringify(honest[LIE])}`,
    );

    // The dispute: the item shown by Alice's node, judged by a jury of verifiers.
    let dispute;
    try {
      dispute = await judgeItem(id, challengedAt, honestHashes);
    } finally {
      if (FLOOD) {
        await flood.stop();
        await blocks.stop();
      }
    }
    if (FLOOD) {
      const full = blocks.fullBlocks().filter((block) => block > challengedAt && block <= dispute.outputShown.blockNumber);
      console.log(
        `# flood: ${JSON.stringify(flood.stats())}; blocks of 500 extrinsics or more from the challenge to the ` +
          `showing: ${full.length} (per block: ${[...blocks.counts].filter(([b]) => b > challengedAt).map(([, n]) => n).join(', ')})`,
      );
      assert.ok(full.length >= 1, 'the flood filled the blocks while the item was shown');
    }
    assert.equal(dispute.item, LIE);
    assert.equal(dispute.outputShown.event.data.output.toHex(), u8aToHex(itemHash(outputs[LIE])), 'the lie is what was shown');
    const inClose = (section, method) =>
      dispute.events.filter((e) => e.section === section && e.method === method && e.data.task.toNumber() === id);
    const [closed] = inClose('challenges', 'DisputeClosed');
    assert.equal(closed.data.verdict.unwrap().toHex(), honestHashes[LIE]);
    assert.equal(closed.data.resultOverturned.isTrue, true);

    // Alice's root is slashed an item's price, not a task's 20 AGC.
    const [slashed] = inClose('challenges', 'ExecutorSlashed');
    assert.equal(slashed.data.executor.toString(), alice.address);
    assert.equal(slashed.data.slashed.toBigInt(), itemSlash);
    const afterClose = await api.at(dispute.closed.blockHash);
    const aliceAfter = (await afterClose.query.agents.agents(alice.address)).unwrap();
    assert.equal(aliceAfter.stake.toBigInt(), stakeBefore - itemSlash);
    // The collateral she reserves for the batch shrinks by the slash.
    assert.equal((await afterClose.query.inference.tasks(id)).unwrap().collateral.toBigInt(), collateral - itemSlash);
    assert.deepEqual((await afterClose.query.inference.wrongItems(id, alice.address)).map((i) => i.toNumber()), [LIE]);

    // Out of the slash: the jurors, the challenger's share of the rest, the requester's
    // compensation (up to 19 times the item's price); the bond comes back.
    const rewards = inClose('challenges', 'RewardPaid').map((e) => [e.data.who.toString(), e.data.amount.toBigInt()]);
    for (const juror of dispute.jurors) {
      assert.ok(rewards.some(([who, amount]) => who === juror.address && amount === jurorReward), `juror ${juror.address} paid`);
    }
    const afterJurors = itemSlash - jurySize * jurorReward;
    const challengerReward = perbillOf(consts.challenges.challengerShare, afterJurors);
    assert.ok(rewards.some(([who, amount]) => who === bob.address && amount === challengerReward), 'the challenger is paid');
    const [compensated] = inClose('challenges', 'RequesterCompensated');
    const compensation = min(BigInt(consts.challenges.compensationFeeMultiple.toNumber()) * perItem, afterJurors - challengerReward);
    assert.equal(compensated.data.requester.toString(), bob.address);
    assert.equal(compensated.data.amount.toBigInt(), compensation);
    const [returned] = inClose('challenges', 'BondReturned');
    assert.deepEqual([returned.data.who.toString(), returned.data.amount.toBigInt()], [bob.address, bond]);

    // The batch goes back to its window, for the blocks it had left when challenged.
    const [resumed] = inClose('inference', 'BatchResumed');
    assert.equal(resumed.data.item.toNumber(), LIE);
    assert.deepEqual(resumed.data.wrong.map(String), [alice.address]);
    const challengeEnd = resumed.data.challengeEnd.toNumber();
    assert.equal(challengeEnd - dispute.closed.blockNumber, originalEnd - challengedAt, "the window's rest is kept");
    console.log(
      `# item ${LIE} disputed in #${challengedAt}, jury drawn, closed in #${dispute.closed.blockNumber}: ` +
        `Alice slashed ${itemSlash}, window until #${challengeEnd}`,
    );

    // At the window's end the chain awaits Bob's audit secret. A reveal sent before is refused
    // before the pool, never published in a block (tried with another secret all the same).
    if (!EDGE) {
      await assert.rejects(
        sendInBlock(api, api.tx.inference.revealAuditSecret(id, randomAsHex(32)), bob),
        /1010|[Ii]nvalid/,
        'no reveal before the window ends',
      );
    }
    const awaited = await eventSince(api, dispute.closed.blockNumber, isInference(id, 'AuditSecretAwaited'), {
      what: `the end of batch ${id}'s window`,
      timeoutMs: waitMs(challengeEnd - dispute.closed.blockNumber),
    });
    assert.equal(awaited.blockNumber, challengeEnd);
    let revealedIn;
    if (EDGE) {
      const revealed = await cliReveal;
      assert.equal(revealed.code, 0, `the CLI revealed the audit secret: ${revealed.stderr}`);
      revealedIn = revealed.json.block.number;
      assert.equal(revealed.json.auditDecidedAt, revealedIn + 1);
    } else {
      const revealed = await sendInBlock(api, api.tx.inference.revealAuditSecret(id, auditSecret), bob);
      assert.equal(revealed.dispatchError, null);
      revealedIn = await blockNumberOf(api, revealed.blockHash);
    }
    assert.ok(revealedIn < awaited.event.data.until.toNumber(), 'revealed within the wait');
    console.log(`# batch ${id}: window ended in #${challengeEnd}, audit secret revealed in #${revealedIn}`);

    // Then the batch is finalised, or audited (5 %) on an item drawn from its secret and the
    // hash of the block before its window's original end, judged as the challenge was, then
    // finalised.
    const ended = await eventSince(
      api,
      dispute.closed.blockNumber,
      (e) => isEvent('inference', 'TaskFinalised', id)(e) || (isEvent('challenges', 'DisputeOpened', id)(e) && e.data.kind.isAudit),
      { what: `the end of batch ${id}'s window`, timeoutMs: waitMs(challengeEnd - dispute.closed.blockNumber) },
    );
    let audited = null;
    if (ended.event.method === 'DisputeOpened') {
      audited = await judgeItem(id, ended.blockNumber, honestHashes);
      console.log(`# batch ${id} audited on item ${audited.item}`);
    }
    const finalised = await eventSince(api, ended.blockNumber, isEvent('inference', 'TaskFinalised', id), {
      what: `the finalisation of batch ${id}`,
      timeoutMs: 180_000,
    });
    assert.ok(finalised.blockNumber >= challengeEnd, 'not finalised before its window ended');
    const { paid, protocolCut, refunded, outputHash } = finalised.event.data;
    assert.equal(outputHash.toHex(), outputsRoot);
    if (audited?.item === LIE) {
      // The audit drew the item Alice lied on: her root is paid nothing, Bob refunded in full.
      assert.equal(paid.toBigInt(), 0n);
      assert.equal(refunded.toBigInt(), FEE);
    } else {
      // Alice is paid her share less the item found wrong, less the protocol cut; Bob is
      // refunded that item: he paid for the other items only, all correct.
      const earned = share - perItem;
      const cut = perbillOf(consts.inference.protocolCut, earned);
      assert.equal(paid.toBigInt(), earned - cut);
      assert.equal(protocolCut.toBigInt(), cut);
      assert.equal(refunded.toBigInt(), perItem);
      assert.equal(paid.toBigInt() + protocolCut.toBigInt(), perItem * (N - 1n));
    }
    const atEnd = await api.at(finalised.blockHash);
    assert.ok((await atEnd.query.inference.tasks(id)).unwrap().status.isFinalised);
    assert.equal((await atEnd.query.agents.agents(alice.address)).unwrap().collateral.toBigInt(), 0n, 'her collateral is released');
    const { deposit } = (await atEnd.query.inference.tasks(id)).unwrap();
    assert.equal(
      await escrowOf(bob.address, finalised.blockHash),
      escrowBefore + deposit.toBigInt(),
      "nothing of Bob's fee stays held, only the batch's deposit until it is pruned",
    );
    console.log(
      `# batch ${id} finalised in #${finalised.blockNumber}: Alice paid ${paid} (protocol cut ${protocolCut}), ` +
        `Bob refunded ${refunded} and compensated ${compensation} for item ${LIE}`,
    );
  });

  /** What `address` has held in task escrow (fees, and deposits until pruning), at block `at` (the best block otherwise). */
  async function escrowOf(address, at) {
    const query = at ? (await api.at(at)).query : api.query;
    return (await query.balances.holds(address))
      .filter((hold) => hold.id.isInference && hold.id.asInference.isTaskEscrow)
      .reduce((sum, hold) => sum + hold.amount.toBigInt(), 0n);
  }
});
}
