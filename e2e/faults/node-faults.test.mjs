// Node faults, on real nodes: a node killed with SIGKILL (no shutdown of any kind) while it
// imports blocks, and an agent node killed while its off-chain worker waits on the inference
// endpoint. After each restart: the database opens, no finalized block is lost or changed, the
// chain goes on, and the interrupted task is committed and revealed exactly once.
//
// Outside the default suite (it kills and restarts nodes for a few minutes): run it with
// scripts/node-faults.sh. See docs/reliability.md.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyring } from '@polkadot/keyring';
import { blake2AsHex, cryptoWaitReady } from '@polkadot/util-crypto';
import {
  bootnodeOf,
  nameOperator,
  repoRoot,
  sendAndFinalize,
  sendInBlock,
  startDevNode,
  startInferenceServer,
  waitForEvent,
  waitForHeight,
} from '../lib/node.mjs';

const UNIT = 10n ** 12n;
const MODEL_NAME = 'ngram-en';
const MODEL = blake2AsHex(MODEL_NAME, 256);
const KILLS = Number(process.env.FAULT_KILLS ?? 5);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The finalized head of `api`: { number, hash }. */
async function finalizedOf(api) {
  const hash = await api.rpc.chain.getFinalizedHead();
  const number = (await api.rpc.chain.getHeader(hash)).number.toNumber();
  return { number, hash: hash.toHex() };
}

/** Every event of blocks `from`..=`to` for which `predicate` holds. */
async function eventsBetween(api, from, to, predicate) {
  const found = [];
  for (let n = from; n <= to; n++) {
    const hash = await api.rpc.chain.getBlockHash(n);
    for (const { event } of await (await api.at(hash)).query.system.events()) {
      if (predicate(event)) found.push({ blockNumber: n, event });
    }
  }
  return found;
}

describe('node faults', () => {
  const dirs = [];
  const cleanups = [];
  const tempDir = (name) => {
    const dir = mkdtempSync(join(tmpdir(), `agentchain-${name}-`));
    dirs.push(dir);
    return dir;
  };

  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  test(`a follower killed ${KILLS} times while importing blocks keeps every finalized block`, async () => {
    const author = await startDevNode('faults-author');
    cleanups.push(author.stop);
    const bootnode = await bootnodeOf(author);
    const basePath = tempDir('follower');
    let follower;
    cleanups.push(() => follower.stop());
    const startFollower = () =>
      startDevNode('faults-follower', ['--bootnodes', bootnode], { basePath, chain: 'dev' });
    follower = await startFollower();
    await waitForHeight(follower.api, 3, { finalized: true, timeoutMs: 120_000 });

    for (let kill = 1; kill <= KILLS; kill++) {
      const before = await finalizedOf(follower.api);
      // The author's next block: the follower is receiving and importing it when it is killed,
      // 0–50 ms after the author announced it (a small block imports in milliseconds: some
      // kills land in the import, others just before or after it).
      await new Promise((resolve) => {
        let unsubscribe;
        let fired = false;
        author.api.rpc.chain
          .subscribeNewHeads(() => {
            if (fired) return;
            fired = true;
            if (unsubscribe) unsubscribe();
            resolve();
          })
          .then((u) => {
            unsubscribe = u;
            if (fired) u();
          });
      });
      await sleep(Math.floor(Math.random() * 50));
      await follower.kill();

      follower = await startFollower();
      const kept = (await follower.api.rpc.chain.getBlockHash(before.number)).toHex();
      assert.equal(kept, before.hash, `kill ${kill}: finalized block #${before.number} is still there, unchanged`);
      const after = await finalizedOf(follower.api);
      assert.ok(after.number >= before.number, `kill ${kill}: finality did not go back (${after.number} < ${before.number})`);
      // It syncs and finalizes again: two blocks past what was finalized when it was killed.
      await waitForHeight(follower.api, before.number + 2, { finalized: true, timeoutMs: 90_000 });
      console.log(`# kill ${kill}: finalized #${before.number} kept; finalizing again past #${before.number + 2}`);
    }
  });

  test('an agent node killed while its off-chain worker waits on the endpoint commits and reveals the task once', async () => {
    await cryptoWaitReady();
    const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
    const alice = keyring.addFromUri('//Alice');
    const bob = keyring.addFromUri('//Bob');
    const server = await startInferenceServer('faults-endpoint', ['--model', MODEL_NAME, '--admin']);
    cleanups.push(server.stop);
    const basePath = tempDir('agent');
    const agentArgs = ['--inference-endpoint', server.baseUrl, '--inference-model', MODEL_NAME];
    const nodeLog = join(repoRoot, 'e2e', 'logs', 'faults-agent.log');
    rmSync(nodeLog, { force: true });
    let node = await startDevNode('faults-agent', agentArgs, { basePath });
    cleanups.push(() => node.stop());
    let api = node.api;

    const registered = await sendAndFinalize(
      api,
      api.tx.agents.register('alice-agent', server.baseUrl, '1', [MODEL], ['Executor'], 500n * UNIT),
      alice,
    );
    assert.equal(registered.dispatchError, null);
    await nameOperator(api, alice, keyring.addFromUri('//Alice//operator'));

    // The endpoint answers after 12 s: the node is killed 3 s after the task's assignment was
    // imported (its worker calls the endpoint right after the import).
    await server.setFault('slow', 12_000);
    const id = (await api.query.inference.nextTaskId()).toNumber();
    const isEvent = (name) => (event) =>
      api.events.inference[name].is(event) && event.data.task.toNumber() === id;
    const assigned = waitForEvent(api, isEvent('TaskAssigned'), { what: `assignment of task ${id}` });
    const submitted = await sendInBlock(
      api,
      api.tx.inference.submitTask(
        MODEL,
        { Inline: 'The river carries' },
        { maxTokens: 12, temperatureMilli: 0, seed: 7, mode: 'ExactMatch' },
        UNIT,
        1,
        30, // a commit period of 90 s: time to restart and call the endpoint again
      ),
      bob,
    );
    assert.equal(submitted.dispatchError, null);
    const from = (await api.rpc.chain.getHeader(submitted.blockHash)).number.toNumber();
    const { blockNumber: assignedAt, event } = await assigned;
    const deadline = event.data.commitDeadline.toNumber();
    await sleep(3_000);
    await node.kill();
    // Killed before the endpoint answered: the worker had written no result (it logs "result
    // ready" once it has, before it commits).
    const ready = () => readFileSync(nodeLog, 'utf8').split('\n').filter((l) => l.includes(`task ${id}: result ready`));
    assert.equal(ready().length, 0, 'the node was killed before the endpoint answered');
    console.log(`# task ${id} assigned in #${assignedAt} (commit deadline #${deadline}); node killed mid-call`);

    await server.setFault('honest');
    node = await startDevNode('faults-agent', agentArgs, { basePath });
    api = node.api;
    const revealed = await waitForEvent(api, isEvent('ResultRevealed'), {
      what: `reveal of task ${id} after the restart`,
      timeoutMs: 180_000,
    }).catch(async (error) => {
      const missed = await eventsBetween(api, from, (await api.rpc.chain.getHeader()).number.toNumber(),
        (e) => api.events.inference.ExecutorMissedDeadline.is(e) && e.data.task.toNumber() === id);
      throw new Error(`${error.message}${missed.length ? ' (the executor missed its deadline: slashed)' : ''}`);
    });
    const to = revealed.blockNumber;
    const commits = await eventsBetween(api, from, to, isEvent('ResultCommitted'));
    const reveals = await eventsBetween(api, from, to, isEvent('ResultRevealed'));
    assert.equal(commits.length, 1, 'one commitment');
    assert.equal(reveals.length, 1, 'one reveal');
    assert.ok(commits[0].blockNumber < deadline, 'committed before the deadline');
    assert.equal(ready().length, 1, 'the restarted node called the endpoint and committed once');
    console.log(`# task ${id}: committed in #${commits[0].blockNumber}, revealed in #${to}, once each`);
  });
});
