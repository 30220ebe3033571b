// pallet-inference on a real dev node: a task submitted from polkadot.js is executed by two
// agent accounts that sign their own commit and reveal, and is finalised and paid.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Keyring } from '@polkadot/keyring';
import { blake2AsU8a, cryptoWaitReady, decodeAddress } from '@polkadot/util-crypto';
import { stringToU8a, u8aConcat, u8aToHex } from '@polkadot/util';
import { blockNumberOf, eventSince, sendAndFinalize, startDevNode, waitForHeight } from '../lib/node.mjs';

const UNIT = 10n ** 12n;
const MODEL = '0x' + '42'.repeat(32);

/** blake2_256(output_hash ‖ salt ‖ executor): what an executor commits to. */
function commitmentOf(outputHash, salt, address) {
  return u8aToHex(blake2AsU8a(u8aConcat(outputHash, salt, decodeAddress(address))));
}

describe('inference task lifecycle', () => {
  let node;
  let api;
  let keyring;

  before(async () => {
    await cryptoWaitReady();
    keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
    node = await startDevNode('inference');
    api = node.api;
  });

  after(async () => {
    if (node) await node.stop();
  });

  test('refuses a task for a model nobody serves', async () => {
    const alice = keyring.addFromUri('//Alice');
    const before = (await api.query.system.account(alice.address)).data.free.toBigInt();
    const result = await sendAndFinalize(
      api,
      api.tx.inference.submitTask(
        '0x' + '99'.repeat(32),
        { Inline: 'hello' },
        { maxTokens: 8, temperatureMilli: 0, seed: 1, mode: 'ExactMatch' },
        UNIT,
        1,
        10,
      ),
      alice,
    );
    assert.equal(result.dispatchError, 'inference.NoExecutors');
    const fee = result.events
      .find(({ event }) => api.events.transactionPayment.TransactionFeePaid.is(event))
      .event.data.actualFee.toBigInt();
    const after = (await (await api.at(result.blockHash)).query.system.account(alice.address)).data.free.toBigInt();
    assert.equal(before - after, fee, 'only the transaction fee was paid');
  });

  test('refuses inputs and parameters its executors could only fail on, holding nothing', async () => {
    const alice = keyring.addFromUri('//Alice');
    const cases = [
      // A single byte that is not UTF-8 text: no model can run it.
      [{ Inline: '0xff' }, { maxTokens: 8, temperatureMilli: 0, seed: 1, mode: 'ExactMatch' }, 'inference.InputNotText'],
      // Exact match at a temperature above 0: honest executors would disagree.
      [{ Inline: 'hello' }, { maxTokens: 8, temperatureMilli: 1500, seed: 1, mode: 'ExactMatch' }, 'inference.TemperatureNotZero'],
      // More tokens than the commit period gives time for.
      [{ Inline: 'hello' }, { maxTokens: 1024, temperatureMilli: 0, seed: 1, mode: 'ExactMatch' }, 'inference.CommitPeriodTooShort'],
      // An input URI an executor cannot fetch.
      [{ Reference: { hash: '0x' + '11'.repeat(32), uri: 'file:///etc/passwd' } }, { maxTokens: 8, temperatureMilli: 0, seed: 1, mode: 'ExactMatch' }, 'inference.InvalidInputUri'],
    ];
    // Sent together, with consecutive nonces.
    const nonce = (await api.rpc.system.accountNextIndex(alice.address)).toNumber();
    const results = await Promise.all(
      cases.map(([input, params], i) =>
        sendAndFinalize(api, api.tx.inference.submitTask(MODEL, input, params, UNIT, 1, 10), alice, { nonce: nonce + i }),
      ),
    );
    for (const [i, [, , error]] of cases.entries()) {
      assert.equal(results[i].dispatchError, error);
      const holds = await (await api.at(results[i].blockHash)).query.balances.holds(alice.address);
      assert.equal(holds.filter((h) => h.id.isInference).length, 0, `nothing held after ${error}`);
    }
  });

  test('two executors commit, reveal, and are paid after the challenge window', async () => {
    const alice = keyring.addFromUri('//Alice');
    const executors = [keyring.addFromUri('//Eve'), keyring.addFromUri('//Ferdie')];
    for (const executor of executors) {
      const registered = await sendAndFinalize(
        api,
        api.tx.agents.register('executor', 'http://127.0.0.1:8080/v1', '1', [MODEL], ['Executor'], 200n * UNIT),
        executor,
      );
      assert.equal(registered.dispatchError, null);
    }

    const fee = 2n * UNIT;
    const submitted = await sendAndFinalize(
      api,
      api.tx.inference.submitTask(
        MODEL,
        { Inline: 'What is the capital of France?' },
        { maxTokens: 8, temperatureMilli: 0, seed: 42, mode: 'ExactMatch' },
        fee,
        2,
        20,
      ),
      alice,
    );
    assert.equal(submitted.dispatchError, null);
    const submittedEvent = submitted.events.find(({ event }) => api.events.inference.TaskSubmitted.is(event));
    const taskId = submittedEvent.event.data.task.toNumber();
    // The executors are drawn at the next block, from the hash of the submission's block: the
    // requester cannot know them when it submits.
    assert.ok(!submitted.events.some(({ event }) => api.events.inference.TaskAssigned.is(event)));
    const included = await blockNumberOf(api, submitted.inBlock);
    const assignedEvent = await eventSince(
      api,
      included + 1,
      (event) => api.events.inference.TaskAssigned.is(event) && event.data.task.toNumber() === taskId,
      { what: `the draw of task ${taskId}` },
    );
    assert.equal(assignedEvent.blockNumber, included + 1);
    const assigned = assignedEvent.event.data.executors.map((a) => a.toString()).sort();
    assert.deepEqual(assigned, executors.map((e) => e.address).sort());
    // Each executor's stake backs the task: the most the task can cost it is reserved, here
    // a wrong result's slash, max(20 AGC, 25 × the fee share of 1 AGC).
    for (const executor of executors) {
      const agent = (await api.query.agents.agents(executor.address)).unwrap();
      assert.equal(agent.collateral.toBigInt(), 25n * UNIT);
    }
    // The fee and the task's storage deposit are held together, the deposit until the task
    // is pruned.
    const holds = await api.query.balances.holds(alice.address);
    const escrow = holds.find((h) => h.id.isInference && h.id.asInference.isTaskEscrow);
    const { deposit } = (await api.query.inference.tasks(taskId)).unwrap();
    assert.ok(deposit.toBigInt() > 0n);
    assert.equal(escrow.amount.toBigInt(), fee + deposit.toBigInt());
    assert.ok(!holds.some((h) => h.id.isInference && h.id.asInference.isTaskDeposit));

    // Each executor runs the model (here: a fixed answer), then commits and reveals.
    const output = stringToU8a('Paris');
    const outputHash = blake2AsU8a(output);
    const salts = executors.map((_, i) => blake2AsU8a(stringToU8a(`salt-${i}-${Date.now()}`)));
    const balancesBefore = [];
    for (const executor of executors) {
      balancesBefore.push((await api.query.system.account(executor.address)).data.free.toBigInt());
    }
    // Both executors sign their own commitments, in parallel.
    const commits = await Promise.all(
      executors.map((executor, i) =>
        sendAndFinalize(
          api,
          api.tx.inference.commit(taskId, commitmentOf(outputHash, salts[i], executor.address)),
          executor,
        ),
      ),
    );
    for (const committed of commits) assert.equal(committed.dispatchError, null);
    const status = (await api.query.inference.tasks(taskId)).unwrap().status.type;
    assert.equal(status, 'Committed');

    // A reveal that does not match its commitment is refused.
    const wrong = await sendAndFinalize(
      api,
      api.tx.inference.reveal(taskId, u8aToHex(blake2AsU8a(stringToU8a('Lyon'))), u8aToHex(salts[0]), 'Lyon', null),
      executors[0],
    );
    assert.equal(wrong.dispatchError, 'inference.CommitmentMismatch');

    const reveals = await Promise.all(
      executors.map((executor, i) =>
        sendAndFinalize(
          api,
          api.tx.inference.reveal(taskId, u8aToHex(outputHash), u8aToHex(salts[i]), u8aToHex(output), null),
          executor,
        ),
      ),
    );
    for (const result of reveals) assert.equal(result.dispatchError, null);
    // The last reveal ends the reveal phase; the next block's hook compares the results.
    const ended = reveals
      .flatMap((result) => result.events)
      .find(({ event }) => api.events.inference.RevealPhaseEnded.is(event));
    assert.ok(ended, 'RevealPhaseEnded after the last reveal');
    const comparedAt = ended.event.data.resultsComparedAt.toNumber();
    const lastReveal = Math.max(...(await Promise.all(reveals.map((r) => blockNumberOf(api, r.inBlock)))));
    assert.equal(comparedAt, lastReveal + 1, 'compared at the next block');
    const revealedEvent = await eventSince(
      api,
      lastReveal,
      (event) => api.events.inference.TaskRevealed.is(event) && event.data.task.toNumber() === taskId,
      { what: `TaskRevealed of task ${taskId}` },
    );
    // At that block, or later if the hook had more deadlines due than a block takes.
    assert.ok(revealedEvent.blockNumber >= comparedAt, `TaskRevealed in #${revealedEvent.blockNumber}`);
    assert.equal(revealedEvent.event.data.outputHash.toHex(), u8aToHex(outputHash));
    const challengeEnd = revealedEvent.event.data.challengeEnd.toNumber();
    const stored = await api.query.inference.outputs(taskId, u8aToHex(outputHash));
    assert.equal(stored.unwrap().inline.unwrap().toUtf8(), 'Paris');

    // Wait for the challenge window to pass; the hook finalises the task.
    await waitForHeight(api, challengeEnd, { finalized: true, timeoutMs: 180_000 });
    const blockHash = await api.rpc.chain.getBlockHash(challengeEnd);
    const events = await (await api.at(blockHash)).query.system.events();
    const finalised = events.find(({ event }) => api.events.inference.TaskFinalised.is(event));
    assert.ok(finalised, `TaskFinalised in block ${challengeEnd}`);
    const { paid, protocolCut, refunded } = finalised.event.data;
    assert.equal(paid.toBigInt() + protocolCut.toBigInt() + refunded.toBigInt(), fee);
    assert.equal(protocolCut.toBigInt(), fee / 10n);

    const at = await api.at(blockHash);
    const task = (await at.query.inference.tasks(taskId)).unwrap();
    assert.equal(task.status.type, 'Finalised');
    const held = await at.query.balances.holds(alice.address);
    // The fee is spent; the deposit stays held until the task is pruned.
    const escrowLeft = held.find((h) => h.id.isInference && h.id.asInference.isTaskEscrow);
    assert.equal(escrowLeft.amount.toBigInt(), task.deposit.toBigInt(), 'no escrow left but the deposit');
    for (const executor of executors) {
      const agent = (await at.query.agents.agents(executor.address)).unwrap();
      assert.equal(agent.reputation.completed.toNumber(), 1);
      assert.equal(agent.openWork.toNumber(), 0);
      assert.equal(agent.collateral.toBigInt(), 0n, 'the collateral the task reserved is released');
    }
    // Each executor earned its share minus the cut (less what it paid in transaction fees).
    const share = fee / 2n - fee / 20n;
    for (const [i, executor] of executors.entries()) {
      const now = (await at.query.system.account(executor.address)).data.free.toBigInt();
      const paidFees = balancesBefore[i] + share - now;
      assert.ok(paidFees > 0n && paidFees < UNIT / 10n, `fees paid by executor ${i}: ${paidFees}`);
    }
  });
});
