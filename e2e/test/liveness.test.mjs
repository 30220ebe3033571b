// Liveness under load, end to end on a real dev agent node: 32 accounts flood ordinary transfers
// at (or near) the transaction pool's limit, so that every block is full, while a task and a dispute are
// in flight. The executor's commit and reveal and the jurors' votes (all sent by the node's
// off-chain workers) land within two blocks of when they land on an idle chain; nobody honest is
// slashed; a task and a challenge sent during the flood with a tip of a millionth of an AGC are
// accepted.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { waitForHeight } from '../lib/node.mjs';
import { startFlood, untilFull, watchBlocks } from '../lib/flood.mjs';
import { playRound, startLivenessNode } from '../lib/liveness.mjs';

const FLOOD_BLOCKS = 20;

describe('liveness: duties land before their deadlines while transfers fill every block', () => {
  let chain;

  before(async () => {
    await cryptoWaitReady();
    chain = await startLivenessNode('liveness');
  });

  after(async () => {
    if (chain) await chain.stop();
  });

  test('commits, reveals and votes land within two blocks of idle under a flood of transfers', async () => {
    const { api } = chain;
    const idle = await playRound(chain, 'idle');
    console.log(`# idle: task ${idle.task}, blocks from each phase's start to its duty: ${JSON.stringify(idle.delays)}`);

    const blocks = watchBlocks(api, { min: 500 });
    const flood = await startFlood(api, chain.rpcUrl, chain.accounts.Alice.owner, { log: console.log });
    try {
      const floodStart = (await api.rpc.chain.getHeader()).number.toNumber();
      // Blocks are full.
      await untilFull(blocks, flood);
      console.log(
        `# flood: blocks are full from #${Math.min(...blocks.fullBlocks())}; ${JSON.stringify(flood.stats())} ` +
          'transfers submitted / refused by the pool so far',
      );

      const loaded = await playRound(chain, 'flood');
      console.log(`# flood: task ${loaded.task}, blocks from each phase's start to its duty: ${JSON.stringify(loaded.delays)}`);
      await waitForHeight(api, floodStart + FLOOD_BLOCKS, { timeoutMs: 180_000 });
      const full = blocks.fullBlocks();
      console.log(
        `# flood: ${JSON.stringify(flood.stats())}; ${full.length} blocks with 500 extrinsics or more ` +
          `(per block: ${[...blocks.counts.values()].join(', ')})`,
      );
      assert.ok(full.length >= FLOOD_BLOCKS / 2, `most flooded blocks were full (${full.length})`);
      for (const duty of Object.keys(idle.delays)) {
        assert.ok(
          loaded.delays[duty] <= idle.delays[duty] + 2,
          `${duty}: ${loaded.delays[duty]} blocks under the flood against ${idle.delays[duty]} at idle`,
        );
      }
    } finally {
      await flood.stop();
      await blocks.stop();
    }
    assert.deepEqual(chain.slashes, [], 'nobody honest was slashed or penalised');
  });
});
