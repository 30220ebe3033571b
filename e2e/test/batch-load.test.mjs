// The batch load script's short form (e2e/bench/batches.mjs runs it at length): batches of 1 and
// of 100 items submitted, drawn, committed, revealed and finalised on a dev node, with a transfer
// measured in the same run. Checks the shape of what it measures, not how fast: every batch taken
// and settled, a batch's bytes and weight nearly the same whatever its size, so that an
// inference's share falls with the items, below a transfer's at 100 items.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { batchTable, measureBatches } from '../lib/batch-load.mjs';

test('the batch load script measures what an inference costs in batches, next to a transfer', { timeout: 900_000 }, async () => {
  await cryptoWaitReady();
  const figures = await measureBatches({ name: 'batch-load', sizes: [1, 100], batches: 4, transfers: 400, requesters: 4, executors: 4 });
  const table = batchTable(figures);
  console.log(table);
  const { transfer, sizes } = figures;
  assert.equal(transfer.count, 400, 'every transfer measured');
  const transferPs = transfer.weight / BigInt(transfer.count);
  const [one, hundred] = sizes;
  for (const s of sizes) {
    assert.equal(s.finalised + s.audited, s.batches, `batches of ${s.items}: each finalised or audited`);
    assert.ok(s.bytesPerBatch > 0 && s.extrinsicsMicrosPerBatch > 0 && s.hooksMicrosPerBatch > 0, `batches of ${s.items}: a cost`);
  }
  // A batch of 100 items costs the chain about what a batch of one does: its input is the same
  // size (a root and a count) and so are its calls and deadlines.
  assert.ok(Math.abs(hundred.bytesPerBatch - one.bytesPerBatch) <= 8, `bytes a batch: ${one.bytesPerBatch} and ${hundred.bytesPerBatch}`);
  assert.ok(hundred.picosPerInference * 50n < one.picosPerInference, 'an inference costs under a fiftieth at 100 items');
  assert.ok(hundred.picosPerInference < transferPs, 'an inference of a batch of 100 costs less than a transfer');
  assert.ok(one.picosPerInference > transferPs, 'a single inference costs more than a transfer');
  const rows = table.split('\n').filter((line) => /^\| \d/.test(line));
  assert.equal(rows.length, sizes.length);
});
