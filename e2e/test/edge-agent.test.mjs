// The edge agent (`agentchain agent run`): agents whose work is done by a standalone process with
// no node of its own, against a dev node that runs no inference endpoint (so no off-chain worker
// does any of it). An edge agent executes its tasks over RPC and over the embedded light client,
// survives its endpoint failing and its own SIGKILL without a duplicate commit or reveal, and
// three edge agents serve on a jury, whose verdict the challenger appeals with the CLI.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyring } from '@polkadot/keyring';
import { blake2AsHex, cryptoWaitReady } from '@polkadot/util-crypto';
import { cliBinary } from '../lib/cli.mjs';
import { startEdge as spawnEdge } from '../lib/edge.mjs';
import {
  bootnodeOf, nodeBinary, startDevNode, startInferenceServer, taskOnceCompared,
} from '../lib/node.mjs';

const MODEL_NAME = 'ngram-en';

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

describe('edge agents against a dev node with no endpoint of its own', () => {
  let server;
  let node;
  let api;
  let keyring;
  const agents = [];

  function cli(args) {
    return new Promise((resolve) => {
      execFile(cliBinary(), ['--url', node.rpcUrl, ...args], { timeout: 300_000 }, (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        let json;
        try { json = JSON.parse(stdout); } catch { json = undefined; }
        resolve({ code, stdout, stderr, json });
      });
    });
  }

  async function ok(args) {
    const run = await cli([...args, '--json']);
    assert.equal(run.code, 0, `${args.join(' ')}: ${run.stderr}`);
    return run.json;
  }

  /** Starts an edge agent against the node (see e2e/lib/edge.mjs), stopped after the tests. */
  function startEdge(name, args, { url = node.rpcUrl } = {}) {
    const edge = spawnEdge(name, url, args);
    agents.push(edge);
    return edge;
  }

  /** Registers `suri` as an agent of MODEL_NAME with `roles`, its edge key `suri//edge` accepted as its operator. */
  async function registerWithOperator(suri, roles) {
    const name = suri.slice(2).toLowerCase();
    await ok(['agent', 'register', '--suri', suri, '--name', `${name}-edge`, '--model', MODEL_NAME,
      ...roles.flatMap((r) => ['--role', r]), '--stake', '150']);
    const operator = keyring.addFromUri(`${suri}//edge`).address;
    // The operator key pays its own transaction fees.
    await fund(operator);
    await ok(['agent', 'set-operator', '--suri', suri, operator]);
    await ok(['agent', 'accept-operator', '--suri', `${suri}//edge`, keyring.addFromUri(suri).address]);
    return { owner: keyring.addFromUri(suri).address, operatorSuri: `${suri}//edge`, operator };
  }

  async function fund(address) {
    const alice = keyring.addFromUri('//Alice');
    await new Promise((resolve, reject) => {
      api.tx.balances.transferKeepAlive(address, 100n * 10n ** 12n)
        .signAndSend(alice, { nonce: -1 }, ({ status, dispatchError }) => {
          if (dispatchError) reject(new Error(dispatchError.toString()));
          else if (status.isInBlock) resolve();
        })
        .catch(reject);
    });
  }

  /**
   * Every extrinsic signed by `signer` in blocks `from`..best, as `section.method(task)` strings,
   * with whether it succeeded.
   */
  async function extrinsicsOf(signer, from) {
    const best = (await api.rpc.chain.getHeader()).number.toNumber();
    const found = [];
    for (let n = from; n <= best; n += 1) {
      const hash = await api.rpc.chain.getBlockHash(n);
      const block = await api.rpc.chain.getBlock(hash);
      const events = await (await api.at(hash)).query.system.events();
      block.block.extrinsics.forEach((ex, index) => {
        if (!ex.isSigned || ex.signer.toString() !== signer) return;
        const failed = events.some(({ phase, event }) => phase.isApplyExtrinsic
          && phase.asApplyExtrinsic.toNumber() === index && api.events.system.ExtrinsicFailed.is(event));
        found.push({ call: `${ex.method.section}.${ex.method.method}`, task: ex.method.args[0]?.toString(), failed, block: n });
      });
    }
    return found;
  }

  async function submitTask(input, extra = []) {
    const submitted = await ok(['task', 'submit', '--suri', '//Charlie', '--model', MODEL_NAME, '--input', input,
      '--max-tokens', '12', '--fee', '1', ...extra]);
    return submitted.id;
  }

  before(async () => {
    assert.ok(existsSync(cliBinary()), `agentchain not found at ${cliBinary()}`);
    await cryptoWaitReady();
    keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
    server = await startInferenceServer('edge-endpoint', ['--model', MODEL_NAME, '--admin']);
    // No --inference-endpoint: this node's off-chain workers do no agent's work.
    node = await startDevNode('edge-node');
    api = node.api;
  });

  after(async () => {
    for (const edge of agents) await edge.stop();
    await node?.stop();
    await server?.stop();
  });

  let bob;
  let bobEdge;
  let stateDir;

  test('an edge agent executes its tasks; its endpoint failing costs one task, not the agent', async () => {
    bob = await registerWithOperator('//Bob', ['executor']);
    stateDir = mkdtempSync(join(tmpdir(), 'agentchain-edge-'));
    const args = ['--operator-key', bob.operatorSuri, '--endpoint', server.baseUrl, '--model', MODEL_NAME, '--state-dir', stateDir];
    // Invalid arguments are refused before anything starts.
    const badEndpoint = await cli(['agent', 'run', '--operator-key', bob.operatorSuri, '--endpoint', 'ftp://x', '--model', MODEL_NAME]);
    assert.equal(badEndpoint.code, 2);
    assert.match(badEndpoint.stderr, /http:\/\/ or https:\/\//);
    const noModel = await cli(['agent', 'run', '--operator-key', bob.operatorSuri, '--endpoint', server.baseUrl]);
    assert.equal(noModel.code, 2);

    bobEdge = startEdge('bob-edge', args);
    await bobEdge.waitFor((e) => e.event === 'acting' && e.agent === bob.owner, { what: 'acting for Bob' });
    // A second process on the same state is refused: it would commit twice.
    const twin = await cli(['agent', 'run', ...args]);
    assert.notEqual(twin.code, 0);
    assert.match(twin.stderr, /another edge agent is running/);

    const from = (await api.rpc.chain.getHeader()).number.toNumber();
    const id = await submitTask('The river carries');
    const revealed = await bobEdge.waitFor((e) => e.event === 'revealed' && e.task === id, { what: `task ${id} revealed` });
    assert.ok(revealed.block > from);
    const view = await taskOnceCompared(api, id);
    assert.equal(view.assignments[0].executor.toString(), bob.owner);
    // The output revealed is the endpoint's answer to the task, as a node would have committed.
    const answer = await (await fetch(`${server.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: MODEL_NAME, messages: [{ role: 'user', content: 'The river carries' }], max_tokens: 12, temperature: 0, seed: 0, stream: false }),
    })).json();
    assert.equal(view.outputs[0].text.unwrap().toString(), answer.choices[0].message.content);
    assert.equal(view.result.unwrap().toHex(), blake2AsHex(answer.choices[0].message.content, 256));

    // The endpoint fails with a 500, which a later call may not: the agent calls again, and
    // executes the task once the endpoint is back.
    await server.setFault('error');
    const retried = await submitTask('A stumbling endpoint');
    const retrying = await bobEdge.waitFor((e) => e.event === 'retrying' && e.task === retried, { what: 'the retry' });
    assert.match(retrying.reason, /status 500/);
    await server.setFault('honest');
    await bobEdge.waitFor((e) => e.event === 'revealed' && e.task === retried, { timeoutMs: 180_000, what: `task ${retried} revealed` });
    // The endpoint answers malformed JSON: the task is given up (no commitment), the agent keeps
    // running.
    await server.setFault('malformed');
    const failing = await submitTask('A broken endpoint');
    const failed = await bobEdge.waitFor((e) => e.event === 'failed' && e.task === failing, { what: 'the failure' });
    assert.match(failed.reason, /malformed/);
    await server.setFault('honest');
    const next = await submitTask('The endpoint is back');
    await bobEdge.waitFor((e) => e.event === 'revealed' && e.task === next, { timeoutMs: 180_000, what: `task ${next} revealed` });
    const sent = await extrinsicsOf(bob.operator, from);
    assert.equal(sent.filter((x) => x.task === String(failing)).length, 0, 'nothing sent for the failed task');
    for (const task of [id, retried, next]) {
      assert.deepEqual(sent.filter((x) => x.task === String(task)).map((x) => [x.call, x.failed]),
        [['inference.commit', false], ['inference.reveal', false]], `one commit and one reveal for task ${task}`);
    }
  });

  test('killed between its commit and its reveal, a restarted edge agent reveals once', async () => {
    assert.ok(bobEdge, 'the first test started Bob\'s edge agent');
    const args = ['--operator-key', bob.operatorSuri, '--endpoint', server.baseUrl, '--model', MODEL_NAME, '--state-dir', stateDir];
    const from = (await api.rpc.chain.getHeader()).number.toNumber();
    const id = await submitTask('Killed in the middle');
    await bobEdge.waitFor((e) => e.event === 'commit' && e.task === id, { what: `the commit of task ${id}` });
    await bobEdge.kill();
    // The reveal is due while no agent runs; restarted, it reveals what it committed.
    await sleep(4_000);
    const restarted = startEdge('bob-edge-restarted', args);
    const started = await restarted.waitFor((e) => e.event === 'started');
    assert.ok(started.records >= 1, 'the restarted agent read its records');
    await restarted.waitFor((e) => e.event === 'revealed' && e.task === id, { what: `task ${id} revealed after the restart` });
    const view = await taskOnceCompared(api, id);
    assert.ok(view.result.isSome, 'the reveal matched the commitment');
    const sent = (await extrinsicsOf(bob.operator, from)).filter((x) => x.task === String(id));
    assert.deepEqual(sent.map((x) => [x.call, x.failed]), [['inference.commit', false], ['inference.reveal', false]],
      'one commit, one reveal, none refused');
    bobEdge = restarted;
  });

  test('three edge agents sit on a jury and uphold a correct result; the challenger appeals', async () => {
    const jurors = [];
    for (const suri of ['//Dave', '//Eve', '//Ferdie']) jurors.push(await registerWithOperator(suri, ['verifier']));
    const edges = jurors.map((juror, i) => startEdge(`juror-${i}`, [
      '--operator-key', juror.operatorSuri, '--endpoint', server.baseUrl, '--model', MODEL_NAME,
      '--state-dir', mkdtempSync(join(tmpdir(), 'agentchain-juror-')),
    ]));
    await Promise.all(edges.map((edge, i) => edge.waitFor((e) => e.event === 'acting' && e.agent === jurors[i].owner)));
    // An appeal's jury is seven verifiers who have not sat yet: funded now (one block),
    // registered once the first jury is drawn, so that the first jury is the three edge agents.
    const fresh = Array.from({ length: 7 }, (_, i) => `//Alice//appeal-juror//${i}`);
    const alice = keyring.addFromUri('//Alice');
    const nonce = (await api.rpc.system.accountNextIndex(alice.address)).toNumber();
    await Promise.all(fresh.map((suri, i) => new Promise((resolve, reject) => {
      api.tx.balances.transferKeepAlive(keyring.addFromUri(suri).address, 200n * 10n ** 12n)
        .signAndSend(alice, { nonce: nonce + i }, ({ status, dispatchError }) => {
          if (dispatchError) reject(new Error(dispatchError.toString()));
          else if (status.isInBlock) resolve();
        })
        .catch(reject);
    })));
    const from = (await api.rpc.chain.getHeader()).number.toNumber();
    const id = await submitTask('Judge this sentence');
    await bobEdge.waitFor((e) => e.event === 'revealed' && e.task === id, { what: `task ${id} revealed` });
    const result = (await taskOnceCompared(api, id)).result.unwrap().toHex();
    const opened = await cli(['challenge', 'open', '--suri', '//Charlie', String(id), '--json']);
    assert.equal(opened.code, 0, opened.stderr);
    const disputeNow = async () => (await api.call.challengesApi.dispute(id)).unwrap();
    for (let i = 0; i < 30 && (await disputeNow()).jurors.length === 0; i += 1) await sleep(1_000);
    assert.deepEqual((await disputeNow()).jurors.map((j) => j.juror.toString()).sort(), jurors.map((j) => j.owner).sort());
    await Promise.all(fresh.map((suri, i) => ok(['agent', 'register', '--suri', suri, '--name', `appeal-juror-${i}`,
      '--model', MODEL_NAME, '--role', 'verifier', '--stake', '120'])));
    const votes = await Promise.all(edges.map((edge) => edge.waitFor(
      (e) => e.event === 'revealVote' && e.task === id, { timeoutMs: 180_000, what: `a vote on task ${id}` },
    )));
    // Each re-executed the task and found the executor's output.
    for (const vote of votes) assert.equal(vote.vote, result);
    // The jury upholds the result; for a few blocks the verdict may be appealed.
    let dispute;
    for (let i = 0; i < 60; i += 1) {
      dispute = await disputeNow();
      if (dispute.verdict.isSome) break;
      await sleep(1_000);
    }
    assert.equal(dispute.verdict.unwrap().toHex(), result);
    assert.ok(dispute.phase.isAppealable, dispute.phase.toString());
    for (const [i, juror] of jurors.entries()) {
      const sent = (await extrinsicsOf(juror.operator, from)).filter((x) => x.task === String(id));
      assert.deepEqual(sent.map((x) => [x.call, x.failed]),
        [['challenges.commitVote', false], ['challenges.revealVote', false]], `juror ${i}: one commit, one reveal`);
    }

    // The challenger lost, so only the challenger may appeal, with twice the first bond.
    const executorAppeal = await cli(['challenge', 'appeal', '--suri', '//Bob', String(id), '--json']);
    assert.equal(executorAppeal.code, 1);
    assert.equal(executorAppeal.json.error.name, 'challenges.NotLosingSide');
    const charlie = keyring.addFromUri('//Charlie').address;
    // Charlie's other holds (a task's escrow, as its requester) may be released meanwhile:
    // count the challenges pallet's holds only.
    const heldByChallenges = async () => (await api.query.balances.holds(charlie))
      .filter((h) => h.id.isChallenges).reduce((sum, h) => sum + h.amount.toBigInt(), 0n);
    const heldBefore = await heldByChallenges();
    const appealed = await cli(['challenge', 'appeal', '--suri', '//Charlie', String(id), '--json']);
    assert.equal(appealed.code, 0, appealed.stderr);
    assert.equal(appealed.json.result, 'appeal');
    assert.equal(BigInt(appealed.json.bond), 20n * 10n ** 12n, 'the smallest bond of round 1: 2 × 10 AGC');
    assert.ok(appealed.json.events.some((e) => e.name === 'challenges.Appealed'));
    assert.equal(appealed.json.dispute.round, 1);
    assert.deepEqual(appealed.json.dispute.bonds.map((b) => [b.who, b.amount]),
      [[charlie, String(10n * 10n ** 12n)], [charlie, String(20n * 10n ** 12n)]]);
    const heldAfter = await heldByChallenges();
    assert.equal(heldAfter - heldBefore, 20n * 10n ** 12n, 'the appeal bond is held');
    // The new round's jury is drawn from the seven who have not sat.
    const freshAddresses = fresh.map((suri) => keyring.addFromUri(suri).address).sort();
    for (let i = 0; i < 30 && (await disputeNow()).jurors.length !== 7; i += 1) await sleep(1_000);
    assert.deepEqual((await disputeNow()).jurors.map((j) => j.juror.toString()).sort(), freshAddresses);
    const shown = await cli(['challenge', 'show', String(id)]);
    assert.match(shown.stdout, /round 1/);
  });

  test('an edge agent over the embedded light client executes a task', async () => {
    // The light client follows the chain from its raw spec through the node's p2p port.
    const spec = join(mkdtempSync(join(tmpdir(), 'agentchain-spec-')), 'dev.json');
    const built = await new Promise((resolve) => {
      execFile(nodeBinary(), ['build-spec', '--dev', '--raw'], { maxBuffer: 64 * 1024 * 1024 }, (error, stdout) => resolve({ error, stdout }));
    });
    assert.equal(built.error, null);
    writeFileSync(spec, built.stdout);
    await bobEdge.stop();
    const light = startEdge('bob-light', [
      '--operator-key', bob.operatorSuri, '--endpoint', server.baseUrl, '--model', MODEL_NAME,
      '--state-dir', stateDir, '--chain-spec', spec, '--bootnode', await bootnodeOf(node),
    ]);
    const started = await light.waitFor((e) => e.event === 'started', { timeoutMs: 180_000, what: 'the light client start' });
    assert.equal(started.chain, 'light client');
    await light.waitFor((e) => e.event === 'acting' && e.agent === bob.owner, { timeoutMs: 180_000 });
    const id = await submitTask('Light as a feather');
    await light.waitFor((e) => e.event === 'revealed' && e.task === id, { timeoutMs: 180_000, what: `task ${id} revealed over the light client` });
    assert.ok((await taskOnceCompared(api, id)).result.isSome);
  });
});
