// An agent node and an edge agent whose batch roots differ on two items play the whole
// bisection game by themselves: Bob's executor is an edge agent (`agentchain agent run
// --outputs-url`), which runs the batch, reveals its root and opens its nodes of each step from
// the work it keeps on disk (the test is in e2e/lib/batch-disagreement.mjs). About 8 minutes; run
// by scripts/long-e2e.sh.
import { describeDisagreement } from '../lib/batch-disagreement.mjs';

describeDisagreement({ bobEdge: true });
