// An agent node's off-chain worker on a real dev node, against the reference inference server:
// a task submitted from polkadot.js is executed, committed, revealed and finalised with no further
// human action; each endpoint fault leaves the chain healthy and the task expired and refunded.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyring } from '@polkadot/keyring';
import { blake2AsHex, cryptoWaitReady } from '@polkadot/util-crypto';
import { u8aToString } from '@polkadot/util';
import {
  nameOperator,
  repoRoot,
  sendAndFinalize,
  startDevNode,
  startInferenceServer,
  waitForEvent,
  waitForHeight,
} from '../lib/node.mjs';

const UNIT = 10n ** 12n;
const MODEL_NAME = 'ngram-en';
const MODEL = blake2AsHex(MODEL_NAME, 256);
const API_KEY = 'sk-e2e-' + Math.random().toString(36).slice(2);
const NODE_LOG = join(repoRoot, 'e2e', 'logs', 'agent-node.log');

describe('agent node: off-chain worker and inference endpoint', () => {
  let server;
  let node;
  let api;
  let alice;
  let bob;
  const keyFile = join(tmpdir(), `agentchain-e2e-key-${process.pid}`);

  before(async () => {
    await cryptoWaitReady();
    const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
    alice = keyring.addFromUri('//Alice');
    bob = keyring.addFromUri('//Bob');
    server = await startInferenceServer('agent-node-endpoint', [
      '--model', MODEL_NAME, '--admin', '--api-key', API_KEY,
    ]);
    writeFileSync(keyFile, `${API_KEY}\n`);
    // `--dev` is Alice's node: it inserts the operator key //Alice//operator by itself.
    node = await startDevNode('agent-node', [
      '--inference-endpoint', server.baseUrl,
      '--inference-model', MODEL_NAME,
      '--inference-api-key-file', keyFile,
    ]);
    api = node.api;

    // Alice registers as an executor of the model and names her node's operator key.
    const operator = keyring.addFromUri('//Alice//operator');
    const registered = await sendAndFinalize(
      api,
      api.tx.agents.register('alice-agent', server.baseUrl, '1', [MODEL], ['Executor'], 500n * UNIT),
      alice,
    );
    assert.equal(registered.dispatchError, null);
    await nameOperator(api, alice, operator);
  });

  after(async () => {
    if (node) await node.stop();
    if (server) await server.stop();
    rmSync(keyFile, { force: true });
  });

  /** Submits a task from Bob; returns its id and the block that included it. */
  async function submitTask(prompt, { commitPeriod, maxTokens = 12, fee = UNIT } = {}) {
    const id = (await api.query.inference.nextTaskId()).toNumber();
    const result = await sendAndFinalize(
      api,
      api.tx.inference.submitTask(
        MODEL,
        { Inline: prompt },
        { maxTokens, temperatureMilli: 0, seed: 7, mode: 'ExactMatch' },
        fee,
        1,
        commitPeriod,
      ),
      bob,
    );
    assert.equal(result.dispatchError, null);
    const included = (await api.rpc.chain.getHeader(result.inBlock)).number.toNumber();
    return { id, included };
  }

  /** What `address` has held in task escrow: its tasks' fees, and their storage deposits until they are pruned. */
  async function escrowOf(address, at) {
    const query = at ? (await api.at(at)).query : api.query;
    return (await query.balances.holds(address))
      .filter((hold) => hold.id.isInference && hold.id.asInference.isTaskEscrow)
      .reduce((sum, hold) => sum + hold.amount.toBigInt(), 0n);
  }

  const isEvent = (name, id) => (event) =>
    api.events.inference[name].is(event) && event.data.task.toNumber() === id;

  test('a task is committed, revealed and finalised by the off-chain worker alone', async () => {
    const id = (await api.query.inference.nextTaskId()).toNumber();
    const revealed = waitForEvent(api, isEvent('ResultRevealed', id), { what: `reveal of task ${id}` });
    const finalised = waitForEvent(api, isEvent('TaskFinalised', id), {
      what: `finalisation of task ${id}`,
      timeoutMs: 240_000,
    });
    const prompt = 'The river carries';
    const { included } = await submitTask(prompt, { commitPeriod: 10 });

    const reveal = await revealed;
    const latency = reveal.blockNumber - included;
    console.log(
      `# latency: task ${id} included in block #${included}, revealed in block #${reveal.blockNumber}: ` +
        `${latency} blocks`,
    );
    // The executors are drawn at the block after the submission (from its hash), then commit and
    // reveal take one block each.
    assert.ok(latency >= 3 && latency <= 5, `draw, commit and reveal take one block each, plus slack (${latency})`);

    // The output on chain is the endpoint's answer to the same request.
    const outputHash = reveal.event.data.outputHash.toHex();
    const stored = (await api.query.inference.outputs(id, outputHash)).unwrap();
    const onChain = u8aToString(stored.inline.unwrap());
    const direct = await fetch(`${server.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${API_KEY}` },
      body: JSON.stringify({
        model: MODEL_NAME,
        messages: [{ role: 'user', content: prompt }],
        max_tokens: 12,
        temperature: 0,
        seed: 7,
      }),
    }).then((r) => r.json());
    assert.equal(onChain, direct.choices[0].message.content);
    assert.equal(outputHash, blake2AsHex(onChain, 256));

    const final = await finalised;
    assert.equal(final.event.data.outputHash.toHex(), outputHash);
    assert.ok(final.event.data.paid.toBigInt() > 0n, 'Alice was paid');
    const task = (await api.query.inference.tasks(id)).unwrap();
    assert.ok(task.status.isFinalised);
    console.log(`# finalised in block #${final.blockNumber}, ${final.blockNumber - included} blocks after inclusion`);
  });

  /**
   * Submits a task while the endpoint misbehaves, and checks it expires with a full refund. A
   * transient fault (`retried`: a second call may not have it) in the commit phase's first block
   * gets one more call, at a later block (`calls`: how many calls the fault allows there, 2, or
   * 1–2 for a call that may use up the time left); any other fault, one call.
   */
  async function faultExpires(expectedLog, { retried = false, calls = [2] } = {}) {
    const reservedBefore = await escrowOf(bob.address);
    const id = (await api.query.inference.nextTaskId()).toNumber();
    const missed = waitForEvent(api, isEvent('ExecutorMissedDeadline', id), { what: `missed deadline of ${id}` });
    const expired = waitForEvent(api, isEvent('TaskExpired', id), { what: `expiry of task ${id}` });
    const fee = UNIT;
    await submitTask(`fault ${expectedLog}`, { commitPeriod: 3, fee });
    await missed;
    const { blockNumber, event } = await expired;
    assert.equal(event.data.refunded.toBigInt(), fee, 'the whole fee is refunded');
    const expiredIn = (await api.rpc.chain.getBlockHash(blockNumber)).toHex();
    const reservedAfter = await escrowOf(bob.address, expiredIn);
    const { deposit } = (await (await api.at(expiredIn)).query.inference.tasks(id)).unwrap();
    assert.equal(reservedAfter, reservedBefore + deposit.toBigInt(), 'nothing of the fee stays held, only the deposit');
    // The chain goes on producing and finalising blocks.
    await waitForHeight(api, blockNumber + 2, { finalized: true });
    // The fault was logged with the task id, once per call: the first call's line says it calls
    // once more, the last one's that it gives up.
    const lines = readFileSync(NODE_LOG, 'utf8').split('\n').filter((l) => l.includes(`task ${id}: ${expectedLog}`));
    if (retried) {
      assert.ok(calls.includes(lines.length), `${calls.join(' or ')} log lines for task ${id} (${expectedLog}), got ${lines.length}`);
      assert.ok(lines[0].includes('calling once more at a later block'), lines.join('\n'));
      if (lines.length === 2) assert.ok(lines[1].includes('no result committed'), lines.join('\n'));
    } else {
      assert.equal(lines.length, 1, `one log line for task ${id} (${expectedLog}), got ${lines.length}`);
    }
    return id;
  }

  // [mode, delay, log, calls: for a transient fault, how many calls it allows]
  const faults = [
    ['error', undefined, 'endpoint answered with status 500', [2]],
    ['malformed', undefined, 'malformed response', null],
    ['oversized', undefined, 'response body over the size limit', null],
    ['wrong-model', undefined, 'response for another model', null],
    // The first call times out at the time left, near the deadline: a second may find none.
    ['slow', 20_000, 'endpoint timed out', [1, 2]],
    ['hangup', undefined, 'endpoint unreachable', [2]],
  ];
  for (const [mode, delayMs, expectedLog, calls] of faults) {
    const how = calls ? 'called once more' : 'logged once';
    test(`endpoint fault "${mode}": ${how}, the task expires and is refunded`, async () => {
      await server.setFault(mode, delayMs);
      try {
        await faultExpires(expectedLog, { retried: !!calls, calls: calls ?? undefined });
      } finally {
        await server.setFault('honest');
      }
    });
  }

  test('endpoint fault "error" on the first call only: called once more at a later block, committed and revealed', async () => {
    const id = (await api.query.inference.nextTaskId()).toNumber();
    const failed = `task ${id}: endpoint answered with status 500`;
    const failures = () => readFileSync(NODE_LOG, 'utf8').split('\n').filter((l) => l.includes(failed));
    const settled = waitForEvent(
      api,
      (event) => isEvent('ResultRevealed', id)(event) || isEvent('ExecutorMissedDeadline', id)(event),
      { what: `reveal or missed deadline of task ${id}`, timeoutMs: 120_000 },
    );
    await server.setFault('error');
    // The endpoint is healthy again as soon as the node has logged its first failed call.
    const healed = (async () => {
      const until = Date.now() + 60_000;
      while (Date.now() < until) {
        if (failures().length > 0) {
          await server.setFault('honest');
          return true;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      return false;
    })();
    try {
      await submitTask('The river bends', { commitPeriod: 10 });
      assert.ok(await healed, 'the first call failed with status 500');
      const { event, blockNumber } = await settled;
      assert.ok(api.events.inference.ResultRevealed.is(event), `task ${id} was revealed, not missed (#${blockNumber})`);
      assert.equal(failures().length, 1, 'one failed call, logged once');
      console.log(`# task ${id}: one call failed with status 500, the next one answered; revealed in #${blockNumber}`);
    } finally {
      await server.setFault('honest');
    }
  });

  test('endpoint refusing the prompt on its content policy: answered "agentchain:refused" and revealed as any output', async () => {
    const id = (await api.query.inference.nextTaskId()).toNumber();
    const revealed = waitForEvent(api, isEvent('ResultRevealed', id), {
      what: `reveal of task ${id}`,
      timeoutMs: 120_000,
    });
    await server.setFault('refuse');
    try {
      // What the endpoint answers: a 400 whose error is the content filter's.
      const direct = await fetch(`${server.baseUrl}/chat/completions`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${API_KEY}` },
        body: JSON.stringify({ model: MODEL_NAME, messages: [{ role: 'user', content: 'x' }], max_tokens: 4 }),
      });
      assert.equal(direct.status, 400);
      assert.equal((await direct.json()).error.code, 'content_filter');
      await submitTask('A prompt the content filter refuses', { commitPeriod: 10 });
      const { event, blockNumber } = await revealed;
      const outputHash = event.data.outputHash.toHex();
      assert.equal(outputHash, blake2AsHex('agentchain:refused', 256));
      const stored = (await api.query.inference.outputs(id, outputHash)).unwrap();
      assert.equal(u8aToString(stored.inline.unwrap()), 'agentchain:refused');
      console.log(`# task ${id}: the endpoint refused the prompt; answered agentchain:refused, revealed in #${blockNumber}`);
    } finally {
      await server.setFault('honest');
    }
  });

  test('endpoint down: called once more, the task expires and is refunded', async () => {
    await server.stop();
    await faultExpires('endpoint unreachable', { retried: true, calls: [2] });
  });
});
