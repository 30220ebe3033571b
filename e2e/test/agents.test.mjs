// pallet-agents on a real dev node, driven from polkadot.js: register an agent, read it back,
// set an operator key, unbond, and see the holds on the owner's account.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { sendAndFinalize, startDevNode } from '../lib/node.mjs';

const UNIT = 10n ** 12n;
const MODEL = '0x' + '11'.repeat(32);

describe('agent registry', () => {
  let node;
  let api;
  let owner;
  let operator;
  let stranger;

  before(async () => {
    await cryptoWaitReady();
    const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
    owner = keyring.addFromUri('//Charlie');
    operator = keyring.addFromUri('//Charlie//operator');
    stranger = keyring.addFromUri('//Dave');
    node = await startDevNode('agents');
    api = node.api;
  });

  after(async () => {
    if (node) await node.stop();
  });

  const holdsOf = async (who, at = api) => {
    const holds = await at.query.balances.holds(who);
    return Object.fromEntries(
      holds.filter((h) => h.id.isAgents).map((h) => [h.id.asAgents.type, h.amount.toBigInt()]),
    );
  };

  test('registers an agent and holds its stake and deposit', async () => {
    const freeBefore = (await api.query.system.account(owner.address)).data.free.toBigInt();
    const stake = 500n * UNIT;
    const result = await sendAndFinalize(
      api,
      api.tx.agents.register(
        'charlie-agent',
        'http://127.0.0.1:8080/v1',
        '0.1.0',
        [MODEL],
        ['Executor', 'Verifier'],
        stake,
      ),
      owner,
    );
    assert.equal(result.dispatchError, null);
    const registered = result.events.find(({ event }) => api.events.agents.AgentRegistered.is(event));
    assert.ok(registered, 'AgentRegistered was emitted');
    assert.equal(registered.event.data.agent.toString(), owner.address);
    assert.equal(registered.event.data.stake.toBigInt(), stake);

    const at = await api.at(result.blockHash);
    const agent = (await at.query.agents.agents(owner.address)).unwrap();
    assert.equal(agent.stake.toBigInt(), stake);
    assert.equal(agent.status.type, 'Active');
    assert.deepEqual(agent.roles.map((r) => r.type), ['Executor', 'Verifier']);
    assert.deepEqual(agent.models.map((m) => m.toHex()), [MODEL]);
    assert.equal(agent.metadata.name.toUtf8(), 'charlie-agent');
    assert.equal(agent.operator.isNone, true);

    const holds = await holdsOf(owner.address, at);
    assert.equal(holds.AgentStake, stake);
    assert.ok(holds.AgentDeposit >= UNIT, `deposit ${holds.AgentDeposit}`);
    const fee = result.events
      .find(({ event }) => api.events.transactionPayment.TransactionFeePaid.is(event))
      .event.data.actualFee.toBigInt();
    const freeAfter = (await at.query.system.account(owner.address)).data.free.toBigInt();
    assert.equal(freeBefore - freeAfter, stake + holds.AgentDeposit + fee);

    // Seated in the model's executor set, weighing its bonded stake in draws.
    const candidates = await at.query.agents.candidates('Executor', MODEL);
    assert.deepEqual(
      candidates.map((seat) => [seat.agent.toString(), seat.weight.toBigInt()]),
      [[owner.address, stake]],
    );
  });

  test('refuses a second registration and changes nothing', async () => {
    const before = await holdsOf(owner.address);
    const result = await sendAndFinalize(
      api,
      api.tx.agents.register('again', '', '', [], ['Executor'], 500n * UNIT),
      owner,
    );
    assert.equal(result.dispatchError, 'agents.AlreadyRegistered');
    assert.deepEqual(await holdsOf(owner.address), before);
  });

  test('sets an operator key that acts for the agent', async () => {
    // The operator pays its own transaction fees; fund it from Alice.
    const alice = new Keyring({ type: 'sr25519' }).addFromUri('//Alice');
    await sendAndFinalize(api, api.tx.balances.transferKeepAlive(operator.address, 10n * UNIT), alice);

    // Named by the owner, the key acts for nobody until it accepts with its own signature.
    const named = await sendAndFinalize(api, api.tx.agents.setOperator(operator.address), owner);
    assert.equal(named.dispatchError, null);
    assert.ok(named.events.some(({ event }) => api.events.agents.OperatorProposed.is(event)));
    assert.ok((await (await api.at(named.blockHash)).query.agents.operators(operator.address)).isNone);
    const refusedAccept = await sendAndFinalize(api, api.tx.agents.acceptOperator(owner.address), stranger);
    assert.equal(refusedAccept.dispatchError, 'agents.NotProposedOperator');
    const result = await sendAndFinalize(api, api.tx.agents.acceptOperator(owner.address), operator);
    assert.equal(result.dispatchError, null);
    const at = await api.at(result.blockHash);
    assert.equal((await at.query.agents.operators(operator.address)).unwrap().toString(), owner.address);
    assert.equal(
      (await at.query.agents.agents(owner.address)).unwrap().operator.unwrap().toString(),
      operator.address,
    );

    const beat = await sendAndFinalize(api, api.tx.agents.heartbeat(), operator);
    assert.equal(beat.dispatchError, null);
    const event = beat.events.find(({ event }) => api.events.agents.Heartbeat.is(event));
    assert.equal(event.event.data.agent.toString(), owner.address);

    const refused = await sendAndFinalize(api, api.tx.agents.heartbeat(), stranger);
    assert.equal(refused.dispatchError, 'agents.NotAgentOrOperator');
  });

  test('an account named operator without its consent stays free to register its own agent', async () => {
    // The owner names Dave, who signed nothing.
    const named = await sendAndFinalize(api, api.tx.agents.setOperator(stranger.address), owner);
    assert.equal(named.dispatchError, null);
    assert.ok((await api.query.agents.operators(stranger.address)).isNone, 'Dave acts for nobody');
    const registered = await sendAndFinalize(
      api,
      api.tx.agents.register('dave-agent', '', '', [], ['Curator'], 50n * UNIT),
      stranger,
    );
    assert.equal(registered.dispatchError, null);
    // An owner cannot then be an operator: the stale proposal can never be accepted.
    const accept = await sendAndFinalize(api, api.tx.agents.acceptOperator(owner.address), stranger);
    assert.equal(accept.dispatchError, 'agents.OperatorIsAgent');
    // The agent's accepted operator key still acts for it.
    assert.equal(
      (await api.query.agents.agents(owner.address)).unwrap().operator.unwrap().toString(),
      operator.address,
    );
  });

  test('unbonds stake that stays held until the unbonding period ends', async () => {
    const unbonded = 100n * UNIT;
    const tooMuch = await sendAndFinalize(api, api.tx.agents.unbond(450n * UNIT), owner);
    assert.equal(tooMuch.dispatchError, 'agents.BelowMinimumStake');

    const result = await sendAndFinalize(api, api.tx.agents.unbond(unbonded), owner);
    assert.equal(result.dispatchError, null);
    const event = result.events.find(({ event }) => api.events.agents.StakeUnbonded.is(event));
    const unlockAt = event.event.data.unlockAt.toNumber();
    const period = api.consts.agents.unbondingPeriod.toNumber();
    const block = (await api.rpc.chain.getHeader(result.blockHash)).number.toNumber();
    assert.equal(unlockAt, block + period);

    const at = await api.at(result.blockHash);
    const agent = (await at.query.agents.agents(owner.address)).unwrap();
    assert.equal(agent.stake.toBigInt(), 400n * UNIT);
    assert.equal(agent.unbonding.length, 1);
    assert.equal(agent.unbonding[0].value.toBigInt(), unbonded);
    // Unbonding stake is still held: slashable until unlockAt.
    assert.equal((await holdsOf(owner.address, at)).AgentStake, 500n * UNIT);

    const early = await sendAndFinalize(api, api.tx.agents.withdrawUnbonded(), owner);
    assert.equal(early.dispatchError, 'agents.NothingToWithdraw');
  });
});
