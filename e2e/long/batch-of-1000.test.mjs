// A batch of 1,000 items end to end on a real dev node (the test of e2e/test/batches.test.mjs at
// the size of a real workload; e2e/lib/batch-with-a-lie.mjs): Alice's agent node runs the 1,000
// items against the reference inference server (in a few blocks, where the chain allows 157),
// lies on one, Bob challenges that item and a jury of verifiers finds it wrong; Alice is slashed an
// item's price and Bob pays for the 999 correct items only. About 6 minutes: the window takes 70
// blocks. Runs outside the default suite (scripts/long-e2e.sh).
import { describeBatchWithALie } from '../lib/batch-with-a-lie.mjs';

const UNIT = 10n ** 12n;

describeBatchWithALie({
  name: 'batch-of-1000',
  items: 1000,
  lie: 777,
  // 2 tokens an item: the commit period needs ⌈1000 / 8⌉ + ⌈1000 × 2 / 64⌉ = 125 + 32 = 157 blocks
  // at least, at most twice that; 200 leaves the node room. The window is 20 + 200 / 4 = 70 blocks.
  maxTokens: 2,
  commitPeriod: 200,
  // 2 AGC, 0.002 AGC an item: above the batch minimum of max(0.01, 0.0015 × 1,000, 0.0001 × 200)
  // = 1.5 AGC.
  fee: 2n * UNIT,
  // Collateral 95 AGC (a wrong result's slash, 25 × the 2 AGC share = 50 AGC, and 15 items × an
  // item slash of 3 AGC); 200 AGC covers it and its slash.
  aliceStake: 200n * UNIT,
});
