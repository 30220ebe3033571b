// A dispute judged and appealed by parties who sign everything from polkadot.js, on a real dev
// node: Eve executes a task and reveals; Ferdie challenges; a first jury of three overturns the
// result; Eve, the losing side, appeals; a fresh jury of seven upholds her result, which stands.
// Every vote is committed and revealed by the jurors' own accounts (no agent node votes here),
// and each call's rejected inputs are checked on the way: a vote from a non-juror (refused by the
// transaction pool), a reveal with the wrong salt, an appeal by the winning side or with too low
// a bond, and `advance` on a dispute or a task whose deadline has not passed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Keyring } from '@polkadot/keyring';
import { stringToU8a, u8aConcat, u8aToHex } from '@polkadot/util';
import { blake2AsHex, blake2AsU8a, cryptoWaitReady, decodeAddress } from '@polkadot/util-crypto';
import { blockNumberOf, eventSince, sendAndFinalize, sendInBlock, startDevNode } from '../lib/node.mjs';

const UNIT = 10n ** 12n;
const MODEL = '0x' + '5a'.repeat(32);
const STAKE = 200n * UNIT;
const JURORS = 10; // three for the first round, seven fresh ones for the appeal
const PARAMS = { maxTokens: 8, temperatureMilli: 0, seed: 7, mode: 'ExactMatch' };

/** blake2_256(output_hash ‖ salt ‖ executor): what an executor commits to. */
function resultCommitment(outputHash, salt, address) {
  return u8aToHex(blake2AsU8a(u8aConcat(outputHash, salt, decodeAddress(address))));
}

/** blake2_256(task ‖ round ‖ vote ‖ salt ‖ juror), SCALE-encoded: what a juror commits to. */
function voteCommitment(api, task, round, vote, salt, juror) {
  const encoded = api.createType('(u64, u32, H256, [u8; 32], AccountId32)', [task, round, vote, salt, juror]);
  return blake2AsHex(encoded.toU8a(), 256);
}

const saltOf = (label) => u8aToHex(blake2AsU8a(stringToU8a(`${label}-${Date.now()}`)));

describe('appeals: a dispute judged twice by jurors signing from polkadot.js', () => {
  let node;
  let api;
  let alice;
  let eve;
  let ferdie;
  let jurors;

  before(async () => {
    await cryptoWaitReady();
    const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
    alice = keyring.addFromUri('//Alice');
    eve = keyring.addFromUri('//Eve');
    ferdie = keyring.addFromUri('//Ferdie');
    jurors = Array.from({ length: JURORS }, (_, i) => keyring.addFromUri(`//Alice//juror//${i}`));
    node = await startDevNode('appeals');
    api = node.api;

    // Alice funds the jurors (consecutive nonces, one block), who register as verifiers. Each
    // waited for in a block, not finalised: the dev chain has one block author, so an imported
    // block stays.
    const nonce = (await api.rpc.system.accountNextIndex(alice.address)).toNumber();
    const funded = await Promise.all(
      jurors.map((juror, i) =>
        sendInBlock(api, api.tx.balances.transferKeepAlive(juror.address, STAKE + 100n * UNIT), alice, {
          nonce: nonce + i,
        }),
      ),
    );
    for (const result of funded) assert.equal(result.dispatchError, null);
    const registered = await Promise.all([
      sendInBlock(api, api.tx.agents.register('eve', 'http://eve', '1', [MODEL], ['Executor'], STAKE), eve),
      ...jurors.map((juror, i) =>
        sendInBlock(api, api.tx.agents.register(`juror-${i}`, 'http://juror', '1', [MODEL], ['Verifier'], STAKE), juror),
      ),
    ]);
    for (const result of registered) assert.equal(result.dispatchError, null);
  });

  after(async () => {
    if (node) await node.stop();
  });

  const inEvents = (result, section, method) =>
    result.events.filter(({ event }) => event.section === section && event.method === method).map(({ event }) => event);
  const eventOf = (section, method, task) => (event) =>
    event.section === section && event.method === method && event.data.task.toNumber() === task;

  /** The jurors of `round` of the dispute over `task`, once drawn, as keyring pairs. */
  async function juryOf(task, round, fromBlock) {
    const drawn = await eventSince(
      api,
      fromBlock,
      (event) => eventOf('challenges', 'JuryDrawn', task)(event) && event.data.round.toNumber() === round,
      { what: `the jury of round ${round}` },
    );
    const seated = drawn.event.data.jurors.map((j) => j.toString());
    return { drawn, seated: jurors.filter((juror) => seated.includes(juror.address)) };
  }

  /**
   * Has every juror in `seated` commit to and then reveal `vote` in `round`; checks on the way
   * that a non-juror's vote is refused by the pool and that a reveal with the wrong salt fails.
   * Resolves with the VotesCounted event.
   */
  async function judge(task, round, seated, vote, drawnAt) {
    const salts = seated.map((juror) => saltOf(`${juror.address}-${round}`));
    // A vote from an account not on the jury never enters the pool.
    const outsider = jurors.find((juror) => !seated.includes(juror));
    if (outsider) {
      await assert.rejects(
        sendAndFinalize(api, api.tx.challenges.commitVote(task, voteCommitment(api, task, round, vote, salts[0], outsider.address)), outsider),
        /Custom error: 101/,
      );
    }
    const committed = await Promise.all(
      seated.map((juror, i) =>
        sendInBlock(api, api.tx.challenges.commitVote(task, voteCommitment(api, task, round, vote, salts[i], juror.address)), juror),
      ),
    );
    for (const result of committed) {
      assert.equal(result.dispatchError, null);
      assert.equal(inEvents(result, 'challenges', 'VoteCommitted').length, 1);
    }
    const revealing = await eventSince(api, drawnAt, eventOf('challenges', 'VoteRevealPhaseStarted', task), {
      what: `the reveal phase of round ${round}`,
    });
    // The first juror's reveal with the wrong salt fails (the pool keeps one transaction per
    // duty, so the right one follows once it is in a block); the others reveal meanwhile.
    const first = seated[0];
    const others = Promise.all(
      seated.slice(1).map((juror, i) => sendInBlock(api, api.tx.challenges.revealVote(task, vote, salts[i + 1]), juror)),
    );
    const wrong = await sendInBlock(api, api.tx.challenges.revealVote(task, vote, saltOf('wrong')), first);
    assert.equal(wrong.dispatchError, 'challenges.CommitmentMismatch');
    const revealed = [await sendInBlock(api, api.tx.challenges.revealVote(task, vote, salts[0]), first), ...(await others)];
    for (const result of revealed) assert.equal(result.dispatchError, null);
    const counted = await eventSince(api, revealing.blockNumber, eventOf('challenges', 'VotesCounted', task), {
      what: `the count of round ${round}`,
    });
    assert.equal(counted.event.data.round.toNumber(), round);
    assert.equal(counted.event.data.revealed.toNumber(), seated.length);
    assert.equal(counted.event.data.verdict.unwrap().toHex(), vote);
    return counted;
  }

  test('the losing side appeals, a larger jury judges again, and the final verdict decides', async () => {
    // Alice's task, executed by Eve, who commits and reveals from her own account.
    const submitted = await sendAndFinalize(
      api,
      api.tx.inference.submitTask(MODEL, { Inline: 'What is the capital of France?' }, PARAMS, UNIT, 1, 20),
      alice,
    );
    assert.equal(submitted.dispatchError, null);
    const task = inEvents(submitted, 'inference', 'TaskSubmitted')[0].data.task.toNumber();
    await eventSince(api, await blockNumberOf(api, submitted.inBlock), eventOf('inference', 'TaskAssigned', task), {
      what: `the draw of task ${task}`,
    });
    // Nothing to move on yet: the commit deadline has not passed.
    assert.equal((await sendAndFinalize(api, api.tx.inference.advance(task), ferdie)).dispatchError, 'inference.TooEarly');
    assert.equal((await sendAndFinalize(api, api.tx.inference.advance(999_999), ferdie)).dispatchError, 'inference.UnknownTask');

    const output = stringToU8a('Paris');
    const paris = u8aToHex(blake2AsU8a(output));
    const lyon = u8aToHex(blake2AsU8a(stringToU8a('Lyon')));
    const salt = blake2AsU8a(stringToU8a(`eve-${Date.now()}`));
    const committed = await sendAndFinalize(api, api.tx.inference.commit(task, resultCommitment(blake2AsU8a(output), salt, eve.address)), eve);
    assert.equal(committed.dispatchError, null);
    const revealedResult = await sendAndFinalize(api, api.tx.inference.reveal(task, paris, u8aToHex(salt), u8aToHex(output), null), eve);
    assert.equal(revealedResult.dispatchError, null);
    // The next block's hook compares the results and opens the challenge window.
    assert.equal(inEvents(revealedResult, 'inference', 'RevealPhaseEnded').length, 1);
    await eventSince(api, await blockNumberOf(api, revealedResult.inBlock), eventOf('inference', 'TaskRevealed', task), {
      what: `the challenge window of task ${task}`,
    });

    // Ferdie challenges: with too small a bond first (nothing held), then with the minimum.
    const bond = 10n * UNIT;
    const low = await sendAndFinalize(api, api.tx.challenges.challenge(task, bond - 1n), ferdie);
    assert.equal(low.dispatchError, 'challenges.BondTooLow');
    const challenged = await sendAndFinalize(api, api.tx.challenges.challenge(task, bond), ferdie);
    assert.equal(challenged.dispatchError, null);
    const challengedAt = await blockNumberOf(api, challenged.inBlock);

    // Round 0: a jury of three finds the result wrong ("Lyon").
    const first = await juryOf(task, 0, challengedAt);
    assert.equal(first.seated.length, 3);
    // While the jury votes, anyone's `advance` finds nothing due (and no such dispute).
    const nonce = (await api.rpc.system.accountNextIndex(ferdie.address)).toNumber();
    const [overturned, early, unknown] = await Promise.all([
      judge(task, 0, first.seated, lyon, first.drawn.blockNumber),
      sendInBlock(api, api.tx.challenges.advance(task), ferdie, { nonce }),
      sendInBlock(api, api.tx.challenges.advance(999_999), ferdie, { nonce: nonce + 1 }),
    ]);
    assert.equal(early.dispatchError, 'challenges.TooEarly');
    assert.equal(unknown.dispatchError, 'challenges.UnknownDispute');

    // The winning side cannot appeal; Eve, whose result was overturned, can, with a bond of at
    // least twice the challenge bond.
    const [byWinner, tooLow] = await Promise.all([
      sendInBlock(api, api.tx.challenges.appeal(task, 2n * bond), ferdie),
      sendInBlock(api, api.tx.challenges.appeal(task, 2n * bond - 1n), eve),
    ]);
    assert.equal(byWinner.dispatchError, 'challenges.NotLosingSide');
    assert.equal(tooLow.dispatchError, 'challenges.BondTooLow');
    const appealed = await sendInBlock(api, api.tx.challenges.appeal(task, 2n * bond), eve);
    assert.equal(appealed.dispatchError, null);
    const appeal = inEvents(appealed, 'challenges', 'Appealed')[0];
    assert.equal(appeal.data.round.toNumber(), 1);
    assert.equal(appeal.data.bond.toBigInt(), 2n * bond);
    const holds = await (await api.at(appealed.blockHash)).query.balances.holds(eve.address);
    const held = holds.filter((h) => h.id.isChallenges).reduce((sum, h) => sum + h.amount.toBigInt(), 0n);
    assert.equal(held, 2n * bond, 'the appeal bond is held');
    assert.ok(overturned.blockNumber < (await blockNumberOf(api, appealed.blockHash)));

    // Round 1: seven jurors, none of the first round, uphold Eve's result.
    const second = await juryOf(task, 1, await blockNumberOf(api, appealed.blockHash));
    assert.equal(second.seated.length, 7);
    for (const juror of second.seated) assert.ok(!first.seated.includes(juror), 'a first-round juror sits again');
    const upheld = await judge(task, 1, second.seated, paris, second.drawn.blockNumber);

    // The dispute closes once the last appeal window ends: the result stands, Eve keeps her
    // stake and gets her bond back, Ferdie's bond is forfeited.
    const closed = await eventSince(api, upheld.blockNumber, eventOf('challenges', 'DisputeClosed', task), {
      what: `the close of the dispute over task ${task}`,
    });
    assert.equal(closed.event.data.verdict.unwrap().toHex(), paris);
    assert.equal(closed.event.data.resultOverturned.isFalse, true);
    const events = (await (await api.at(closed.blockHash)).query.system.events()).map(({ event }) => event);
    const about = (method, who) =>
      events.filter((e) => e.section === 'challenges' && e.method === method && e.data.who.toString() === who);
    assert.equal(about('BondReturned', eve.address)[0].data.amount.toBigInt(), 2n * bond);
    assert.equal(about('BondForfeited', ferdie.address)[0].data.amount.toBigInt(), bond);
    assert.equal(events.some((e) => e.section === 'challenges' && e.method === 'ExecutorSlashed'), false);
    const agent = (await (await api.at(closed.blockHash)).query.agents.agents(eve.address)).unwrap();
    assert.equal(agent.stake.toBigInt(), STAKE, 'Eve was not slashed');
  });
});
