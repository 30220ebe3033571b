// Load script: how many agent calls a block takes next to ordinary transfers. On one dev node,
// pre-signs from many accounts (the polkadot-stps method) `balances.transfer_keep_alive` (the
// baseline), `agents.heartbeat`, `inference.submit_task`, then each task's `commit` and `reveal`;
// sends each kind to the pool at once and counts the blocks that take it in. Prints each call's
// included extrinsics per block and per second, and its ratio to the transfer's. See
// docs/benchmarks.md.
//
//   node e2e/bench/load.mjs [extrinsics] [tasks]   (default 8000 and 1000; the node binary as
//                                                   for the e2e tests)
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { BLOCK_SECONDS, measureThroughput, throughputTable } from '../lib/load.mjs';

const count = Number(process.argv[2] || 8000);
const tasks = Number(process.argv[3] || 1000);

await cryptoWaitReady();
const started = Date.now();
const { phases, accounts, agents } = await measureThroughput({ name: 'bench-load', count, tasks, log: console.log });
console.log(`\n${accounts} accounts (${agents} of them executors), ${BLOCK_SECONDS}-second blocks, ${Math.round((Date.now() - started) / 1000)} s in all\n`);
console.log(throughputTable(phases));
const a = phases.submitTask.assignmentBlocks;
console.log(`\nblocks from a task's submission to its assignment: min ${a.min}, median ${a.median}, max ${a.max}`);
if (Object.values(phases).some((p) => !p.rate.saturated)) {
  console.log('(≥: no block was full of them, so the figure is the fullest block\'s: how fast the script sent them, a lower bound of what a block takes)');
}
