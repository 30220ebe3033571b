// The operator CLI (`agentchain`, crate cli/) against a real dev agent node: every command, its
// text and JSON output, and its rejected inputs — refused before anything is signed (exit status
// 2, the signer's nonce unchanged) or failed on chain with the pallet's error and its
// documentation (exit status 1).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Keyring } from '@polkadot/keyring';
import { blake2AsHex, cryptoWaitReady } from '@polkadot/util-crypto';
import { nodeBinary, startDevNode, startInferenceServer } from '../lib/node.mjs';

const UNIT = 10n ** 12n;
const MODEL_NAME = 'ngram-en';
const MODEL = blake2AsHex(MODEL_NAME, 256);
const ALICE = '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY';

/** The CLI binary: $AGENTCHAIN_CLI, else built next to the node. */
function cliBinary() {
  return process.env.AGENTCHAIN_CLI ?? join(dirname(nodeBinary()), 'agentchain');
}

describe('agentchain CLI against a dev agent node', () => {
  let server;
  let node;
  let api;
  let keyring;

  /** Runs the CLI; resolves to { code, stdout, stderr, json } (json when --json parsed). */
  function cli(args, { url = node.rpcUrl, env = {} } = {}) {
    return new Promise((resolve) => {
      execFile(
        cliBinary(),
        ['--url', url, ...args],
        { env: { ...process.env, ...env }, timeout: 300_000 },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
          let json;
          if (args.includes('--json')) {
            try {
              json = JSON.parse(stdout);
            } catch {
              json = undefined;
            }
          }
          resolve({ code, stdout, stderr, json });
        },
      );
    });
  }

  async function nonceOf(address) {
    return (await api.rpc.system.accountNextIndex(address)).toNumber();
  }

  /** `cli(args)` must be refused before signing: exit 2, message matching `pattern`, no nonce used. */
  async function refusedBeforeSigning(args, signerAddress, pattern) {
    const before = await nonceOf(signerAddress);
    const run = await cli(args);
    assert.equal(run.code, 2, `${args.join(' ')} exited ${run.code}: ${run.stderr}`);
    assert.match(run.stderr, pattern);
    assert.equal(await nonceOf(signerAddress), before, 'nothing was signed or sent');
  }

  before(async () => {
    assert.ok(existsSync(cliBinary()), `agentchain not found at ${cliBinary()}: cargo build --release -p agentchain-cli`);
    await cryptoWaitReady();
    keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
    server = await startInferenceServer('cli-endpoint', ['--model', MODEL_NAME]);
    // `--dev` is Alice's node: its off-chain worker signs with //Alice//operator.
    node = await startDevNode('cli-node', [
      '--inference-endpoint', server.baseUrl,
      '--inference-model', MODEL_NAME,
    ]);
    api = node.api;
  });

  after(async () => {
    await node?.stop();
    await server?.stop();
  });

  test('keys: generate, inspect, and refuse a bad secret', async () => {
    const generated = await cli(['keys', 'generate', '--json']);
    assert.equal(generated.code, 0, generated.stderr);
    const phrase = generated.json.account.secretUri;
    assert.equal(phrase.split(' ').length, 12);
    // The CLI derives keys as polkadot.js does.
    assert.equal(generated.json.account.address, keyring.addFromUri(phrase).address);
    assert.equal(generated.json.operator.address, keyring.addFromUri(`${phrase}//operator`).address);
    const long = await cli(['keys', 'generate', '--words', '24', '--json']);
    assert.equal(long.json.account.secretUri.split(' ').length, 24);
    const badWords = await cli(['keys', 'generate', '--words', '13']);
    assert.equal(badWords.code, 2);
    assert.match(badWords.stderr, /12 or 24 words/);

    const alice = await cli(['keys', 'inspect', '//Alice']);
    assert.equal(alice.code, 0);
    assert.match(alice.stdout, new RegExp(`address:\\s+${ALICE}`));
    const operator = await cli(['keys', 'inspect', '//Alice', '--operator', '--json']);
    assert.equal(operator.json.address, keyring.addFromUri('//Alice//operator').address);
    const bad = await cli(['keys', 'inspect', 'not a valid phrase']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /secret URI/);
  });

  test('keys insert-operator puts a key into the node keystore', async () => {
    const generated = (await cli(['keys', 'generate', '--json'])).json;
    const suri = generated.operator.secretUri;
    const pub = generated.operator.publicKey;
    assert.equal((await api.rpc.author.hasKey(pub, 'agnt')).isTrue, false);
    const inserted = await cli(['keys', 'insert-operator', '--suri', suri, '--json']);
    assert.equal(inserted.code, 0, inserted.stderr);
    assert.equal(inserted.json.keyType, 'agnt');
    assert.equal((await api.rpc.author.hasKey(pub, 'agnt')).isTrue, true);
  });

  test('status: head and finality, and an account', async () => {
    const chain = await cli(['status', '--json']);
    assert.equal(chain.code, 0, chain.stderr);
    assert.equal(chain.json.chain, 'AgentChain Development');
    assert.equal(chain.json.specVersion, api.runtimeVersion.specVersion.toNumber());
    assert.ok(chain.json.best.number >= chain.json.finalized.number);
    const account = await cli(['status', '--suri', '//Bob', '--json']);
    assert.equal(account.json.account.address, keyring.addFromUri('//Bob').address);
    const free = (await api.query.system.account(account.json.account.address)).data.free.toBigInt();
    assert.ok(BigInt(account.json.account.free) > 0n && BigInt(account.json.account.free) <= free);
    const text = await cli(['status', '--account', ALICE]);
    assert.match(text.stdout, /best:\s+#\d+/);
    assert.match(text.stdout, new RegExp(`account ${ALICE}`));
    const badAccount = await cli(['status', '--account', 'nobody']);
    assert.equal(badAccount.code, 2);
    assert.match(badAccount.stderr, /not an SS58 address/);
  });

  test('a node that does not answer is a clear error', async () => {
    const run = await cli(['status'], { url: 'ws://127.0.0.1:1' });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /cannot reach a node at ws:\/\/127\.0\.0\.1:1/);
  });

  test('agent: register, operator key, bond, unbond, pause, resume, and the errors', async () => {
    // Refused before signing: no role, a role that does not exist, a malformed stake.
    await refusedBeforeSigning(
      ['agent', 'register', '--suri', '//Alice', '--name', 'a', '--model', MODEL_NAME, '--stake', '500'],
      ALICE, /--role/,
    );
    await refusedBeforeSigning(
      ['agent', 'register', '--suri', '//Alice', '--name', 'a', '--model', MODEL_NAME, '--role', 'miner', '--stake', '500'],
      ALICE, /invalid value 'miner'/,
    );
    await refusedBeforeSigning(
      ['agent', 'register', '--suri', '//Alice', '--name', 'a', '--model', MODEL_NAME, '--role', 'executor', '--stake', '5x'],
      ALICE, /not an amount of AGC/,
    );
    await refusedBeforeSigning(
      ['agent', 'register', '--suri', '//Alice', '--name', 'a', '--model', '0x12', '--role', 'executor', '--stake', '5'],
      ALICE, /a model id is 32 bytes/,
    );

    // On chain: too little stake is the pallet's error, named and explained; it pays its fee only.
    const low = await cli([
      'agent', 'register', '--suri', '//Alice', '--name', 'alice-agent', '--model', MODEL_NAME,
      '--role', 'executor', '--stake', '0.001', '--json',
    ]);
    assert.equal(low.code, 1);
    assert.equal(low.json.error.kind, 'dispatch');
    assert.equal(low.json.error.name, 'agents.InsufficientStake');
    assert.ok(low.json.error.docs.length > 10, 'the error carries its documentation');
    assert.equal((await api.query.agents.agents(ALICE)).isNone, true);

    const registered = await cli([
      'agent', 'register', '--suri', '//Alice', '--name', 'alice-agent', '--model', MODEL_NAME,
      '--role', 'executor', '--role', 'verifier', '--stake', '500', '--endpoint', server.baseUrl,
      '--agent-version', '1.0', '--json',
    ]);
    assert.equal(registered.code, 0, registered.stderr);
    assert.match(registered.stderr, /agents\.register: in block #\d+/, 'progress on stderr');
    assert.equal(registered.json.agent.owner, ALICE);
    assert.deepEqual(registered.json.agent.models, [MODEL]);
    assert.deepEqual(registered.json.agent.roles, ['executor', 'verifier']);
    assert.equal(BigInt(registered.json.agent.stake), 500n * UNIT);
    assert.ok(registered.json.events.some((e) => e.name === 'Agents.AgentRegistered'));
    const onChain = (await api.query.agents.agents(ALICE)).unwrap();
    assert.equal(onChain.stake.toBigInt(), 500n * UNIT);

    const again = await cli([
      'agent', 'register', '--suri', '//Alice', '--name', 'x', '--model', MODEL_NAME,
      '--role', 'executor', '--stake', '500',
    ]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /agents\.register failed: agents\.AlreadyRegistered: The account already owns an agent/);

    // The operator key the dev node signs with: proposed by the owner, accepted by the key.
    const operator = keyring.addFromUri('//Alice//operator').address;
    const proposed = await cli(['agent', 'set-operator', '--suri', '//Alice', operator]);
    assert.equal(proposed.code, 0, proposed.stderr);
    const wrongSigner = await cli(['agent', 'accept-operator', '--suri', '//Charlie', ALICE, '--json']);
    assert.equal(wrongSigner.code, 1);
    assert.match(wrongSigner.json.error.name, /^agents\./);
    const accepted = await cli(['agent', 'accept-operator', '--suri', '//Alice//operator', ALICE, '--json']);
    assert.equal(accepted.code, 0, accepted.stderr);
    assert.equal(accepted.json.agent.operator, operator);

    const bonded = await cli(['agent', 'bond', '--suri', '//Alice', '--amount', '25.5', '--json']);
    assert.equal(bonded.code, 0, bonded.stderr);
    assert.equal(BigInt(bonded.json.agent.stake), 525_500_000_000_000n);
    const unbonded = await cli(['agent', 'unbond', '--suri', '//Alice', '--amount', '25.5', '--json']);
    assert.equal(unbonded.code, 0, unbonded.stderr);
    assert.equal(BigInt(unbonded.json.agent.unbonding), 25_500_000_000_000n);
    const early = await cli(['agent', 'withdraw', '--suri', '//Alice', '--json']);
    assert.equal(early.code, 1);
    assert.equal(early.json.error.name, 'agents.NothingToWithdraw');
    const zero = await cli(['agent', 'bond', '--suri', '//Alice', '--amount', '0', '--json']);
    assert.equal(zero.json.error.name, 'agents.ZeroAmount');

    const paused = await cli(['agent', 'pause', '--suri', '//Alice', '--json']);
    assert.equal(paused.json.agent.status, 'paused');
    assert.equal(paused.json.agent.selectable, false);
    const resumed = await cli(['agent', 'resume', '--suri', '//Alice', '--json']);
    assert.equal(resumed.json.agent.status, 'active');
    const rejoined = await cli(['agent', 'rejoin', '--suri', '//Alice', '--json']);
    assert.equal(rejoined.code, 0, rejoined.stderr);
    assert.ok(rejoined.json.events.some((e) => e.name === 'Agents.CandidateSetsJoined'));
    const notAgent = await cli(['agent', 'rejoin', '--suri', '//Dave', '--json']);
    assert.equal(notAgent.code, 1);
    assert.equal(notAgent.json.error.name, 'agents.NotAgentOrOperator');

    const shown = await cli(['agent', 'show', ALICE]);
    assert.equal(shown.code, 0);
    assert.match(shown.stdout, /agent alice-agent/);
    assert.match(shown.stdout, /status:\s+active \(selectable\)/);
    const listed = await cli(['agent', 'list', '--model', MODEL_NAME, '--json']);
    assert.deepEqual(listed.json.agents.map((a) => a.owner), [ALICE]);
    const none = await cli(['agent', 'show', '--suri', '//Dave']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /owns no agent/);

    // A second agent leaves: deregistered, its whole stake unbonding.
    const charlie = keyring.addFromUri('//Charlie').address;
    assert.equal((await cli([
      'agent', 'register', '--suri', '//Charlie', '--name', 'charlie', '--model', 'other-model',
      '--role', 'curator', '--stake', '100',
    ])).code, 0);
    const left = await cli(['agent', 'deregister', '--suri', '//Charlie', '--json']);
    assert.equal(left.code, 0, left.stderr);
    assert.equal(left.json.agent.status, 'leaving');
    assert.equal(left.json.agent.owner, charlie);
  });

  test('task: submit and follow to the finalised output, show, list, wait, and the errors', async () => {
    const bob = keyring.addFromUri('//Bob').address;
    await refusedBeforeSigning(
      ['task', 'submit', '--suri', '//Bob', '--model', MODEL_NAME, '--input', 'x', '--fee', '1.0000000000001'],
      bob, /more than 12 decimal places/,
    );
    await refusedBeforeSigning(
      ['task', 'submit', '--suri', '//Bob', '--model', MODEL_NAME, '--input', 'x', '--input-uri', 'http://x/', '--input-hash', '0x00', '--fee', '1'],
      bob, /cannot be used with/,
    );
    await refusedBeforeSigning(
      ['task', 'submit', '--suri', '//Bob', '--model', MODEL_NAME, '--input-uri', 'http://x/', '--input-hash', '0x1234', '--fee', '1'],
      bob, /32 bytes of hex/,
    );
    const noExecutor = await cli([
      'task', 'submit', '--suri', '//Bob', '--model', 'nobody-serves-this', '--input', 'x', '--fee', '1', '--json',
    ]);
    assert.equal(noExecutor.code, 1);
    assert.equal(noExecutor.json.error.name, 'inference.NoExecutors');
    // An account with no funds cannot pay the fee: the pool refuses it, nothing is included.
    const broke = (await cli(['keys', 'generate', '--json'])).json.account.secretUri;
    const refused = await cli(['task', 'submit', '--suri', broke, '--model', MODEL_NAME, '--input', 'x', '--fee', '1']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /cannot pay the transaction fee/);

    const submitted = await cli([
      'task', 'submit', '--suri', '//Bob', '--model', MODEL_NAME, '--input', 'The river carries',
      '--max-tokens', '12', '--fee', '1', '--wait', '--json',
    ]);
    assert.equal(submitted.code, 0, submitted.stderr);
    const id = submitted.json.id;
    // Live progress, one line a step, on stderr.
    for (const step of ['assigned', 'committed', 'revealed', 'finalised']) {
      assert.match(submitted.stderr, new RegExp(`task ${id} ${step}`), `progress shows ${step}`);
    }
    assert.equal(submitted.json.status, 'finalised');
    assert.equal(submitted.json.requester, bob);
    assert.deepEqual(submitted.json.executors.map((e) => e.executor), [ALICE]);
    assert.ok(submitted.json.output.length > 0, 'the output text is printed');
    // What the CLI printed is what the chain holds.
    const view = (await api.call.inferenceApi.task(id)).unwrap();
    assert.equal(submitted.json.result, view.result.unwrap().toHex());
    assert.equal(view.status.toString(), 'Finalised');

    const shown = await cli(['task', 'show', String(id)]);
    assert.equal(shown.code, 0);
    assert.match(shown.stdout, new RegExp(`task ${id} — finalised`));
    assert.match(shown.stdout, new RegExp(`output:\\s+${submitted.json.output.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    const missing = await cli(['task', 'show', '999999']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /there is no task 999999/);

    // A task followed by id until revealed, then listed among its executor's open tasks.
    const second = await cli([
      'task', 'submit', '--suri', '//Bob', '--model', MODEL_NAME, '--input', 'Once upon', '--fee', '0.5', '--json',
    ]);
    assert.equal(second.code, 0, second.stderr);
    const waited = await cli(['task', 'wait', String(second.json.id), '--until', 'revealed', '--json']);
    assert.equal(waited.code, 0, waited.stderr);
    assert.equal(waited.json.status, 'revealed');
    assert.ok(waited.json.output.length > 0);
    // Revealed, in its challenge window: still open work of its executor.
    const listed = await cli(['task', 'list', '--executor', ALICE, '--json']);
    assert.ok(listed.json.tasks.some((t) => t.id === second.json.id), 'the task is among Alice\'s open tasks');
    const waitMissing = await cli(['task', 'wait', '999999']);
    assert.equal(waitMissing.code, 1);
    assert.match(waitMissing.stderr, /there is no task 999999/);
  });
});
