// Two agent nodes whose batch roots differ on two items play the whole bisection game by
// themselves (the test is in e2e/lib/batch-disagreement.mjs). About 8 minutes; run by
// scripts/long-e2e.sh.
import { describeDisagreement } from '../lib/batch-disagreement.mjs';

describeDisagreement();
