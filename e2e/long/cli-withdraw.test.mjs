// `agentchain agent withdraw` releasing stake, against a real dev node: it needs the runtime's
// unbonding period (20 minutes, 400 blocks) to pass, so it runs outside the default suite
// (scripts/long-e2e.sh). Dave unbonds part of his stake and withdraws it when it is due; Eve
// deregisters and withdraws everything, which removes her agent and returns its storage deposit.
// Before the period ends both withdrawals are refused and nothing moves.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { nodeBinary, startDevNode } from '../lib/node.mjs';

const UNIT = 10n ** 12n;
const UNBONDING_PERIOD = 400; // blocks: runtime/src/configs/agentchain.rs

function cliBinary() {
  return process.env.AGENTCHAIN_CLI ?? join(dirname(nodeBinary()), 'agentchain');
}

describe('agentchain agent withdraw, after the unbonding period', () => {
  let node;
  let api;
  let dave;
  let eve;

  function cli(args) {
    return new Promise((resolve) => {
      execFile(cliBinary(), ['--url', node.rpcUrl, ...args, '--json'], { timeout: 300_000 }, (error, stdout, stderr) => {
        let json;
        try { json = JSON.parse(stdout); } catch { json = undefined; }
        resolve({ code: error ? error.code : 0, stdout, stderr, json });
      });
    });
  }

  const accountOf = async (address) => (await api.query.system.account(address)).data;
  const bestNumber = async () => (await api.rpc.chain.getHeader()).number.toNumber();

  before(async () => {
    await cryptoWaitReady();
    const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
    dave = keyring.addFromUri('//Dave').address;
    eve = keyring.addFromUri('//Eve').address;
    node = await startDevNode('cli-withdraw');
    api = node.api;
  });

  after(async () => {
    await node?.stop();
  });

  test('unbonded stake and a deregistered agent are released once the period is over', { timeout: 40 * 60_000 }, async () => {
    for (const suri of ['//Dave', '//Eve']) {
      const registered = await cli(['agent', 'register', '--suri', suri, '--name', suri.slice(2).toLowerCase(),
        '--model', 'ngram-en', '--role', 'verifier', '--stake', '200']);
      assert.equal(registered.code, 0, registered.stderr);
    }
    const unbonded = await cli(['agent', 'unbond', '--suri', '//Dave', '--amount', '50']);
    assert.equal(unbonded.code, 0, unbonded.stderr);
    assert.equal(BigInt(unbonded.json.agent.unbonding), 50n * UNIT);
    const deregistered = await cli(['agent', 'deregister', '--suri', '//Eve']);
    assert.equal(deregistered.code, 0, deregistered.stderr);
    assert.equal(BigInt(deregistered.json.agent.unbonding), 200n * UNIT);
    const due = Math.max(unbonded.json.block.number, deregistered.json.block.number) + UNBONDING_PERIOD;

    // Too early: refused, and nothing moves but the transaction fee.
    const early = await cli(['agent', 'withdraw', '--suri', '//Dave']);
    assert.equal(early.code, 1);
    assert.equal(early.json.error.name, 'agents.NothingToWithdraw');

    const started = Date.now();
    while (await bestNumber() < due) await new Promise((r) => setTimeout(r, 10_000));
    console.log(`# waited ${Math.round((Date.now() - started) / 1000)} s for block #${due}`);

    const daveBefore = await accountOf(dave);
    const withdrawn = await cli(['agent', 'withdraw', '--suri', '//Dave']);
    assert.equal(withdrawn.code, 0, withdrawn.stderr);
    assert.equal(withdrawn.json.result, 'withdrawn');
    assert.equal(BigInt(withdrawn.json.agent.unbonding), 0n);
    assert.equal(BigInt(withdrawn.json.agent.stake), 150n * UNIT, 'the rest stays bonded');
    assert.ok(withdrawn.json.events.some((e) => e.name === 'agents.UnbondedWithdrawn'));
    const daveAfter = await accountOf(dave);
    assert.equal(daveBefore.reserved.toBigInt() - daveAfter.reserved.toBigInt(), 50n * UNIT, '50 AGC released');
    const daveFee = daveBefore.free.toBigInt() + 50n * UNIT - daveAfter.free.toBigInt();
    assert.ok(daveFee > 0n && daveFee < UNIT / 100n, `only the transaction fee is spent: ${daveFee}`);

    const eveBefore = await accountOf(eve);
    const removed = await cli(['agent', 'withdraw', '--suri', '//Eve']);
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal(removed.json.agent, null, 'the record is gone');
    assert.ok(removed.json.events.some((e) => e.name === 'agents.AgentRemoved'));
    const eveAfter = await accountOf(eve);
    assert.equal(eveAfter.reserved.toBigInt(), 0n, 'the stake and the storage deposit are released');
    assert.ok(eveAfter.free.toBigInt() - eveBefore.free.toBigInt() > 200n * UNIT - UNIT / 100n);
    const shown = await cli(['agent', 'show', eve]);
    assert.equal(shown.code, 1);
    const again = await cli(['agent', 'withdraw', '--suri', '//Eve']);
    assert.equal(again.code, 1);
    assert.equal(again.json.error.name, 'agents.NotRegistered');
  });
});
