// An agent node's off-chain worker on a real dev node, against the reference inference server:
// a task submitted from polkadot.js is executed, committed, revealed and finalised with no further
// human action; a failed first call is made again, a refused prompt is answered as refused, and
// with the endpoint down the chain stays healthy and the task expires and is refunded. (The
// endpoint's other faults: agent-node-faults.test.mjs, on a node of its own.)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { blake2AsHex } from '@polkadot/util-crypto';
import { u8aToString } from '@polkadot/util';
import { waitForEvent } from '../lib/node.mjs';
import { MODEL_NAME, startAgentNode } from '../lib/agent-node.mjs';

describe('agent node: off-chain worker and inference endpoint', () => {
  let agent;
  let server;
  let api;
  let submitTask;
  let isEvent;

  before(async () => {
    agent = await startAgentNode('agent-node');
    ({ server, api, submitTask, isEvent } = agent);
  });

  after(async () => {
    if (agent) await agent.stop();
  });

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
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${agent.apiKey}` },
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

  test('endpoint fault "error" on the first call only: called once more at a later block, committed and revealed', async () => {
    const id = (await api.query.inference.nextTaskId()).toNumber();
    const failed = `task ${id}: endpoint answered with status 500`;
    const failures = () => readFileSync(agent.nodeLog, 'utf8').split('\n').filter((l) => l.includes(failed));
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
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${agent.apiKey}` },
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
    await agent.faultExpires('endpoint unreachable', { retried: true, calls: [2] });
  });
});
