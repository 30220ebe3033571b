// AgentChain's JSON-RPC queries (agents_*, inference_*) on a real dev node whose off-chain worker
// executes Alice's tasks, through polkadot.js with the definitions in clients/polkadot-js/rpc.mjs;
// and the polkadot.js guide (docs/polkadot-js.md), every snippet of it, run as one program.
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
import { rpc } from '../../clients/polkadot-js/rpc.mjs';

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

/** The JSON-RPC error of a call that must fail. */
async function rpcError(promise) {
  try {
    await promise;
  } catch (error) {
    return error.message;
  }
  assert.fail('the call succeeded');
}

describe('JSON-RPC queries and the polkadot.js guide', () => {
  let server;
  let node;
  let api;
  let keyring;

  before(async () => {
    await cryptoWaitReady();
    keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
    server = await startInferenceServer('rpc-endpoint', ['--model', 'ngram-en']);
    node = await startDevNode('rpc', ['--inference-endpoint', server.baseUrl, '--inference-model', 'ngram-en']);
    api = await ApiPromise.create({ provider: new WsProvider(node.rpcUrl), rpc, noInitWarn: true });
  });

  after(async () => {
    if (api) await api.disconnect();
    if (node) await node.stop();
    if (server) await server.stop();
  });

  test('the guide runs from start to end and prints what it says', async () => {
    const dir = join(repoRoot, 'e2e', '.guide');
    mkdirSync(dir, { recursive: true });
    copyFileSync(join(repoRoot, 'clients', 'polkadot-js', 'rpc.mjs'), join(dir, 'agentchain-rpc.mjs'));
    const blocks = codeBlocks(readFileSync(join(repoRoot, 'docs', 'polkadot-js.md'), 'utf8'));
    assert.ok(blocks.length >= 6, `the guide has its snippets (${blocks.length})`);
    const program = join(dir, 'guide.mjs');
    writeFileSync(program, blocks.join('\n'));
    const { code, stdout, stderr } = await runNode(program, { AGENTCHAIN_WS: node.rpcUrl });
    rmSync(dir, { recursive: true, force: true });
    console.log(stdout.split('\n').map((line) => `# ${line}`).join('\n'));
    assert.equal(code, 0, `the guide exits cleanly: ${stderr}`);
    assert.match(stdout, /connected to agentchain \(AGC, 12 decimals\)/);
    assert.match(stdout, /agent alice-agent: stake 500 AGC, selectable true/);
    assert.match(stdout, /executors of ngram-en: 1/);
    assert.match(stdout, /task 0 submitted/);
    assert.match(stdout, /task 0 is (Revealed|Finalised): "[^"]+"/);
    assert.match(stdout, /open tasks of Alice's agent: 0/);
    assert.match(stdout, /unknown task: 4002: no task 999999/);
    assert.match(stdout, /refused: agents\.AlreadyRegistered/);
  });

  test('agents_agent: by owner, by operator, at a past block; unknown and malformed accounts', async () => {
    const alice = keyring.addFromUri('//Alice');
    const operator = keyring.addFromUri('//Alice//operator');
    const byOwner = (await api.rpc.agents.agent(alice.address)).toJSON();
    assert.equal(byOwner.owner, alice.address);
    assert.equal(byOwner.operator, operator.address);
    assert.deepEqual(byOwner.models, [MODEL]);
    assert.deepEqual(byOwner.roles, ['Executor']);
    assert.equal(byOwner.stake, (500n * UNIT).toString());
    assert.equal(byOwner.state, 'Active');
    assert.deepEqual((await api.rpc.agents.agent(operator.address)).toJSON(), byOwner);
    // At genesis Alice was no agent.
    const genesis = await api.rpc.chain.getBlockHash(0);
    assert.match(await rpcError(api.rpc.agents.agent(alice.address, genesis)), /^4001: /);
    assert.match(await rpcError(api.rpc.agents.agent(keyring.addFromUri('//Nobody').address)), /^4001: .*neither/);
    const raw = await api._rpcCore.provider.send('agents_agent', ['not-an-address']).catch((e) => e.message);
    assert.match(raw, /^-32602: Invalid params/);
  });

  test('agents_serving: executors of a model; other roles, models and malformed ids', async () => {
    const serving = (await api.rpc.agents.serving(MODEL)).toJSON();
    assert.equal(serving.role, 'Executor');
    assert.deepEqual(serving.agents.map((a) => a.owner), [keyring.addFromUri('//Alice').address]);
    assert.deepEqual((await api.rpc.agents.serving(MODEL, 'Verifier')).toJSON().agents, []);
    assert.deepEqual((await api.rpc.agents.serving('0x' + '77'.repeat(32))).toJSON().agents, []);
    assert.match(await rpcError(api.rpc.agents.serving(MODEL, 'Curator')), /^-32602: role Curator/);
    const raw = await api._rpcCore.provider.send('agents_serving', ['0x1234']).catch((e) => e.message);
    assert.match(raw, /^-32602: Invalid params/);
  });

  test('inference_task and inference_tasksFor: views, pages, cursors; unknown ids, bad limits', async () => {
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

    const task = (await api.rpc.inference.task(ids[0])).toJSON();
    assert.equal(task.id, ids[0]);
    assert.equal(task.requester, bob.address);
    assert.deepEqual(task.input, { inline: 'page test 0' });
    assert.equal(task.fee, UNIT.toString());
    assert.equal(task.assignments[0].executor, alice.address);
    assert.ok(['Assigned', 'Committed', 'Revealed'].includes(task.state), task.state);

    // Pages of two, by the operator key: every open task of Alice's agent once.
    const operator = keyring.addFromUri('//Alice//operator').address;
    const open = new Set();
    let startAfter;
    let pages = 0;
    const at = await api.rpc.chain.getBlockHash(); // one block for all pages
    for (;;) {
      const page = (await api.rpc.inference.tasksFor(operator, startAfter, 2, at)).toJSON();
      assert.ok(page.tasks.length <= 2);
      page.tasks.forEach((t) => open.add(t.id));
      pages++;
      if (page.next === null) break;
      startAfter = page.next;
    }
    const expected = (await (await api.at(at)).query.inference.assignedTasks.keys(alice.address))
      .map((key) => key.args[1].toNumber());
    assert.deepEqual([...open].sort(), expected.sort());
    assert.ok(pages >= Math.ceil(expected.length / 2));

    assert.match(await rpcError(api.rpc.inference.task(1_000_000)), /^4002: no task 1000000/);
    assert.match(await rpcError(api.rpc.inference.tasksFor(alice.address, null, 0)), /^-32602: limit/);
    assert.match(await rpcError(api.rpc.inference.tasksFor(alice.address, null, 65)), /^-32602: limit/);
    const raw = await api._rpcCore.provider.send('inference_task', ['zero']).catch((e) => e.message);
    assert.match(raw, /^-32602: Invalid params/);
    assert.deepEqual(
      (await api.rpc.inference.tasksFor(keyring.addFromUri('//Nobody').address)).toJSON(),
      { tasks: [], next: null },
    );
  });
});
