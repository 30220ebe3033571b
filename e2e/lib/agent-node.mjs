// An agent node on a dev chain, against the reference inference server: Alice's node, with an
// endpoint whose faults the tests switch, Alice registered as an executor of the model with her
// node's operator key; Bob submits the tasks. Shared by the agent node's test files, each of
// which runs its own node.
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyring } from '@polkadot/keyring';
import { blake2AsHex, cryptoWaitReady } from '@polkadot/util-crypto';
import {
  repoRoot,
  sendAndFinalize,
  sendInBlock,
  startDevNode,
  startInferenceServer,
  waitForEvent,
  waitForHeight,
} from './node.mjs';

export const UNIT = 10n ** 12n;
export const MODEL_NAME = 'ngram-en';
export const MODEL = blake2AsHex(MODEL_NAME, 256);

/**
 * Starts the endpoint (`<name>-endpoint`) and Alice's dev node (`<name>`, its log
 * e2e/logs/<name>.log) and registers Alice's agent. Resolves with { server, node, api, alice,
 * bob, apiKey, nodeLog, stop, submitTask, escrowOf, isEvent, faultExpires }.
 */
export async function startAgentNode(name) {
  await cryptoWaitReady();
  const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  const alice = keyring.addFromUri('//Alice');
  const bob = keyring.addFromUri('//Bob');
  const apiKey = 'sk-e2e-' + Math.random().toString(36).slice(2);
  const nodeLog = join(repoRoot, 'e2e', 'logs', `${name}.log`);
  const keyFile = join(tmpdir(), `agentchain-e2e-key-${name}-${process.pid}`);
  const server = await startInferenceServer(`${name}-endpoint`, [
    '--model', MODEL_NAME, '--admin', '--api-key', apiKey,
  ]);
  writeFileSync(keyFile, `${apiKey}\n`);
  // `--dev` is Alice's node: it inserts the operator key //Alice//operator by itself.
  let node;
  try {
    node = await startDevNode(name, [
      '--inference-endpoint', server.baseUrl,
      '--inference-model', MODEL_NAME,
      '--inference-api-key-file', keyFile,
    ]);
  } catch (error) {
    await server.stop();
    rmSync(keyFile, { force: true });
    throw error;
  }
  const { api } = node;

  const stop = async () => {
    await node.stop();
    await server.stop();
    rmSync(keyFile, { force: true });
  };

  // Alice registers as an executor of the model and names her node's operator key, which
  // accepts. Each call is waited for in a block, not finalised: the dev chain has one block
  // author, so an imported block stays, and the first task is submitted after all three.
  try {
    const operator = keyring.addFromUri('//Alice//operator');
    const registered = await sendInBlock(
      api,
      api.tx.agents.register('alice-agent', server.baseUrl, '1', [MODEL], ['Executor'], 500n * UNIT),
      alice,
    );
    assert.equal(registered.dispatchError, null);
    const named = await sendInBlock(api, api.tx.agents.setOperator(operator.address), alice);
    assert.equal(named.dispatchError, null);
    const accepted = await sendInBlock(api, api.tx.agents.acceptOperator(alice.address), operator);
    assert.equal(accepted.dispatchError, null);
  } catch (error) {
    await stop();
    throw error;
  }

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

  const isEvent = (eventName, id) => (event) =>
    api.events.inference[eventName].is(event) && event.data.task.toNumber() === id;

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
    const lines = readFileSync(nodeLog, 'utf8').split('\n').filter((l) => l.includes(`task ${id}: ${expectedLog}`));
    if (retried) {
      assert.ok(calls.includes(lines.length), `${calls.join(' or ')} log lines for task ${id} (${expectedLog}), got ${lines.length}`);
      assert.ok(lines[0].includes('calling once more at a later block'), lines.join('\n'));
      if (lines.length === 2) assert.ok(lines[1].includes('no result committed'), lines.join('\n'));
    } else {
      assert.equal(lines.length, 1, `one log line for task ${id} (${expectedLog}), got ${lines.length}`);
    }
    return id;
  }

  return { server, node, api, alice, bob, apiKey, nodeLog, stop, submitTask, escrowOf, isEvent, faultExpires };
}
