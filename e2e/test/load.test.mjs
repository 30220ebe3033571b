// The load script's short form (e2e/bench/load.mjs runs it at length): agent calls and transfers
// pre-signed from many accounts, each kind sent to the pool at once, the blocks counted. Checks the
// shape of what it measures, not how fast: every extrinsic of every kind lands and succeeds, each
// kind gets a rate and a ratio to the transfer's, and no task is assigned in the block it was
// submitted in (its executors are drawn from a later block's randomness).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { KINDS, measureThroughput, throughputTable } from '../lib/load.mjs';

test('the load script measures every agent call next to transfers', { timeout: 900_000 }, async () => {
  await cryptoWaitReady();
  const { phases } = await measureThroughput({ name: 'load', count: 1500, tasks: 150, accounts: 24, agents: 8 });
  console.log(throughputTable(phases));
  for (const [kind, method] of KINDS) {
    const p = phases[kind];
    assert.equal(p.included, p.sent, `${method}: ${p.sent - p.included} of ${p.sent} never included`);
    assert.equal(p.succeeded, p.sent, `${method}: ${p.sent - p.succeeded} failed in dispatch`);
    assert.ok(p.rate.perBlock > 0 && p.rate.perSecond > 0, `${method}: no rate`);
    assert.ok(p.maxPerBlock >= p.rate.perBlock, `${method}: a rate above the fullest block`);
  }
  assert.equal(phases.transfer.sent, 1500);
  assert.equal(phases.commit.sent, 150);
  const table = throughputTable(phases).split('\n');
  assert.equal(table.length, 2 + KINDS.length);
  assert.match(table[2], /\| 1\.00 \|$/, 'the transfer is the baseline');
  for (const row of table.slice(3)) assert.match(row, /\| \d+\.\d\d \|$/, row);
  assert.ok(phases.submitTask.assignmentBlocks.min >= 1, 'a task assigned in the block it was submitted in');
});
