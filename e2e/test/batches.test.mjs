// A batch of 24 items end to end on a real dev node: Alice's agent node runs it against the
// reference inference server, lies on one item, Bob challenges that item and a jury of verifiers
// finds it wrong; Alice is slashed an item's price and Bob pays for the 23 correct items only. The
// test itself is in e2e/lib/batch-with-a-lie.mjs (also run at 1,000 items, and at 24 under a flood
// of transfers, by scripts/long-e2e.sh).
import { BATCH_OF_24, describeBatchWithALie } from '../lib/batch-with-a-lie.mjs';

describeBatchWithALie({ name: 'batches', ...BATCH_OF_24 });
