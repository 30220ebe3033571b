// The batch of e2e/test/batches.test.mjs, run by edge agents (`agentchain agent run`) against a
// node with no endpoint of its own: Alice's edge agent (`--outputs-url`) runs the 24 items (killed
// with SIGKILL once it kept two outputs, and restarted on the same state: it goes on from the
// items kept, and commits once), publishes its outputs document, commits then reveals their root,
// lies on one item (its endpoint does), and shows that item's input and output hash when Bob
// challenges it; the three
// verifiers drawn for the jury run edge agents that re-execute that one item and vote. Alice is
// slashed an item's price and Bob pays for the 23 correct items only. The test itself is in
// e2e/lib/batch-with-a-lie.mjs.
import { BATCH_OF_24, describeBatchWithALie } from '../lib/batch-with-a-lie.mjs';

describeBatchWithALie({ name: 'edge-batches', ...BATCH_OF_24, edge: true });
