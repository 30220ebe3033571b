// The batch of e2e/test/batches.test.mjs (24 items, a lie on one) with its item dispute under a
// flood: 32 accounts fill every block with transfers from before Bob's challenge until the
// dispute closes. Alice's node's showings of the item, a duty of the dispute's executor, land
// within three blocks of the dispute's opening (as at idle, within a block more), the jurors'
// votes land, and Alice's root is found wrong on the lie, not on an item nobody could show. About
// four minutes. Runs outside the default suite (scripts/long-e2e.sh); figures in
// docs/liveness.md.
import { BATCH_OF_24, describeBatchWithALie } from '../lib/batch-with-a-lie.mjs';

describeBatchWithALie({ name: 'batch-showing-under-flood', ...BATCH_OF_24, flood: true, timeoutMs: 900_000 });
