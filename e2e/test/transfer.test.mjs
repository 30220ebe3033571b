// A dev node started from the real binary: blocks are produced and finalized, and a transfer
// signed with polkadot.js is included, finalized and moves exactly the amount sent.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady, mnemonicGenerate } from '@polkadot/util-crypto';
import { sendAndFinalize, startDevNode, waitForHeight } from '../lib/node.mjs';

const UNIT = 10n ** 12n;

describe('dev node', () => {
  let node;
  let keyring;

  before(async () => {
    await cryptoWaitReady();
    keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
    node = await startDevNode('transfer');
  });

  after(async () => {
    if (node) await node.stop();
  });

  test('reports the AgentChain runtime and token', async () => {
    const { api } = node;
    assert.equal(api.runtimeVersion.specName.toString(), 'agentchain');
    assert.equal((await api.rpc.system.chain()).toString(), 'AgentChain Development');
    const properties = await api.rpc.system.properties();
    assert.equal(properties.tokenSymbol.unwrap()[0].toString(), 'AGC');
    assert.equal(properties.tokenDecimals.unwrap()[0].toNumber(), 12);
  });

  test('produces blocks about every 3 seconds and finalizes them', async () => {
    const { api } = node;
    const start = (await api.rpc.chain.getHeader()).number.toNumber();
    const startedAt = Date.now();
    const reached = await waitForHeight(api, start + 3, { timeoutMs: 30_000 });
    const perBlock = (Date.now() - startedAt) / (reached - start);
    assert.ok(perBlock < 6_000, `one block every ${perBlock} ms`);
    await waitForHeight(api, start + 2, { finalized: true, timeoutMs: 30_000 });
    assert.equal((await api.call.auraApi.slotDuration()).toNumber(), 3000);
  });

  test('a transfer is included, finalized and moves exactly the amount sent', async () => {
    const { api } = node;
    const alice = keyring.addFromUri('//Alice');
    const recipient = keyring.addFromUri(mnemonicGenerate());
    const amount = 42n * UNIT;

    const before = (await api.query.system.account(alice.address)).data.free.toBigInt();
    const result = await sendAndFinalize(
      api,
      api.tx.balances.transferKeepAlive(recipient.address, amount),
      alice,
    );
    assert.equal(result.dispatchError, null);
    assert.ok(result.inBlock, 'the transfer was seen in a block before finalization');

    const transfer = result.events.find(({ event }) => api.events.balances.Transfer.is(event));
    assert.ok(transfer, 'a Balances.Transfer event was emitted');
    assert.equal(transfer.event.data.from.toString(), alice.address);
    assert.equal(transfer.event.data.to.toString(), recipient.address);
    assert.equal(transfer.event.data.amount.toBigInt(), amount);
    const feePaid = result.events.find(({ event }) =>
      api.events.transactionPayment.TransactionFeePaid.is(event),
    );
    assert.ok(feePaid, 'a TransactionFeePaid event was emitted');
    const fee = feePaid.event.data.actualFee.toBigInt();
    assert.ok(fee > 0n);

    const atBlock = await api.at(result.blockHash);
    const recipientAfter = (await atBlock.query.system.account(recipient.address)).data.free.toBigInt();
    const aliceAfter = (await atBlock.query.system.account(alice.address)).data.free.toBigInt();
    assert.equal(recipientAfter, amount);
    assert.equal(before - aliceAfter, amount + fee);
  });

  test('a transfer beyond the balance fails and moves nothing but the fee', async () => {
    const { api } = node;
    const bob = keyring.addFromUri('//Bob');
    const recipient = keyring.addFromUri(mnemonicGenerate());
    const before = (await api.query.system.account(bob.address)).data.free.toBigInt();

    const result = await sendAndFinalize(
      api,
      api.tx.balances.transferKeepAlive(recipient.address, before * 2n),
      bob,
    );
    assert.ok(result.dispatchError, 'the transfer failed');
    assert.match(result.dispatchError, /FundsUnavailable|InsufficientBalance|Token/);
    const fee = result.events
      .find(({ event }) => api.events.transactionPayment.TransactionFeePaid.is(event))
      .event.data.actualFee.toBigInt();

    const atBlock = await api.at(result.blockHash);
    const bobAfter = (await atBlock.query.system.account(bob.address)).data.free.toBigInt();
    const recipientAfter = (await atBlock.query.system.account(recipient.address)).data.free.toBigInt();
    assert.equal(recipientAfter, 0n);
    assert.equal(before - bobAfter, fee);
  });
});
