// A cheating executor caught and slashed, end to end on real nodes: Eve's agent node runs against
// an inference server that answers wrongly; an honest challenger compares the revealed output with
// the model's real answer and challenges; juror nodes (Bob, Charlie and Dave's operator keys on
// Alice's node, against an honest server) re-execute the task and vote through their off-chain
// workers; the dispute closes with Eve slashed, the requester refunded and compensated, and the
// challenger and jurors paid.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiPromise, WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { u8aToHex, u8aToString } from '@polkadot/util';
import { blake2AsHex, cryptoWaitReady } from '@polkadot/util-crypto';
import {
  blockNumberOf,
  bootnodeOf,
  eventSince,
  nameOperator,
  sendAndFinalize,
  startDevNode,
  startInferenceServer,
  waitForEvent,
  waitForHeight,
} from '../lib/node.mjs';

const UNIT = 10n ** 12n;
const MODEL_NAME = 'ngram-en';
const MODEL = blake2AsHex(MODEL_NAME, 256);
const STAKE = 200n * UNIT;
const FEE = UNIT;
const PROMPT = 'The old lighthouse keeper';
const PARAMS = { maxTokens: 12, temperatureMilli: 0, seed: 3, mode: 'ExactMatch' };

describe('challenges: a cheating executor is caught by a challenger and a jury of agent nodes', () => {
  let honestServer;
  let cheatingServer;
  let jurorNode;
  let cheatNode;
  let api;
  let keyring;
  let accounts;

  before(async () => {
    await cryptoWaitReady();
    keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
    accounts = Object.fromEntries(
      ['Alice', 'Bob', 'Charlie', 'Dave', 'Eve', 'Ferdie'].map((name) => [
        name,
        { owner: keyring.addFromUri(`//${name}`), operator: keyring.addFromUri(`//${name}//operator`) },
      ]),
    );
    honestServer = await startInferenceServer('challenges-honest-endpoint', ['--model', MODEL_NAME]);
    cheatingServer = await startInferenceServer('challenges-cheating-endpoint', [
      '--model', MODEL_NAME, '--fault', 'wrong',
    ]);
    // Alice's node (the block author) hosts the jurors; Eve's node, a second node of the same
    // dev chain, hosts the cheating executor.
    jurorNode = await startDevNode('challenges-jurors', [
      '--inference-endpoint', honestServer.baseUrl,
      '--inference-model', MODEL_NAME,
    ]);
    api = jurorNode.api;
    cheatNode = await startDevNode('challenges-cheat', [
      '--eve',
      '--offchain-worker', 'always',
      '--bootnodes', await bootnodeOf(jurorNode),
      '--inference-endpoint', cheatingServer.baseUrl,
      '--inference-model', MODEL_NAME,
    ]);
    await waitForHeight(cheatNode.api, (await api.rpc.chain.getHeader()).number.toNumber() + 1);

    // The jurors' operator keys go into the keystore of Alice's node.
    for (const name of ['Bob', 'Charlie', 'Dave']) {
      const { operator } = accounts[name];
      await api.rpc.author.insertKey('agnt', `//${name}//operator`, u8aToHex(operator.publicKey));
    }
    // Eve registers as the only executor of the model, Bob, Charlie and Dave as its verifiers,
    // each naming its node's operator key.
    const register = async (name, role) => {
      const { owner, operator } = accounts[name];
      const registered = await sendAndFinalize(
        api,
        api.tx.agents.register(`${name}-agent`, 'http://agent', '1', [MODEL], [role], STAKE),
        owner,
      );
      assert.equal(registered.dispatchError, null);
      await nameOperator(api, owner, operator);
    };
    await Promise.all([
      register('Eve', 'Executor'),
      register('Bob', 'Verifier'),
      register('Charlie', 'Verifier'),
      register('Dave', 'Verifier'),
    ]);
  });

  after(async () => {
    if (cheatNode) await cheatNode.stop();
    if (jurorNode) await jurorNode.stop();
    if (cheatingServer) await cheatingServer.stop();
    if (honestServer) await honestServer.stop();
  });

  /** The model's real answer to the task, asked of the honest server directly. */
  async function honestOutput() {
    const response = await fetch(`${honestServer.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        model: MODEL_NAME,
        messages: [{ role: 'user', content: PROMPT }],
        max_tokens: PARAMS.maxTokens,
        temperature: 0,
        seed: PARAMS.seed,
      }),
    }).then((r) => r.json());
    return response.choices[0].message.content;
  }

  const event = (section, name, id) => (e) =>
    api.events[section][name].is(e) && e.data.task.toNumber() === id;

  test('the wrong result is challenged, the jury votes it down and the executor is slashed', async () => {
    const { Alice: alice, Eve: eve, Ferdie: ferdie } = accounts;
    const id = (await api.query.inference.nextTaskId()).toNumber();
    const revealed = waitForEvent(api, event('inference', 'ResultRevealed', id), {
      what: `reveal of task ${id}`,
    });
    const submitted = await sendAndFinalize(
      api,
      api.tx.inference.submitTask(MODEL, { Inline: PROMPT }, PARAMS, FEE, 1, 10),
      ferdie.owner,
    );
    assert.equal(submitted.dispatchError, null);
    const assigned = await eventSince(api, await blockNumberOf(api, submitted.inBlock), event('inference', 'TaskAssigned', id), {
      what: `the draw of task ${id}`,
    });
    assert.equal(assigned.event.data.executors[0].toString(), eve.owner.address);

    // Eve's node reveals the cheating server's answer.
    const reveal = await revealed;
    const revealedHash = reveal.event.data.outputHash.toHex();
    const stored = (await api.query.inference.outputs(id, revealedHash)).unwrap();
    const revealedText = u8aToString(stored.inline.unwrap());
    const honest = await honestOutput();
    const honestHash = blake2AsHex(honest, 256);
    console.log(`# task ${id}: revealed ${JSON.stringify(revealedText)}, the model says ${JSON.stringify(honest)}`);
    assert.notEqual(revealedHash, honestHash, 'the cheating server answered wrongly');

    // An honest challenger (Alice) disputes inside the challenge window.
    const bond = 10n * UNIT;
    const stakeBefore = (await api.query.agents.agents(eve.owner.address)).unwrap().stake.toBigInt();
    const ferdieBefore = (await api.query.system.account(ferdie.owner.address)).data.free.toBigInt();
    const closed = waitForEvent(api, event('challenges', 'DisputeClosed', id), {
      what: `the close of the dispute over task ${id}`,
      timeoutMs: 240_000,
    });
    const challenged = await sendAndFinalize(api, api.tx.challenges.challenge(id, bond), alice.owner);
    assert.equal(challenged.dispatchError, null);
    const opened = challenged.events.find(({ event: e }) => api.events.challenges.DisputeOpened.is(e));
    assert.ok(opened, 'DisputeOpened was emitted');
    // The jury is drawn at the next block, from the hash of the challenge's block: unknown to
    // the challenger when it challenged.
    const challengedAt = await blockNumberOf(api, challenged.inBlock);
    assert.equal(opened.event.data.drawAt.toNumber(), challengedAt + 1);
    const drawn = await eventSince(api, challengedAt + 1, event('challenges', 'JuryDrawn', id), {
      what: `the jury of task ${id}`,
    });
    assert.equal(drawn.blockNumber, challengedAt + 1);
    const jurors = drawn.event.data.jurors.map((j) => j.toString()).sort();
    const verifiers = ['Bob', 'Charlie', 'Dave'].map((n) => accounts[n].owner.address).sort();
    assert.deepEqual(jurors, verifiers);
    assert.ok((await api.query.inference.tasks(id)).unwrap().status.isDisputed);

    // The dispute and the jurors' duties, through the ChallengesApi runtime API, asked of the
    // juror's node.
    const queries = await ApiPromise.create({ provider: new WsProvider(jurorNode.rpcUrl), noInitWarn: true });
    try {
      const view = (await queries.call.challengesApi.dispute(id)).unwrap();
      assert.equal(view.kind.type, 'Challenge');
      assert.equal(view.kind.asChallenge.challenger.toString(), alice.owner.address);
      assert.equal(view.result.unwrap().toHex(), revealedHash);
      assert.equal(view.round.toNumber(), 0);
      assert.deepEqual(view.jurors.map((j) => j.juror.toString()).sort(), verifiers);
      assert.deepEqual(
        view.bonds.map((b) => [b.who.toString(), b.amount.toBigInt(), b.backsOutput.isNone]),
        [[alice.owner.address, bond, true]],
      );
      const duties = (await queries.call.challengesApi.duties(accounts.Bob.operator.address)).unwrap();
      assert.equal(duties.juror.toString(), accounts.Bob.owner.address);
      assert.deepEqual(duties.tasks.map((t) => t.toNumber()), [id]);
      assert.ok((await queries.call.challengesApi.dispute(999_999)).isNone);
      assert.ok((await queries.call.challengesApi.duties(accounts.Ferdie.owner.address)).isNone);
    } finally {
      await queries.disconnect();
    }
    const openedAt = (await api.rpc.chain.getHeader(challenged.inBlock)).number.toNumber();

    // The jurors' nodes vote with no further action; the dispute closes after its appeal window.
    const close = await closed;
    console.log(`# dispute over task ${id}: opened in block #${openedAt}, closed in #${close.blockNumber}`);
    assert.equal(close.event.data.verdict.unwrap().toHex(), honestHash);
    assert.equal(close.event.data.resultOverturned.isTrue, true);

    const events = await (await api.at(close.blockHash)).query.system.events();
    const slashed = events.find(({ event: e }) => api.events.challenges.ExecutorSlashed.is(e));
    assert.equal(slashed.event.data.executor.toString(), eve.owner.address);
    const slash = slashed.event.data.slashed.toBigInt();
    // max(20 AGC, 25 × the fee share of 1 AGC): what a wrong result risks grows with its fee.
    assert.equal(slash, 25n * UNIT);
    const stakeAfter = (await api.query.agents.agents(eve.owner.address)).unwrap().stake.toBigInt();
    assert.equal(stakeAfter, stakeBefore - slash);

    const rewards = events
      .filter(({ event: e }) => api.events.challenges.RewardPaid.is(e))
      .map(({ event: e }) => [e.data.who.toString(), e.data.amount.toBigInt()]);
    const jurorReward = UNIT / 2n;
    for (const juror of verifiers) {
      assert.ok(rewards.some(([who, amount]) => who === juror && amount === jurorReward), `juror ${juror} paid`);
    }
    // The challenger earns a quarter of what the jurors leave of the slash; the protocol
    // account keeps the rest (a guilty executor's own challenge would recover no more).
    const challengerReward = (slash - 3n * jurorReward) / 4n;
    assert.ok(
      rewards.some(([who, amount]) => who === alice.owner.address && amount === challengerReward),
      `the challenger is paid ${challengerReward}: ${JSON.stringify(rewards.map(([w, a]) => [w, a.toString()]))}`,
    );
    const returned = events.find(({ event: e }) => api.events.challenges.BondReturned.is(e));
    assert.equal(returned.event.data.who.toString(), alice.owner.address);
    assert.equal(returned.event.data.amount.toBigInt(), bond);

    // The requester gets the whole fee back (the wrong result is not paid), and up to 19 times
    // the fee out of what the jurors and the challenger leave of the slash.
    const expired = events.find(({ event: e }) => event('inference', 'TaskExpired', id)(e));
    assert.equal(expired.event.data.refunded.toBigInt(), FEE);
    const compensated = events.find(({ event: e }) => api.events.challenges.RequesterCompensated.is(e));
    assert.equal(compensated.event.data.requester.toString(), ferdie.owner.address);
    const compensation = compensated.event.data.amount.toBigInt();
    const left = slash - 3n * jurorReward - challengerReward;
    assert.equal(compensation, left < 19n * FEE ? left : 19n * FEE);
    const ferdieAfter = (await api.query.system.account(ferdie.owner.address)).data.free.toBigInt();
    assert.equal(ferdieAfter, ferdieBefore + FEE + compensation);
    assert.ok((await api.query.inference.tasks(id)).unwrap().status.isExpired);
    assert.ok((await api.query.challenges.disputes(id)).isNone);
    const reputation = (await api.query.agents.agents(eve.owner.address)).unwrap().reputation;
    assert.equal(reputation.challengesLost.toNumber(), 1);
  });

  test('a challenge of an unknown or already judged task is refused and holds nothing', async () => {
    const { Alice: alice } = accounts;
    const reservedBefore = (await api.query.system.account(alice.owner.address)).data.reserved.toBigInt();
    const unknown = await sendAndFinalize(api, api.tx.challenges.challenge(999_999, 10n * UNIT), alice.owner);
    assert.equal(unknown.dispatchError, 'challenges.NotChallengeable');
    const id = (await api.query.inference.nextTaskId()).toNumber() - 1;
    const closed = await sendAndFinalize(api, api.tx.challenges.challenge(id, 10n * UNIT), alice.owner);
    assert.equal(closed.dispatchError, 'challenges.NotChallengeable');
    const reservedAfter = (await api.query.system.account(alice.owner.address)).data.reserved.toBigInt();
    assert.equal(reservedAfter, reservedBefore);
  });
});
