// Batch load script: what the chain costs per inference when inferences come in batches, next to
// a transfer measured in the same run. On one dev node, with batches turned on by root: for each
// size, batches submitted at once from many requesters, drawn, committed and revealed by the
// script's executors, followed to their finalisation; prints the bytes and the weight (extrinsics
// and hooks) a batch and an inference cost, the inferences a block could settle at that cost, the
// most seen settled in one block, and the blocks from submission to finalisation. See
// docs/benchmarks.md.
//
//   node e2e/bench/batches.mjs [batches] [sizes]   (default 64 and 1,100,1024; the node binary as
//                                                   for the e2e tests; about 10 minutes)
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { batchTable, measureBatches } from '../lib/batch-load.mjs';

const batches = Number(process.argv[2] || 64);
const sizes = (process.argv[3] || '1,100,1024').split(',').map(Number);

await cryptoWaitReady();
const started = Date.now();
const figures = await measureBatches({ name: 'bench-batches', sizes, batches, log: console.log });
console.log(`\n${batches} batches of each size, ${Math.round((Date.now() - started) / 1000)} s in all\n`);
console.log(batchTable(figures));
