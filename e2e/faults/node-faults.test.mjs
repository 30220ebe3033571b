// Node faults, on real nodes: a node killed with SIGKILL (no shutdown of any kind) while it
// imports blocks; an agent node killed while its off-chain worker waits on the inference
// endpoint; an agent node whose clock jumps forward during that wait, then back; an agent node
// whose disk fills up during that wait; an agent node whose clock is behind the chain's; a node
// whose disk fills up. After each: the database opens, no finalized block is lost or changed, the
// chain goes on, and every task is committed and revealed exactly once.
//
// Outside the default suite (it kills and restarts nodes for a few minutes): run it with
// scripts/node-faults.sh. See docs/reliability.md.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
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
// libfaketime (Debian package `faketime`; scripts/node-faults.sh installs it): preloaded into a
// node, it offsets the node's wall clock by what a file says, read again every second.
const FAKETIME_LIB = [
  '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/faketime/libfaketime.so.1',
].find((path) => existsSync(path));

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
  test('an agent node whose clock jumps 10 minutes ahead during an endpoint call, then back, executes each task once', async () => {
    assert.ok(FAKETIME_LIB, 'libfaketime is installed (scripts/node-faults.sh installs the Debian package faketime)');
    await cryptoWaitReady();
    const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
    const bob = keyring.addFromUri('//Bob');
    const eve = keyring.addFromUri('//Eve');
    const server = await startInferenceServer('clock-endpoint', ['--model', MODEL_NAME, '--admin']);
    cleanups.push(server.stop);
    // Alice's node authors with a true clock; Eve's node, a follower, is the agent, its clock
    // offset by what `offset` says.
    const author = await startDevNode('clock-author');
    cleanups.push(author.stop);
    const api = author.api;
    const offset = join(tempDir('clock'), 'offset');
    writeFileSync(offset, '+0\n');
    const nodeLog = join(repoRoot, 'e2e', 'logs', 'clock-agent.log');
    rmSync(nodeLog, { force: true });
    const agent = await startDevNode('clock-agent', [
      '--eve', '--offchain-worker', 'always', '--bootnodes', await bootnodeOf(author),
      '--inference-endpoint', server.baseUrl, '--inference-model', MODEL_NAME,
    ], {
      env: {
        LD_PRELOAD: FAKETIME_LIB,
        FAKETIME_TIMESTAMP_FILE: offset,
        FAKETIME_CACHE_DURATION: '1',
        // The wall clock jumps, as when NTP steps it; the monotonic clock does not.
        FAKETIME_DONT_FAKE_MONOTONIC: '1',
      },
    });
    cleanups.push(agent.stop);
    await waitForHeight(agent.api, (await api.rpc.chain.getHeader()).number.toNumber() + 1);

    const registered = await sendAndFinalize(
      api,
      api.tx.agents.register('eve-agent', server.baseUrl, '1', [MODEL], ['Executor'], 500n * UNIT),
      eve,
    );
    assert.equal(registered.dispatchError, null);
    await nameOperator(api, eve, keyring.addFromUri('//Eve//operator'));

    const runTask = async (prompt, during) => {
      const id = (await api.query.inference.nextTaskId()).toNumber();
      const isEvent = (name) => (event) =>
        api.events.inference[name].is(event) && event.data.task.toNumber() === id;
      const assigned = waitForEvent(api, isEvent('TaskAssigned'), { what: `assignment of task ${id}` });
      // The first of: its reveal, or its executor missing the commit deadline.
      const settled = waitForEvent(
        api,
        (e) => isEvent('ResultRevealed')(e) || isEvent('ExecutorMissedDeadline')(e),
        { what: `reveal or missed deadline of task ${id}`, timeoutMs: 180_000 },
      );
      const submitted = await sendInBlock(
        api,
        api.tx.inference.submitTask(
          MODEL,
          { Inline: prompt },
          { maxTokens: 12, temperatureMilli: 0, seed: 7, mode: 'ExactMatch' },
          UNIT,
          1,
          30,
        ),
        bob,
      );
      assert.equal(submitted.dispatchError, null);
      const from = (await api.rpc.chain.getHeader(submitted.blockHash)).number.toNumber();
      const { event } = await assigned;
      await during();
      const outcome = await settled;
      assert.ok(
        api.events.inference.ResultRevealed.is(outcome.event),
        `task ${id}: the executor missed its commit deadline (#${event.data.commitDeadline}) and was slashed`,
      );
      const to = outcome.blockNumber;
      const commits = await eventsBetween(api, from, to, isEvent('ResultCommitted'));
      const reveals = await eventsBetween(api, from, to, isEvent('ResultRevealed'));
      assert.equal(commits.length, 1, `task ${id}: one commitment`);
      assert.equal(reveals.length, 1, `task ${id}: one reveal`);
      return { id, committedAt: commits[0].blockNumber, revealedAt: to };
    };

    // The clock jumps 10 minutes ahead 3 s into an 8 s endpoint call: the call's deadline, a
    // time of that clock, has passed.
    await server.setFault('slow', 8_000);
    const ahead = await runTask('The river carries', async () => {
      await sleep(3_000);
      writeFileSync(offset, '+10m\n');
      await sleep(2_000);
      await server.setFault('honest');
    });
    console.log(`# task ${ahead.id} (clock jumped 10 min ahead mid-call): committed in #${ahead.committedAt}, revealed in #${ahead.revealedAt}`);

    // Back 10 minutes, while nothing is in flight; then one more task.
    writeFileSync(offset, '+0\n');
    await sleep(2_000);
    const back = await runTask('The mountain holds', async () => {});
    console.log(`# task ${back.id} (clock back 10 min): committed in #${back.committedAt}, revealed in #${back.revealedAt}`);

    // The agent node followed the chain throughout: it holds the author's finalized blocks.
    const finalized = await finalizedOf(api);
    await waitForHeight(agent.api, finalized.number, { finalized: true, timeoutMs: 60_000 });
    assert.equal((await agent.api.rpc.chain.getBlockHash(finalized.number)).toHex(), finalized.hash);
  });

  test('an agent node whose disk fills up during an endpoint call commits and reveals the task once after a restart', async (t) => {
    if (process.getuid?.() !== 0) {
      t.skip('needs root, to mount a size-limited tmpfs as the database disk');
      return;
    }
    await cryptoWaitReady();
    const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
    const bob = keyring.addFromUri('//Bob');
    const eve = keyring.addFromUri('//Eve');
    const server = await startInferenceServer('agent-disk-endpoint', ['--model', MODEL_NAME, '--admin']);
    cleanups.push(server.stop);
    // Alice's node authors; Eve's node, a follower whose database is on a 256 MiB disk, is the
    // agent.
    const author = await startDevNode('agent-disk-author');
    cleanups.push(author.stop);
    const api = author.api;
    const basePath = tempDir('agent-disk');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256m', 'tmpfs', basePath]);
    cleanups.push(async () => execFileSync('umount', ['-l', basePath]));
    const nodeLog = join(repoRoot, 'e2e', 'logs', 'agent-disk-agent.log');
    rmSync(nodeLog, { force: true });
    const agentArgs = [
      '--eve', '--offchain-worker', 'always', '--bootnodes', await bootnodeOf(author),
      '--inference-endpoint', server.baseUrl, '--inference-model', MODEL_NAME,
      // `--eve` makes it an authority, whose network key a non-dev chain wants generated
      // beforehand; the key it writes at its first start is kept for the restart.
      '--unsafe-force-node-key-generation',
    ];
    const startAgent = () => startDevNode('agent-disk-agent', agentArgs, { basePath, chain: 'dev' });
    let agent = await startAgent();
    cleanups.push(() => agent.stop());
    await waitForHeight(agent.api, (await api.rpc.chain.getHeader()).number.toNumber() + 1);

    const registered = await sendAndFinalize(
      api,
      api.tx.agents.register('eve-agent', server.baseUrl, '1', [MODEL], ['Executor'], 500n * UNIT),
      eve,
    );
    assert.equal(registered.dispatchError, null);
    await nameOperator(api, eve, keyring.addFromUri('//Eve//operator'));

    // The endpoint answers after 10 s; the disk fills 2 s into the call, so the result is ready
    // while nothing more can be written.
    await server.setFault('slow', 10_000);
    const id = (await api.query.inference.nextTaskId()).toNumber();
    const isEvent = (name) => (event) =>
      api.events.inference[name].is(event) && event.data.task.toNumber() === id;
    const assigned = waitForEvent(api, isEvent('TaskAssigned'), { what: `assignment of task ${id}` });
    const settled = waitForEvent(
      api,
      (e) => isEvent('ResultRevealed')(e) || isEvent('ExecutorMissedDeadline')(e),
      { what: `reveal or missed deadline of task ${id}`, timeoutMs: 240_000 },
    );
    const submitted = await sendInBlock(
      api,
      api.tx.inference.submitTask(
        MODEL,
        { Inline: 'The river carries' },
        { maxTokens: 12, temperatureMilli: 0, seed: 7, mode: 'ExactMatch' },
        UNIT,
        1,
        40, // a commit period of 120 s: time to notice the full disk, free it and restart
      ),
      bob,
    );
    assert.equal(submitted.dispatchError, null);
    const from = (await api.rpc.chain.getHeader(submitted.blockHash)).number.toNumber();
    const { blockNumber: assignedAt, event } = await assigned;
    const deadline = event.data.commitDeadline.toNumber();
    // The agent node's worker calls the endpoint as it imports the assignment: the disk fills
    // 2 s after that import.
    await waitForHeight(agent.api, assignedAt, { timeoutMs: 30_000 });
    await sleep(2_000);
    const before = await finalizedOf(agent.api);
    const free = () => { const s = statfsSync(basePath); return s.bavail * s.bsize; };
    // Every free byte taken, in as many files as it takes while the node writes too.
    for (let i = 0; free() > 0 && i < 20; i++) {
      try {
        execFileSync('fallocate', ['-l', String(free()), join(basePath, `filler-${i}`)]);
      } catch {
        // Taken by the node meanwhile: the next file takes what is left.
      }
    }
    console.log(`# task ${id} assigned in #${assignedAt} (commit deadline #${deadline}); disk full 2 s into the call, #${before.number} finalized`);
    // The endpoint answers 8 s later; the node stops itself when it cannot write.
    const stoppedBy = Date.now() + 60_000;
    while (!agent.exitStatus() && Date.now() < stoppedBy) await sleep(500);
    assert.deepEqual(agent.exitStatus(), { code: 1, signal: null }, 'the agent node stops itself on a full disk');
    await sleep(1_000); // what the node wrote before it exited reaches its log
    // Nothing reached the chain from the stopped node, and it had stored no result.
    const readyLines = () => readFileSync(nodeLog, 'utf8').split('\n').filter((l) => l.includes(`task ${id}: result ready`));
    assert.equal(readyLines().length, 0, 'the node stopped before it stored a result');
    const restartAt = (await api.rpc.chain.getHeader()).number.toNumber();
    assert.equal((await eventsBetween(api, from, restartAt, isEvent('ResultCommitted'))).length, 0,
      'nothing committed before the restart');
    console.log(`# the agent node stopped itself (exit code 1); restarted at #${restartAt}`);

    // Space freed; the node restarted on the same database.
    for (const file of readdirSync(basePath).filter((f) => f.startsWith('filler-'))) rmSync(join(basePath, file));
    agent = await startAgent();
    assert.equal(
      (await agent.api.rpc.chain.getBlockHash(before.number)).toHex(),
      before.hash,
      `finalized block #${before.number} is still there, unchanged`,
    );
    const outcome = await settled;
    assert.ok(
      api.events.inference.ResultRevealed.is(outcome.event),
      `task ${id}: the executor missed its commit deadline (#${deadline}) and was slashed`,
    );
    const to = outcome.blockNumber;
    const commits = await eventsBetween(api, from, to, isEvent('ResultCommitted'));
    const reveals = await eventsBetween(api, from, to, isEvent('ResultRevealed'));
    assert.equal(commits.length, 1, 'one commitment');
    assert.equal(reveals.length, 1, 'one reveal');
    assert.ok(commits[0].blockNumber > restartAt, 'committed by the restarted node');
    assert.equal(readyLines().length, 1, 'the restarted node called the endpoint and stored one result');
    console.log(`# task ${id}: committed in #${commits[0].blockNumber}, revealed in #${to}, once each`);
  });

  test('an agent node whose clock is behind the chain\'s imports no block until it is set right, then follows and executes', async () => {
    assert.ok(FAKETIME_LIB, 'libfaketime is installed (scripts/node-faults.sh installs the Debian package faketime)');
    await cryptoWaitReady();
    const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
    const bob = keyring.addFromUri('//Bob');
    const eve = keyring.addFromUri('//Eve');
    const server = await startInferenceServer('behind-endpoint', ['--model', MODEL_NAME, '--admin']);
    cleanups.push(server.stop);
    const author = await startDevNode('behind-author');
    cleanups.push(author.stop);
    const api = author.api;
    const registered = await sendAndFinalize(
      api,
      api.tx.agents.register('eve-agent', server.baseUrl, '1', [MODEL], ['Executor'], 500n * UNIT),
      eve,
    );
    assert.equal(registered.dispatchError, null);
    await nameOperator(api, eve, keyring.addFromUri('//Eve//operator'));

    // Eve's node starts with its clock a minute behind the author's.
    const offset = join(tempDir('behind'), 'offset');
    writeFileSync(offset, '-1m\n');
    const nodeLog = join(repoRoot, 'e2e', 'logs', 'behind-agent.log');
    rmSync(nodeLog, { force: true });
    const agent = await startDevNode('behind-agent', [
      '--eve', '--offchain-worker', 'always', '--bootnodes', await bootnodeOf(author),
      '--inference-endpoint', server.baseUrl, '--inference-model', MODEL_NAME,
    ], {
      env: {
        LD_PRELOAD: FAKETIME_LIB,
        FAKETIME_TIMESTAMP_FILE: offset,
        FAKETIME_CACHE_DURATION: '1',
        FAKETIME_DONT_FAKE_MONOTONIC: '1',
      },
    });
    cleanups.push(agent.stop);
    const authorAt = (await api.rpc.chain.getHeader()).number.toNumber();
    await waitForHeight(api, authorAt + 5, { timeoutMs: 60_000 });
    const behindBest = (await agent.api.rpc.chain.getHeader()).number.toNumber();
    const rejected = readFileSync(nodeLog, 'utf8').split('\n').filter((l) => l.includes('too far in the future'));
    console.log(`# clock 1 min behind: agent best #${behindBest} while the author reached #${authorAt + 5}; ${rejected.length} log lines "too far in the future"`);
    assert.equal(behindBest, 0, 'a node whose clock is behind imports no block of the chain');
    assert.ok(rejected.length > 0, 'the node says why it rejects the blocks');

    // The clock set right: the node follows again, and executes a task.
    writeFileSync(offset, '+0\n');
    const fixedAt = Date.now();
    const head = (await api.rpc.chain.getHeader()).number.toNumber();
    await waitForHeight(agent.api, head, { timeoutMs: 180_000 });
    console.log(`# clock set right: the agent node reached #${head} ${Math.round((Date.now() - fixedAt) / 1000)} s later`);
    const id = (await api.query.inference.nextTaskId()).toNumber();
    const isEvent = (name) => (event) =>
      api.events.inference[name].is(event) && event.data.task.toNumber() === id;
    const settled = waitForEvent(
      api,
      (e) => isEvent('ResultRevealed')(e) || isEvent('ExecutorMissedDeadline')(e),
      { what: `reveal or missed deadline of task ${id}`, timeoutMs: 180_000 },
    );
    const submitted = await sendInBlock(
      api,
      api.tx.inference.submitTask(
        MODEL,
        { Inline: 'The mountain holds' },
        { maxTokens: 12, temperatureMilli: 0, seed: 7, mode: 'ExactMatch' },
        UNIT,
        1,
        30,
      ),
      bob,
    );
    assert.equal(submitted.dispatchError, null);
    const from = (await api.rpc.chain.getHeader(submitted.blockHash)).number.toNumber();
    const outcome = await settled;
    assert.ok(api.events.inference.ResultRevealed.is(outcome.event), `task ${id}: the executor missed its deadline`);
    const commits = await eventsBetween(api, from, outcome.blockNumber, isEvent('ResultCommitted'));
    assert.equal(commits.length, 1, 'one commitment');
    console.log(`# task ${id}: committed in #${commits[0].blockNumber}, revealed in #${outcome.blockNumber}`);
  });

  test('a node whose disk fills up keeps its finalized blocks and finalizes again once space is freed', async (t) => {
    if (process.getuid?.() !== 0) {
      t.skip('needs root, to mount a size-limited tmpfs as the database disk');
      return;
    }
    const author = await startDevNode('disk-author');
    cleanups.push(author.stop);
    const bootnode = await bootnodeOf(author);
    const basePath = tempDir('disk');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256m', 'tmpfs', basePath]);
    cleanups.push(async () => execFileSync('umount', ['-l', basePath]));
    let follower;
    cleanups.push(() => follower.stop());
    const startFollower = () =>
      startDevNode('disk-follower', ['--bootnodes', bootnode], { basePath, chain: 'dev' });
    follower = await startFollower();
    await waitForHeight(follower.api, 3, { finalized: true, timeoutMs: 120_000 });

    // Fill the disk: a file takes every free byte.
    const before = await finalizedOf(follower.api);
    const filler = join(basePath, 'filler');
    const free = () => { const s = statfsSync(basePath); return s.bavail * s.bsize; };
    execFileSync('fallocate', ['-l', String(free()), filler]);
    console.log(`# disk full (${free()} bytes free) with #${before.number} finalized`);
    // The chain goes on for 10 blocks meanwhile.
    const authorHeight = (await author.api.rpc.chain.getHeader()).number.toNumber();
    await waitForHeight(author.api, authorHeight + 10, { timeoutMs: 120_000 });
    const status = follower.exitStatus();
    let whileFull;
    if (status) {
      whileFull = `exited (${JSON.stringify(status)})`;
    } else {
      const best = (await follower.api.rpc.chain.getHeader()).number.toNumber();
      whileFull = `kept running, best #${best} while the author reached #${authorHeight + 10}`;
    }
    console.log(`# while the disk was full the node ${whileFull}`);

    // Space freed; the node restarted (killed first if it still runs) on the same database.
    rmSync(filler);
    await follower.kill();
    follower = await startFollower();
    const kept = (await follower.api.rpc.chain.getBlockHash(before.number)).toHex();
    assert.equal(kept, before.hash, `finalized block #${before.number} is still there, unchanged`);
    const target = (await finalizedOf(author.api)).number + 2;
    await waitForHeight(follower.api, target, { finalized: true, timeoutMs: 120_000 });
    assert.equal(
      (await follower.api.rpc.chain.getBlockHash(target)).toHex(),
      (await author.api.rpc.chain.getBlockHash(target)).toHex(),
      'the follower is on the author\'s chain',
    );
    console.log(`# restarted: finalized #${before.number} kept, finalized again to #${target}`);
  });
});
