// AgentChain's queries — the runtime APIs agentsApi, inferenceApi, challengesApi and
// dataRewardsApi — on a real dev node whose off-chain worker executes Alice's tasks, through
// polkadot.js with no definitions but the metadata's; and the polkadot.js guide
// (docs/polkadot-js.md), every snippet of it, run as one program.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiPromise, WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { blake2AsHex, cryptoWaitReady } from '@polkadot/util-crypto';
import {
  blockNumberOf,
  repoRoot,
  sendAndFinalize,
  startDevNode,
  startInferenceServer,
  waitForHeight,
} from '../lib/node.mjs';
import { signedExtensions } from '../../clients/polkadot-js/extensions.mjs';

const UNIT = 10n ** 12n;
const MODEL = blake2AsHex('ngram-en', 256);

/** The `js` code blocks of a Markdown file, in order. */
function codeBlocks(markdown) {
  return [...markdown.matchAll(/```js\n([\s\S]*?)```/g)].map((match) => match[1]);
}

/** Resolves with { code, stdout, stderr } of `node <file>`. */
function runNode(file, env) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The message of an error that a call must throw. */
async function thrown(call) {
  try {
    await call();
  } catch (error) {
    return error.message;
  }
  assert.fail('the call succeeded');
}

describe('runtime-API queries and the polkadot.js guide', () => {
  let server;
  let node;
  let api;
  let keyring;

  before(async () => {
    await cryptoWaitReady();
    keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
    server = await startInferenceServer('queries-endpoint', ['--model', 'ngram-en']);
    node = await startDevNode('queries', ['--inference-endpoint', server.baseUrl, '--inference-model', 'ngram-en']);
    api = await ApiPromise.create({ provider: new WsProvider(node.rpcUrl), signedExtensions, noInitWarn: true });
  });

  after(async () => {
    if (api) await api.disconnect();
    if (node) await node.stop();
    if (server) await server.stop();
  });

  test('the guide runs from start to end and prints what it says', async () => {
    const dir = join(repoRoot, 'e2e', '.guide');
    mkdirSync(dir, { recursive: true });
    copyFileSync(join(repoRoot, 'clients', 'polkadot-js', 'extensions.mjs'), join(dir, 'agentchain-extensions.mjs'));
    const blocks = codeBlocks(readFileSync(join(repoRoot, 'docs', 'polkadot-js.md'), 'utf8'));
    assert.ok(blocks.length >= 6, `the guide has its snippets (${blocks.length})`);
    const program = join(dir, 'guide.mjs');
    writeFileSync(program, blocks.join('\n'));
    const { code, stdout, stderr } = await runNode(program, { AGENTCHAIN_WS: node.rpcUrl });
    rmSync(dir, { recursive: true, force: true });
    console.log(stdout.split('\n').map((line) => `# ${line}`).join('\n'));
    assert.equal(code, 0, `the guide exits cleanly: ${stderr}`);
    assert.doesNotMatch(stderr, /Unknown signed extension/i);
    assert.match(stdout, /connected to agentchain \(AGC, 12 decimals\)/);
    assert.match(stdout, /agent alice-agent: stake 500 AGC, selectable true/);
    assert.match(stdout, /executors of ngram-en: 1/);
    assert.match(stdout, /task 0 submitted/);
    // 2 AGC prepaid, less the second task's fee (1 AGC) and deposit.
    assert.match(stdout, /prepaid funds left: 0\.9\d+ AGC/);
    assert.match(stdout, /task 0 is (Revealed|Finalised): "[^"]+"/);
    assert.match(stdout, /open tasks of Alice's agent: /);
    assert.match(stdout, /unknown task: none/);
    assert.match(stdout, /malformed account: refused before sending/);
    assert.match(stdout, /refused: agents\.AlreadyRegistered/);
  });

  test('agentsApi.agent: by owner, by operator, at a past block; unknown and malformed accounts', async () => {
    const alice = keyring.addFromUri('//Alice');
    const operator = keyring.addFromUri('//Alice//operator');
    const byOwner = await api.call.agentsApi.agent(alice.address);
    assert.ok(byOwner.isSome);
    const agent = byOwner.unwrap();
    assert.equal(agent.owner.toString(), alice.address);
    assert.equal(agent.operator.unwrap().toString(), operator.address);
    assert.deepEqual(agent.models.map((m) => m.toHex()), [MODEL]);
    assert.deepEqual(agent.roles.map((r) => r.type), ['Executor']);
    assert.equal(agent.stake.toBigInt(), 500n * UNIT);
    assert.equal(agent.status.type, 'Active');
    assert.equal(agent.selectable.isTrue, true);
    assert.deepEqual((await api.call.agentsApi.agent(operator.address)).toJSON(), byOwner.toJSON());
    // At genesis Alice was no agent.
    const genesis = await api.rpc.chain.getBlockHash(0);
    assert.ok((await (await api.at(genesis)).call.agentsApi.agent(alice.address)).isNone);
    assert.ok((await api.call.agentsApi.agent(keyring.addFromUri('//Nobody').address)).isNone);
    assert.match(await thrown(() => api.call.agentsApi.agent('not-an-address')), /Invalid base58/);
  });

  test('agentsApi.agentsServing: executors of a model; other roles and models; a malformed id', async () => {
    const serving = await api.call.agentsApi.agentsServing(MODEL, 'Executor');
    assert.deepEqual(serving.map((a) => a.owner.toString()), [keyring.addFromUri('//Alice').address]);
    assert.equal((await api.call.agentsApi.agentsServing(MODEL, 'Verifier')).length, 0);
    assert.equal((await api.call.agentsApi.agentsServing(MODEL, 'Curator')).length, 0);
    assert.equal((await api.call.agentsApi.agentsServing('0x' + '77'.repeat(32), 'Executor')).length, 0);
    assert.match(await thrown(() => api.call.agentsApi.agentsServing('0x1234', 'Executor')), /Expected input with 32 bytes/);
    assert.match(await thrown(() => api.call.agentsApi.agentsServing(MODEL, 'Juror')), /unable to find 'Juror'/);
  });

  test('inferenceApi.task and tasksFor: views, pages, cursors; unknown ids, out-of-range limits', async () => {
    const bob = keyring.addFromUri('//Bob');
    const alice = keyring.addFromUri('//Alice');
    // Five tasks with a long commit period, submitted together.
    const first = (await api.query.inference.nextTaskId()).toNumber();
    const nonce = (await api.rpc.system.accountNextIndex(bob.address)).toNumber();
    const params = { maxTokens: 4, temperatureMilli: 0, seed: 1, mode: 'ExactMatch' };
    const submitted = await Promise.all(
      [0, 1, 2, 3, 4].map((i) =>
        sendAndFinalize(
          api,
          api.tx.inference.submitTask(MODEL, { Inline: `page test ${i}` }, params, UNIT, 1, 100),
          bob,
          { nonce: nonce + i },
        ),
      ),
    );
    const ids = [0, 1, 2, 3, 4].map((i) => first + i);
    // Executors are drawn at the block after each submission.
    const lastIncluded = Math.max(...(await Promise.all(submitted.map((r) => blockNumberOf(api, r.inBlock)))));
    await waitForHeight(api, lastIncluded + 1);

    const task = (await api.call.inferenceApi.task(ids[0])).unwrap();
    assert.equal(task.id.toNumber(), ids[0]);
    assert.equal(task.requester.toString(), bob.address);
    assert.deepEqual(task.input.toJSON(), { inline: 'page test 0' });
    assert.equal(task.fee.toBigInt(), UNIT);
    assert.equal(task.assignments[0].executor.toString(), alice.address);
    assert.ok(['Assigned', 'Committed', 'Revealed'].includes(task.status.type), task.status.type);

    // Pages of two, by the operator key, all at one block: every open task of Alice's agent once.
    const operator = keyring.addFromUri('//Alice//operator').address;
    const open = new Set();
    let startAfter = null;
    let pages = 0;
    const at = await api.at(await api.rpc.chain.getBlockHash());
    for (;;) {
      const page = await at.call.inferenceApi.tasksFor(operator, startAfter, 2);
      assert.ok(page.tasks.length <= 2);
      page.tasks.forEach((t) => open.add(t.id.toNumber()));
      pages++;
      if (page.next.isNone) break;
      startAfter = page.next.unwrap();
    }
    const expected = (await at.query.inference.assignedTasks.keys(alice.address)).map((key) => key.args[1].toNumber());
    assert.ok(expected.length >= 5, `Alice's agent holds the five tasks (${expected.length})`);
    assert.deepEqual([...open].sort(), expected.sort());
    assert.ok(pages >= Math.ceil(expected.length / 2));

    assert.ok((await api.call.inferenceApi.task(1_000_000)).isNone);
    // A limit out of range is clamped: 0 reads one task, more than 64 reads 64 at most.
    assert.equal((await at.call.inferenceApi.tasksFor(alice.address, null, 0)).tasks.length, 1);
    assert.equal((await at.call.inferenceApi.tasksFor(alice.address, null, 1_000)).tasks.length, expected.length);
    assert.match(await thrown(() => api.call.inferenceApi.task('zero')), /createType\(u64\)/);
    assert.deepEqual((await api.call.inferenceApi.tasksFor(keyring.addFromUri('//Nobody').address, null, 16)).toJSON(), {
      tasks: [],
      next: null,
    });
  });

  test('dataRewardsApi: the current epoch, and pending rewards of a dataset and of none', async () => {
    const epoch = await api.call.dataRewardsApi.currentEpoch();
    const length = api.consts.dataRewards.epochLength.toNumber();
    const best = (await api.rpc.chain.getHeader()).number.toNumber();
    // The epoch in course at the best block: it started at most `length - 1` blocks before.
    assert.ok(epoch.start.toNumber() <= best && best - epoch.start.toNumber() < length, JSON.stringify(epoch.toJSON()));
    assert.equal(epoch.pot.toBigInt(), 0n);
    const dave = keyring.addFromUri('//Dave');
    const id = (await api.query.dataRewards.nextDatasetId()).toNumber();
    await sendAndFinalize(api, api.tx.dataRewards.registerDataset('0x' + '12'.repeat(32), 'ipfs://queries', 'MIT', 1, ''), dave);
    assert.equal((await api.call.dataRewardsApi.pendingRewards(id)).unwrap().toBigInt(), 0n);
    assert.ok((await api.call.dataRewardsApi.pendingRewards(id + 1_000)).isNone);
  });
});
