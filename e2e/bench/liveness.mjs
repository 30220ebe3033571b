// Load script: liveness of protocol duties under a flood of transfers. On a dev agent node, plays
// a round of duties (a task's commit and reveal, a dispute's vote commits and reveals) on an idle
// chain, then again while 32 accounts keep the transaction pool at its limit and every block
// full, and prints the blocks each duty took, side by side, with the flood's figures.
//
//   node e2e/bench/liveness.mjs [flood blocks]   (default 30; the node binary as for the e2e tests)
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { waitForHeight } from '../lib/node.mjs';
import { sleep, startFlood, watchBlocks } from '../lib/flood.mjs';
import { TIP, playRound, startLivenessNode, trySubmitTask } from '../lib/liveness.mjs';

const floodBlocks = Number(process.argv[2] || 30);

await cryptoWaitReady();
const chain = await startLivenessNode('bench-liveness');
const { api } = chain;
try {
  const idle = await playRound(chain, 'idle');
  const blocks = watchBlocks(api, { min: 500 });
  const flood = await startFlood(api, chain.rpcUrl, chain.accounts.Alice.owner, { log: console.log });
  const start = (await api.rpc.chain.getHeader()).number.toNumber();
  // Full blocks, and the pool at its limit if the flooder gets it there within a minute.
  const since = Date.now();
  while (blocks.fullBlocks().length < 2 || (flood.stats().refused === 0 && Date.now() - since < 60_000)) {
    await sleep(500);
  }
  const untipped = await trySubmitTask(chain, 'untipped', 0n);
  const loaded = await playRound(chain, 'flood');
  await waitForHeight(api, start + floodBlocks, { timeoutMs: 600_000 });
  await flood.stop();
  await blocks.stop();

  const counts = [...blocks.counts].filter(([b]) => b > start);
  const perBlock = counts.map(([, n]) => n);
  console.log(`\nflood: ${counts.length} blocks, ${JSON.stringify(flood.stats())} transfers submitted / refused by the full pool`);
  console.log(`extrinsics per block under the flood: min ${Math.min(...perBlock)}, max ${Math.max(...perBlock)}`);
  console.log('\n| duty | blocks at idle | blocks under the flood |');
  console.log('|---|---:|---:|');
  const names = { commit: 'executor commit', reveal: 'executor reveal', voteCommit: 'vote commits (3 jurors)', voteReveal: 'vote reveals (3 jurors)' };
  for (const [duty, name] of Object.entries(names)) {
    console.log(`| ${name} | ${idle.delays[duty]} | ${loaded.delays[duty]} |`);
  }
  console.log(`\na task submitted during the flood without a tip: ${untipped}`);
  console.log(`with a tip of ${TIP} planck: accepted (the round above)`);
  console.log(`\nslashes and penalties: ${chain.slashes.length ? chain.slashes.join('; ') : 'none'}`);
} finally {
  await chain.stop();
}
