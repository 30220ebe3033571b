// The operator CLI (`agentchain`, crate cli/) against a real dev agent node: every command, its
// text and JSON output, and its rejected inputs — refused before anything is signed (exit status
// 2, the signer's nonce unchanged) or failed on chain with the pallet's error and its
// documentation (exit status 1).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Keyring } from '@polkadot/keyring';
import { blake2AsHex, cryptoWaitReady } from '@polkadot/util-crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCliNode } from '../lib/cli.mjs';

const UNIT = 10n ** 12n;
const MODEL_NAME = 'ngram-en';
const MODEL = blake2AsHex(MODEL_NAME, 256);
const ALICE = '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY';
const HASH = `0x${'11'.repeat(32)}`; // a well-formed 32-byte hash

describe('agentchain CLI against a dev agent node', () => {
  let server;
  let node;
  let api;
  let keyring;
  let revealedTask; // left in its challenge window by the task test, for the challenge test
  let finalisedTask;

  let setup;
  /** Runs the CLI against the node; resolves to { code, stdout, stderr, json } (see e2e/lib/cli.mjs). */
  const cli = (args, options) => setup.cli(args, options);
  /** `cli(args)` must be refused before signing: exit 2, message matching `pattern`, no nonce used. */
  const refusedBeforeSigning = (args, signerAddress, pattern) => setup.refusedBeforeSigning(args, signerAddress, pattern);

  before(async () => {
    await cryptoWaitReady();
    keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
    setup = await startCliNode('cli', MODEL_NAME);
    ({ server, node, api } = setup);
  });

  after(async () => {
    await setup?.stop();
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
    // The heads it names are the chain's blocks of those numbers.
    assert.equal((await api.rpc.chain.getBlockHash(chain.json.finalized.number)).toHex(), chain.json.finalized.hash);
    assert.equal((await api.rpc.chain.getHeader(chain.json.best.hash)).number.toNumber(), chain.json.best.number);
    const account = await cli(['status', '--suri', '//Bob', '--json']);
    assert.equal(account.json.account.address, keyring.addFromUri('//Bob').address);
    // The balances are those of the best block it names.
    const at = await api.at(account.json.best.hash);
    const info = await at.query.system.account(account.json.account.address);
    assert.equal(BigInt(account.json.account.free), info.data.free.toBigInt());
    assert.equal(account.json.account.nonce, info.nonce.toNumber());
    const text = await cli(['status', '--account', ALICE]);
    assert.match(text.stdout, /best:\s+#\d+/);
    assert.match(text.stdout, new RegExp(`account ${ALICE}`));
    const badAccount = await cli(['status', '--account', 'nobody']);
    assert.equal(badAccount.code, 2);
    assert.match(badAccount.stderr, /not an SS58 address/);
  });

  test('invalid arguments: a JSON error with --json, and no secret sent to a remote node', async () => {
    const bad = await cli(['task', 'show', 'abc', '--json']);
    assert.equal(bad.code, 2);
    assert.equal(bad.json.error.kind, 'invalid');
    assert.match(bad.json.error.message, /invalid value 'abc'/);
    const badSuri = await cli(['agent', 'pause', '--suri', 'not a valid phrase'], { url: 'ws://127.0.0.1:1' });
    assert.equal(badSuri.code, 2, 'a bad secret is refused before connecting');
    const remote = await cli(['keys', 'insert-operator', '--suri', '//Eve//operator'], { url: 'ws://10.255.255.1:9944' });
    assert.equal(remote.code, 2);
    assert.match(remote.stderr, /not on this machine.*--allow-remote/);
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
    assert.ok(registered.json.events.some((e) => e.name === 'agents.AgentRegistered'));
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
    assert.equal(wrongSigner.json.error.name, 'agents.NotProposedOperator');
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

    // The operator key may pause its agent: the CLI reports the agent it acts for.
    const paused = await cli(['agent', 'pause', '--suri', '//Alice//operator', '--json']);
    assert.equal(paused.code, 0, paused.stderr);
    assert.equal(paused.json.agent.owner, ALICE);
    assert.equal(paused.json.agent.status, 'paused');
    assert.equal(paused.json.agent.selectable, false);
    // --finalized: reported once the block is final.
    const resumed = await cli(['agent', 'resume', '--suri', '//Alice', '--finalized', '--json']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(resumed.json.agent.status, 'active');
    assert.match(resumed.stderr, /waiting for finality/);
    const finalizedHead = await api.rpc.chain.getHeader(await api.rpc.chain.getFinalizedHead());
    assert.ok(finalizedHead.number.toNumber() >= resumed.json.block.number, 'its block is finalized');

    // Name, endpoint and version; models; roles.
    const updated = await cli(['agent', 'update', '--suri', '//Alice', '--name', 'alice-2', '--agent-version', '1.1', '--json']);
    assert.equal(updated.code, 0, updated.stderr);
    assert.equal(updated.json.agent.name, 'alice-2');
    assert.equal(updated.json.agent.version, '1.1');
    assert.equal(updated.json.agent.endpoint, server.baseUrl, 'a field not given is kept');
    const modelled = await cli(['agent', 'set-models', '--suri', '//Alice', '--model', MODEL_NAME, '--model', 'ngram-fr', '--json']);
    assert.equal(modelled.code, 0, modelled.stderr);
    assert.deepEqual([...modelled.json.agent.models].sort(), [MODEL, blake2AsHex('ngram-fr', 256)].sort());
    const duplicate = await cli(['agent', 'set-models', '--suri', '//Alice', '--model', MODEL_NAME, '--model', MODEL_NAME, '--json']);
    assert.equal(duplicate.json.error.name, 'agents.DuplicateModel');
    const roled = await cli(['agent', 'set-roles', '--suri', '//Alice', '--role', 'executor', '--role', 'verifier', '--role', 'curator', '--json']);
    assert.equal(roled.code, 0, roled.stderr);
    assert.deepEqual(roled.json.agent.roles, ['executor', 'verifier', 'curator']);
    const rejoined = await cli(['agent', 'rejoin', '--suri', '//Alice', '--json']);
    assert.equal(rejoined.code, 0, rejoined.stderr);
    assert.ok(rejoined.json.events.some((e) => e.name === 'agents.CandidateSetsJoined'));
    const notAgent = await cli(['agent', 'rejoin', '--suri', '//Dave', '--json']);
    assert.equal(notAgent.code, 1);
    assert.equal(notAgent.json.error.name, 'agents.NotAgentOrOperator');
    const sped = await cli(['agent', 'set-batch-speed', '--suri', '//Alice', '4', '--json']);
    assert.equal(sped.code, 0, sped.stderr);
    assert.ok(sped.json.events.some((e) => e.name === 'agents.BatchSpeedSet'));
    assert.equal((await api.query.agents.agents(ALICE)).unwrap().batchSpeed.toNumber(), 4);
    assert.equal(sped.json.agent.batchSpeed, 4, 'the agent as the runtime API gives it after the call');
    assert.equal((await api.call.agentsApi.agent(ALICE)).unwrap().batchSpeed.toNumber(), 4);
    const tooFast = await cli(['agent', 'set-batch-speed', '--suri', '//Alice', '10001', '--json']);
    assert.equal(tooFast.code, 1);
    assert.equal(tooFast.json.error.name, 'agents.InvalidBatchSpeed');

    const shown = await cli(['agent', 'show', ALICE]);
    assert.equal(shown.code, 0);
    assert.match(shown.stdout, /agent alice-2/);
    assert.match(shown.stdout, /status:\s+active \(selectable\)/);
    assert.match(shown.stdout, /batches:\s+0 blocks of work open, speed 4/);
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
      ['task', 'submit', '--suri', '//Bob', '--model', MODEL_NAME, '--input', 'x', '--input-uri', 'http://x/', '--input-hash', HASH, '--fee', '1'],
      bob, /cannot be used with/,
    );
    await refusedBeforeSigning(
      ['task', 'submit', '--suri', '//Bob', '--model', MODEL_NAME, '--input-uri', 'http://x/', '--input-hash', '0x1234', '--fee', '1'],
      bob, /not a 0x-prefixed 32-byte hash/,
    );
    await refusedBeforeSigning(
      ['task', 'submit', '--suri', '//Bob', '--model', MODEL_NAME, '--fee', '1'],
      bob, /required arguments were not provided/,
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
      '--max-tokens', '12', '--fee', '1', '--wait', '--timeout', '240', '--json',
    ]);
    assert.equal(submitted.code, 0, submitted.stderr);
    const id = submitted.json.id;
    // Live progress, one line a change, on stderr: the statuses in the order of the task's life
    // (one that lasts a single block may fall between two reports), each in one run of lines
    // (a committed task reports its commitments and reveals as they come), to the end.
    const order = ['submitted', 'assigned', 'committed', 'revealed', 'finalised'];
    const seen = [...submitted.stderr.matchAll(new RegExp(`block #\\d+: task ${id} (\\w+)`, 'g'))].map((m) => m[1]);
    assert.deepEqual(seen, [...seen].sort((a, b) => order.indexOf(a) - order.indexOf(b)), `in order: ${seen}`);
    assert.ok(seen.includes('revealed') && seen.at(-1) === 'finalised', `progress to the end: ${seen}`);
    if (seen.includes('committed')) {
      assert.match(submitted.stderr, new RegExp(`task ${id} committed \\(all 1 revealed; results compared at #\\d+\\)`));
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

    // Prepaid funds: the next task's fee and deposit come out of them, nothing else does.
    const prepaid = await cli(['task', 'prepay', '--suri', '//Bob', '1', '--json']);
    assert.equal(prepaid.code, 0, prepaid.stderr);
    assert.equal(prepaid.json.prepaid, String(10n ** 12n));

    // A task followed by id until revealed, then listed among its executor's open tasks.
    const second = await cli([
      'task', 'submit', '--suri', '//Bob', '--model', MODEL_NAME, '--input', 'Once upon', '--fee', '0.5', '--json',
    ]);
    assert.equal(second.code, 0, second.stderr);
    const left = (await api.query.inference.prepaid(bob)).toBigInt();
    const { deposit } = (await api.query.inference.tasks(second.json.id)).unwrap();
    assert.equal(left, 10n ** 12n - 5n * 10n ** 11n - deposit.toBigInt());
    const tooMuch = await cli(['task', 'withdraw-prepaid', '--suri', '//Bob', '0.6', '--json']);
    assert.equal(tooMuch.code, 1);
    assert.equal(tooMuch.json.error.name, 'inference.InsufficientPrepaid');
    const withdrawn = await cli(['task', 'withdraw-prepaid', '--suri', '//Bob', `${left / 10n ** 12n}.${String(left % 10n ** 12n).padStart(12, '0')}`]);
    assert.equal(withdrawn.code, 0, withdrawn.stderr);
    assert.match(withdrawn.stdout, /withdrawn in block #\d+; prepaid funds now 0 AGC/);
    assert.equal((await api.query.inference.prepaid(bob)).toBigInt(), 0n);
    const waited = await cli(['task', 'wait', String(second.json.id), '--until', 'revealed', '--timeout', '240', '--json']);
    assert.equal(waited.code, 0, waited.stderr);
    assert.equal(waited.json.status, 'revealed');
    assert.ok(waited.json.output.length > 0);
    // Revealed, in its challenge window: still open work of its executor.
    const listed = await cli(['task', 'list', '--executor', ALICE, '--json']);
    assert.ok(listed.json.tasks.some((t) => t.id === second.json.id), 'the task is among Alice\'s open tasks');
    const bobs = await cli(['task', 'list', '--requester', bob, '--json']);
    assert.equal(bobs.code, 0, bobs.stderr);
    assert.deepEqual(bobs.json.tasks.map((t) => t.id), [id, second.json.id]);
    const neither = await cli(['task', 'list']);
    assert.equal(neither.code, 2);
    const waitMissing = await cli(['task', 'wait', '999999']);
    assert.equal(waitMissing.code, 1);
    assert.match(waitMissing.stderr, /there is no task 999999/);
    revealedTask = second.json.id;
    finalisedTask = id;
  });

  test('challenge: open with the smallest bond, show, duties, and the errors', async () => {
    assert.ok(revealedTask !== undefined, 'the task test left a revealed task');
    // A jury needs three verifiers of the model other than its executor.
    const verifiers = ['//Dave', '//Eve', '//Ferdie'];
    const joined = await Promise.all(verifiers.map((suri) => cli([
      'agent', 'register', '--suri', suri, '--name', suri.slice(2).toLowerCase(), '--model', MODEL_NAME,
      '--role', 'verifier', '--role', 'curator', '--stake', '120', '--json',
    ])));
    for (const run of joined) assert.equal(run.code, 0, run.stderr);

    // The executor cannot challenge its own result.
    const own = await cli(['challenge', 'open', '--suri', '//Alice', String(revealedTask), '--bond', '10', '--json']);
    assert.equal(own.code, 1);
    assert.equal(own.json.error.name, 'challenges.OwnResult');
    const charlie = keyring.addFromUri('//Charlie').address;
    const heldBefore = (await api.query.system.account(charlie)).data.reserved.toBigInt();
    const opened = await cli(['challenge', 'open', '--suri', '//Charlie', String(revealedTask), '--json']);
    assert.equal(opened.code, 0, opened.stderr);
    // The smallest bond: max(10 AGC, 2 × the 0.5 AGC fee), shown before it is held.
    assert.equal(BigInt(opened.json.bond), 10n * UNIT);
    assert.match(opened.stderr, /bonding 10 AGC/);
    assert.equal(opened.json.dispute.kind.challenge, charlie);
    assert.ok(opened.json.events.some((e) => e.name === 'challenges.DisputeOpened'));
    const heldAfter = (await api.query.system.account(charlie)).data.reserved.toBigInt();
    assert.equal(heldAfter - heldBefore, 10n * UNIT, 'the bond is held');

    const again = await cli(['challenge', 'open', '--suri', '//Bob', String(revealedTask), '--json']);
    assert.equal(again.json.error.name, 'challenges.NotChallengeable');
    const finalised = await cli(['challenge', 'open', '--suri', '//Bob', String(finalisedTask), '--json']);
    assert.equal(finalised.json.error.name, 'challenges.NotChallengeable');
    const appeal = await cli(['challenge', 'appeal', '--suri', '//Bob', String(revealedTask), '--json']);
    assert.equal(appeal.code, 1);
    assert.equal(appeal.json.error.name, 'challenges.WrongPhase');

    // The jury is drawn at the next block: all three verifiers, each with a vote to commit.
    let duties;
    for (let i = 0; i < 10; i += 1) {
      duties = await cli(['challenge', 'duties', '--suri', '//Dave', '--json']);
      if (duties.json.tasks.includes(revealedTask)) break;
      await new Promise((r) => setTimeout(r, 1_500));
    }
    assert.deepEqual(duties.json.tasks, [revealedTask]);
    const daveStatus = await cli(['status', '--suri', '//Dave', '--json']);
    assert.deepEqual(daveStatus.json.account.juryDuties, [revealedTask]);
    const shown = await cli(['challenge', 'show', String(revealedTask), '--json']);
    assert.equal(shown.code, 0, shown.stderr);
    assert.equal(shown.json.round, 0);
    assert.deepEqual(shown.json.jurors.map((j) => j.juror).sort(), verifiers.map((v) => keyring.addFromUri(v).address).sort());
    assert.deepEqual(shown.json.bonds.map((b) => [b.who, b.amount]), [[charlie, String(10n * UNIT)]]);
    const text = await cli(['challenge', 'show', String(revealedTask)]);
    assert.match(text.stdout, new RegExp(`dispute on task ${revealedTask} — challenged by ${charlie}`));
    const none = await cli(['challenge', 'show', String(finalisedTask)]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /has no open dispute/);
  });

  test('validator: session keys, candidacy, leaving, and the errors', async () => {
    const before = await cli(['validator', 'show', '--json']);
    assert.equal(before.code, 0, before.stderr);
    assert.ok(before.json.validators.includes(ALICE));
    assert.equal(BigInt(before.json.candidacyBond), (await api.query.collatorSelection.candidacyBond()).toBigInt());

    // Without session keys, no candidacy.
    const keyless = await cli(['validator', 'register', '--suri', '//Charlie', '--json']);
    assert.equal(keyless.code, 1);
    assert.equal(keyless.json.error.name, 'collatorSelection.ValidatorNotRegistered');

    const eve = keyring.addFromUri('//Eve').address;
    const rotated = await cli(['validator', 'rotate-keys', '--owner', eve, '--json']);
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.match(rotated.json.keys, /^0x[0-9a-f]{128}$/);
    // The keys are in the node's keystore.
    assert.equal((await api.rpc.author.hasSessionKeys(rotated.json.keys)).isTrue, true);
    // Keys generated for Eve cannot be set by Charlie: the proof names Eve.
    const stolen = await cli([
      'validator', 'set-keys', '--suri', '//Charlie', '--keys', rotated.json.keys, '--proof', rotated.json.proof, '--json',
    ]);
    assert.equal(stolen.code, 1);
    assert.match(stolen.json.error.name, /^session\./);
    const set = await cli(['validator', 'set-keys', '--suri', '//Eve', '--keys', rotated.json.keys, '--proof', rotated.json.proof, '--json']);
    assert.equal(set.code, 0, set.stderr);
    assert.equal((await api.query.session.nextKeys(eve)).unwrap().toHex(), rotated.json.keys);
    // Or in one step: generated on the node and set.
    const fresh = await cli(['validator', 'set-keys', '--suri', '//Eve', '--json']);
    assert.equal(fresh.code, 0, fresh.stderr);
    assert.notEqual(fresh.json.keys, rotated.json.keys);
    assert.equal((await api.query.session.nextKeys(eve)).unwrap().toHex(), fresh.json.keys);

    const registered = await cli(['validator', 'register', '--suri', '//Eve', '--json']);
    assert.equal(registered.code, 0, registered.stderr);
    assert.deepEqual(registered.json.validators.candidates.map((c) => c.who), [eve]);
    const twice = await cli(['validator', 'register', '--suri', '//Eve', '--json']);
    assert.equal(twice.json.error.name, 'collatorSelection.AlreadyCandidate');
    const left = await cli(['validator', 'leave', '--suri', '//Eve', '--json']);
    assert.equal(left.code, 0, left.stderr);
    assert.deepEqual(left.json.validators.candidates, []);
    await refusedBeforeSigning(['validator', 'set-keys', '--suri', '//Eve', '--keys', '0xzz', '--proof', '0x00'], eve, /not 0x-prefixed hex/);
    await refusedBeforeSigning(
      ['validator', 'set-keys', '--suri', '//Eve', '--keys', `${fresh.json.keys}00`, '--proof', fresh.json.keys],
      eve, /not this runtime's session keys/,
    );
  });

  test('task submit --batch: a batch executors would refuse is refused before signing', async () => {
    const bob = keyring.addFromUri('//Bob').address;
    const dir = mkdtempSync(join(tmpdir(), 'agentchain-cli-batch-'));
    const file = (name, content) => {
      const path = join(dir, name);
      writeFileSync(path, content);
      return path;
    };
    const maxItem = api.consts.inference.maxInputLen.toNumber();
    const submit = (path, uri = 'http://127.0.0.1:1/inputs.json') =>
      ['task', 'submit', '--suri', '//Bob', '--model', MODEL_NAME, '--batch', path, '--batch-uri', uri, '--fee', '1'];
    await refusedBeforeSigning(submit(file('text.json', 'not json')), bob, /not a JSON array of strings/);
    await refusedBeforeSigning(submit(file('numbers.json', '[1, 2]')), bob, /not a JSON array of strings/);
    await refusedBeforeSigning(submit(file('empty.json', '[]')), bob, /holds 0 items; a batch has 1 to/);
    await refusedBeforeSigning(
      submit(file('long.json', JSON.stringify(['fine', 'x'.repeat(maxItem + 1)]))),
      bob, new RegExp(`item 1 of .* is ${maxItem + 1} bytes; the chain shows an item of at most ${maxItem} bytes`),
    );
    // Items within the bound, escaped in the file to more than executors read of a document.
    const maxItems = api.consts.inference.maxBatchItems.toNumber();
    const quotes = file('quotes.json', JSON.stringify(Array.from({ length: maxItems }, () => '"'.repeat(maxItem))));
    await refusedBeforeSigning(submit(quotes), bob, /the inputs document would be \d+ bytes; executors read at most/);
    const good = file('good.json', JSON.stringify(['one', 'two']));
    await refusedBeforeSigning(submit(good, 'ipfs://inputs'), bob, /executors fetch only http:\/\/ and https:\/\/ URLs/);
    // --publish to a store that is not there: nothing is signed either.
    const unpublished = await cli([...submit(good), '--publish']);
    assert.equal(unpublished.code, 1, unpublished.stderr);
    assert.match(unpublished.stderr, /publishing the inputs document at http:\/\/127.0.0.1:1\/inputs.json failed/);
    // A batch is given whole: the file and where it is published.
    const alone = await cli(['task', 'submit', '--suri', '//Bob', '--model', MODEL_NAME, '--batch', good, '--fee', '1']);
    assert.equal(alone.code, 2);
    assert.match(alone.stderr, /--batch-uri/);
  });
});
