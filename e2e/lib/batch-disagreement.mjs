// Two agent nodes whose batch roots differ on two items play the whole bisection game by
// themselves, on a real two-node dev network (docs/batches.md, "Disagreement"):
//
// - Alice's node (`--dev`, authoring) and Bob's (`--chain dev --bob`, syncing from it) are the
//   only batch executors; each calls its own reference inference server, Alice's lying on item
//   LIE_A alone, Bob's on item LIE_B alone (`only_prompt` of `PUT /admin/fault`).
// - Charlie submits a batch of 24 items with two executors; both nodes run it, commit and
//   reveal their roots, which differ: the chain opens a disagreement and bisects the two trees,
//   each node opening its nodes by itself, step by step, down to item LIE_A. A jury of verifiers
//   (signing from polkadot.js) judges it: Alice is slashed an item's price.
// - The game goes on by itself past that item (`DifferenceJudged`, a new bisection from the fork
//   passed by), down to item LIE_B, judged the same way: Bob is slashed an item's price.
// - Every difference judged, both roots stay in the batch, reconciled; at the window's end each
//   executor is paid its share less the one item it lied on, and Charlie is refunded those two
//   items: the requester pays only for correct work.
//
// About 8 minutes. Run outside the default suite (scripts/long-e2e.sh): with two agent nodes
// (e2e/long/batch-disagreement.test.mjs), and with Bob's executor an edge agent
// (e2e/long/edge-batch-disagreement.test.mjs).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Keyring } from '@polkadot/keyring';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { u8aToHex } from '@polkadot/util';
import { blake2AsHex, cryptoWaitReady, randomAsHex } from '@polkadot/util-crypto';
import { itemHash, merkleRoot } from './merkle.mjs';
import {
  blockNumberOf,
  bootnodeOf,
  eventSince,
  jurorsForABatch,
  sendInBlock,
  revealAuditSecretsWhenAwaited,
  startDevNode,
  startInferenceServer,
  turnBatchesOn,
  waitForHeight,
} from './node.mjs';
import {
  MODEL,
  MODEL_NAME,
  UNIT,
  VERIFIER_STAKE,
  completion as ask,
  itemSlashOf,
  perbillOf,
  sendVote,
  setFault,
  voteCommitment,
} from './jury.mjs';
import { startEdge } from './edge.mjs';

const EXECUTOR_STAKE = 200n * UNIT;
const ITEMS = 24;
const [LIE_A, LIE_B] = [5, 17];
const MAX_TOKENS = 8;
const COMMIT_PERIOD = 16;
// 0.01 AGC an item for each of the two executors.
const FEE = 2n * 240n * 10n ** 9n;
const PARAMS = { maxTokens: MAX_TOKENS, temperatureMilli: 0, seed: 11, mode: 'ExactMatch' };
const PROMPTS = Array.from({ length: ITEMS }, (_, i) => `Item ${i}: the ledger of the harbour, page ${i}`);

/**
 * Declares the test; with `bobEdge`, Bob's executor is an edge agent (`agentchain agent run`
 * with `--outputs-url`) rather than an agent node, and opens its nodes of the bisection itself.
 */
export function describeDisagreement({ bobEdge = false } = {}) {

const executors = bobEdge ? 'an agent node and an edge agent' : 'two agent nodes';
describe(`batches: ${executors} whose roots differ on two items bisect to each, and each pays for its lie`, { timeout: 1_200_000 }, () => {
  const servers = {};
  const nodes = {};
  let bobAgent;
  let api;
  let keyring;
  let verifiers;

  before(async () => {
    await cryptoWaitReady();
    keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
    for (const who of ['alice', 'bob']) {
      servers[who] = await startInferenceServer(`disagreement-${who}-endpoint`, ['--model', MODEL_NAME, '--admin', '--documents']);
    }
    const inference = (server) => [
      '--inference-endpoint', server.baseUrl,
      '--inference-model', MODEL_NAME,
      '--inference-outputs-url', `${server.url}/documents/`,
    ];
    // Alice's node authors the dev chain and holds //Alice//operator; Bob's syncs from it and
    // holds //Bob//operator (`--bob`: not an authority of the dev chain, it authors nothing).
    nodes.alice = await startDevNode('disagreement-alice', inference(servers.alice));
    api = nodes.alice.api;
    if (!bobEdge) {
      nodes.bob = await startDevNode(
        'disagreement-bob',
        // A validator needs a network key of its own: generated for this temporary node.
        ['--bob', '--unsafe-force-node-key-generation', '--bootnodes', await bootnodeOf(nodes.alice), ...inference(servers.bob)],
        { chain: 'dev' },
      );
      const head = (await api.rpc.chain.getHeader()).number.toNumber();
      await waitForHeight(nodes.bob.api, head + 1, { timeoutMs: 60_000 });
    }

    const alice = keyring.addFromUri('//Alice');
    const jurorsNeeded = jurorsForABatch(api);
    verifiers = Array.from({ length: jurorsNeeded + 2 }, (_, i) => keyring.addFromUri(`//Disagreement//Verifier//${i}`));
    const nonce = (await api.rpc.system.accountNextIndex(alice.address)).toNumber();
    const funded = verifiers.map((verifier, i) =>
      sendInBlock(api, api.tx.balances.transferKeepAlive(verifier.address, VERIFIER_STAKE + 10n * UNIT), alice, { nonce: nonce + i }),
    );
    for (const result of await Promise.all(funded)) assert.equal(result.dispatchError, null);
    // Each executor registers as a batch executor of the model and names its node's operator
    // key, which accepts.
    for (const who of ['Alice', 'Bob']) {
      const owner = keyring.addFromUri(`//${who}`);
      const operator = keyring.addFromUri(`//${who}//operator`);
      const ownerNonce = (await api.rpc.system.accountNextIndex(owner.address)).toNumber();
      const [registered, named] = await Promise.all([
        sendInBlock(api, api.tx.agents.register(`${who}-batches`, servers[who.toLowerCase()].baseUrl, '1', [MODEL], ['BatchExecutor'], EXECUTOR_STAKE), owner, { nonce: ownerNonce }),
        sendInBlock(api, api.tx.agents.setOperator(operator.address), owner, { nonce: ownerNonce + 1 }),
      ]);
      assert.equal(registered.dispatchError, null);
      assert.equal(named.dispatchError, null);
      const accepted = await sendInBlock(api, api.tx.agents.acceptOperator(owner.address), operator);
      assert.equal(accepted.dispatchError, null);
    }
    const registered = await Promise.all(
      verifiers.map((verifier, i) =>
        sendInBlock(api, api.tx.agents.register(`verifier-${i}`, 'http://verifier', '1', [MODEL], ['Verifier'], VERIFIER_STAKE), verifier),
      ),
    );
    for (const result of registered) assert.equal(result.dispatchError, null);
    if (bobEdge) {
      // Bob's edge agent, with the operator key his node would hold, against Alice's node.
      bobAgent = startEdge('disagreement-bob-edge', nodes.alice.rpcUrl, [
        '--operator-key', '//Bob//operator', '--endpoint', servers.bob.baseUrl, '--model', MODEL_NAME,
        '--outputs-url', `${servers.bob.url}/documents`,
        '--state-dir', mkdtempSync(join(tmpdir(), 'agentchain-disagreement-bob-')),
      ]);
    }
  });

  after(async () => {
    await bobAgent?.stop();
    for (const node of [nodes.bob, nodes.alice]) if (node) await node.stop();
    for (const server of Object.values(servers)) await server.stop();
  });

  const isEvent = (section, method, id) => (event) =>
    event.section === section && event.method === method && event.data.task.toNumber() === id;

  /**
   * Follows the next item dispute over batch `id` from block `fromBlock`: the item reached by
   * the nodes' bisection, its input shown by one of them; the first jury votes the honest output
   * hash (`honestHashes`). Resolves once the dispute closed, with the bisection steps the nodes
   * played before it and the events of the close.
   */
  async function judgeNextItem(id, fromBlock, honestHashes) {
    const opened = await eventSince(api, fromBlock, isEvent('challenges', 'ItemDisputeOpened', id), {
      what: `an item dispute over batch ${id}`,
      timeoutMs: 180_000,
    });
    const item = opened.event.data.item.toNumber();
    const steps = [];
    for (let block = fromBlock; block <= opened.blockNumber; block++) {
      const events = await (await api.at(await api.rpc.chain.getBlockHash(block))).query.system.events();
      for (const { event } of events) {
        if (isEvent('challenges', 'NodeOpened', id)(event)) steps.push([event.data.executor.toString(), event.data.level.toNumber()]);
      }
    }
    const shown = await eventSince(api, opened.blockNumber, isEvent('challenges', 'ItemInputShown', id), {
      what: `the input of item ${item}`,
      timeoutMs: 90_000,
    });
    const showDeadline = opened.event.data.showDeadline.toNumber();
    assert.ok(shown.blockNumber < showDeadline, 'shown in time');
    const drawn = await eventSince(
      api,
      showDeadline,
      (event) => isEvent('challenges', 'JuryDrawn', id)(event) && event.data.round.toNumber() === 0,
      { what: `the jury of item ${item}`, timeoutMs: 90_000 },
    );
    const seated = drawn.event.data.jurors.map(String);
    const jurors = verifiers.filter((verifier) => seated.includes(verifier.address));
    assert.equal(jurors.length, seated.length, 'every juror is one of the verifiers');
    const vote = honestHashes[item];
    const salts = jurors.map(() => randomAsHex(32));
    for (const result of await Promise.all(
      jurors.map((juror, i) => sendVote(api, () => api.tx.challenges.commitVote(id, voteCommitment(api, id, 0, vote, salts[i], juror.address)), juror)),
    )) {
      assert.equal(result.dispatchError, null);
    }
    const revealing = await eventSince(api, drawn.blockNumber, isEvent('challenges', 'VoteRevealPhaseStarted', id), {
      what: `the reveal phase of item ${item}`,
      timeoutMs: 90_000,
    });
    for (const result of await Promise.all(jurors.map((juror, i) => sendVote(api, () => api.tx.challenges.revealVote(id, vote, salts[i]), juror)))) {
      assert.equal(result.dispatchError, null);
    }
    const closed = await eventSince(api, revealing.blockNumber, isEvent('challenges', 'DisputeClosed', id), {
      what: `the close of item ${item}`,
      timeoutMs: 120_000,
    });
    assert.equal(closed.event.data.verdict.unwrap().toHex(), vote);
    const events = (await (await api.at(closed.blockHash)).query.system.events()).map(({ event }) => event);
    console.log(`# item ${item}: reached in ${steps.length} openings, disputed in #${opened.blockNumber}, closed in #${closed.blockNumber}`);
    return { item, steps, closed, events };
  }

  const completion = (server, prompt) => ask(server, MODEL_NAME, PARAMS, prompt);

  test('each lie is found by the bisection, slashed, and left unpaid', async () => {
    const consts = api.consts;
    const [alice, bob, charlie] = ['//Alice', '//Bob', '//Charlie'].map((uri) => keyring.addFromUri(uri));
    const N = BigInt(ITEMS);
    const share = FEE / 2n;
    const perItem = share / N;
    const itemSlash = itemSlashOf(consts, share, N);

    // The honest outputs: each server lies on one item, so the other answers it honestly.
    await setFault(servers.alice, { mode: 'wrong', only_prompt: PROMPTS[LIE_A] });
    await setFault(servers.bob, { mode: 'wrong', only_prompt: PROMPTS[LIE_B] });
    const honest = [];
    for (const [i, prompt] of PROMPTS.entries()) honest.push(await completion(i === LIE_A ? servers.bob : servers.alice, prompt));
    const honestHashes = honest.map((output) => u8aToHex(itemHash(output)));
    assert.notEqual(await completion(servers.alice, PROMPTS[LIE_A]), honest[LIE_A], "Alice's endpoint lies on its item");
    assert.notEqual(await completion(servers.bob, PROMPTS[LIE_B]), honest[LIE_B], "Bob's endpoint lies on its item");

    // Charlie publishes the inputs and submits the batch, once root turned batches on.
    assert.equal((await turnBatchesOn(api, alice)).dispatchError, null);
    const inputsUri = `${servers.alice.url}/documents/disagreement-inputs-${process.pid}.json`;
    const put = await fetch(inputsUri, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(PROMPTS) });
    assert.equal(put.status, 200);
    const auditSecret = randomAsHex(32);
    const submitted = await sendInBlock(
      api,
      api.tx.inference.submitTask(
        MODEL,
        { Batch: { root: merkleRoot(PROMPTS.map(itemHash)), uri: inputsUri, items: ITEMS, auditCommitment: blake2AsHex(auditSecret, 256) } },
        PARAMS,
        FEE,
        2,
        COMMIT_PERIOD,
      ),
      charlie,
    );
    assert.equal(submitted.dispatchError, null);
    const id = submitted.events.find(({ event }) => api.events.inference.TaskSubmitted.is(event)).event.data.task.toNumber();
    // Charlie reveals his audit secret once the batch's window has ended.
    const secrets = await revealAuditSecretsWhenAwaited(api, charlie, (task) => (task === id ? auditSecret : undefined));
    const submittedAt = await blockNumberOf(api, submitted.blockHash);
    const assigned = await eventSince(api, submittedAt, isEvent('inference', 'TaskAssigned', id), { what: 'the draw', timeoutMs: 30_000 });
    assert.deepEqual(assigned.event.data.executors.map(String).sort(), [alice.address, bob.address].sort());

    // Both nodes run the items and reveal their roots; the roots differ: a disagreement, bisected.
    const disputed = await eventSince(api, assigned.blockNumber, isEvent('inference', 'TaskDisputed', id), {
      what: 'the disagreement',
      timeoutMs: 60_000 + COMMIT_PERIOD * 6_000,
    });
    const stakes = {};
    for (const who of [alice, bob]) {
      stakes[who.address] = (await (await api.at(disputed.blockHash)).query.agents.agents(who.address)).unwrap().stake.toBigInt();
    }
    console.log(`# batch ${id}: drawn in #${assigned.blockNumber}, disputed in #${disputed.blockNumber}`);

    // The first item: LIE_A, where Alice lied. Both nodes opened their nodes by themselves.
    const first = await judgeNextItem(id, disputed.blockNumber, honestHashes);
    assert.equal(first.item, LIE_A, 'the first item the roots differ on');
    for (const who of [alice, bob]) assert.ok(first.steps.some(([executor]) => executor === who.address), `${who.address} opened its nodes`);
    const judgedFirst = first.events.find(isEvent('inference', 'DifferenceJudged', id));
    assert.ok(judgedFirst, 'the game goes on past the first difference');
    assert.equal(judgedFirst.data.item.toNumber(), LIE_A);
    assert.deepEqual(judgedFirst.data.wrong.map(String), [alice.address]);
    assert.equal(judgedFirst.data.itemDisputesLeft.toNumber(), 14);
    const slashedFirst = first.events.find(isEvent('challenges', 'ExecutorSlashed', id));
    assert.deepEqual([slashedFirst.data.executor.toString(), slashedFirst.data.slashed.toBigInt()], [alice.address, itemSlash]);
    assert.ok(first.events.some((e) => isEvent('challenges', 'BisectionStep', id)(e)), 'a new bisection from the fork');

    // The second: LIE_B, where Bob lied, reached by the nodes from the fork.
    const second = await judgeNextItem(id, first.closed.blockNumber, honestHashes);
    assert.equal(second.item, LIE_B, 'the next item the roots differ on');
    assert.ok(second.steps.length >= 2 && second.steps.length < first.steps.length, 'resumed below the nodes already opened');
    const slashedSecond = second.events.find(isEvent('challenges', 'ExecutorSlashed', id));
    assert.deepEqual([slashedSecond.data.executor.toString(), slashedSecond.data.slashed.toBigInt()], [bob.address, itemSlash]);
    const resumed = second.events.find(isEvent('inference', 'BatchResumed', id));
    assert.ok(resumed, 'every difference judged: the batch goes to its window');
    const atClose = await api.at(second.closed.blockHash);
    const task = (await atClose.query.inference.tasks(id)).unwrap();
    const reconciled = (await atClose.query.inference.reconciledRoots(id)).unwrap().toHex();
    assert.notEqual(reconciled, task.result.unwrap().toHex(), 'the other root is reconciled with the result');
    assert.deepEqual((await atClose.query.inference.disagreedItems(id)).map((i) => i.toNumber()), [LIE_A, LIE_B]);
    for (const who of [alice, bob]) {
      assert.equal((await atClose.query.agents.agents(who.address)).unwrap().stake.toBigInt(), stakes[who.address] - itemSlash);
    }

    // At the window's end (or after an audit, 5 % of runs, of an item neither lied on):
    // each is paid its share less the one item it lied on; Charlie refunded those two.
    const finalised = await eventSince(api, second.closed.blockNumber, isEvent('inference', 'TaskFinalised', id), {
      what: 'the finalisation',
      timeoutMs: 600_000,
    });
    await secrets.stop();
    assert.equal((await secrets.revealed.get(id)).dispatchError, null, 'the audit secret was revealed');
    const { paid, protocolCut, refunded } = finalised.event.data;
    const earned = share - perItem;
    const cut = perbillOf(consts.inference.protocolCut, earned);
    assert.equal(paid.toBigInt(), 2n * (earned - cut));
    assert.equal(protocolCut.toBigInt(), 2n * cut);
    assert.equal(refunded.toBigInt(), 2n * perItem);
    console.log(
      `# batch ${id} finalised in #${finalised.blockNumber}: items ${LIE_A} and ${LIE_B} judged, ` +
        `each executor slashed ${itemSlash} and paid ${earned - cut}, Charlie refunded ${refunded}`,
    );
  });
});
}
