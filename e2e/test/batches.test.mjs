// A batch of 24 items end to end on a real dev node: Alice's agent node runs it against the
// reference inference server, lies on one item, Bob challenges that item and a jury of verifiers
// finds it wrong; Alice is slashed an item's price and Bob pays for the 23 correct items only. The
// test itself is in e2e/lib/batch-with-a-lie.mjs (also run at 1,000 items by scripts/long-e2e.sh).
import { describeBatchWithALie } from '../lib/batch-with-a-lie.mjs';

const UNIT = 10n ** 12n;
const MILLI = 10n ** 9n;

describeBatchWithALie({
  name: 'batches',
  // Three blocks of `ItemsPerBlock` (8) endpoint calls for the chain, one run for the node; 8
  // tokens each; the lie on item 13.
  items: 24,
  lie: 13,
  maxTokens: 8,
  // At least ⌈N / ItemsPerBlock⌉ + ⌈N × max_tokens / TokensPerBlock⌉ = 3 + 3 = 6 blocks, at most
  // twice that or MaxCommitPeriod (100); 16 leaves a busy machine room. The window is
  // ChallengePeriod + commit_period / 4 = 20 + 4 blocks.
  commitPeriod: 16,
  // 0.01 AGC an item (a single task's minimum fee): above the batch minimum of max(MinFeePerExecutor
  // 0.01, MinFeePerItem 0.0015 × 24, MinFeePerSeatBlock 0.0001 × 16) = 0.036 AGC.
  fee: 240n * MILLI,
  // Collateral 65 AGC (20 AGC + 15 items × an item slash of 3 AGC); 200 AGC covers it and its slash.
  aliceStake: 200n * UNIT,
});
