// The operator CLI's dataset commands (`agentchain data`) against a real dev agent node: register,
// update, declare, attest, claim and retire, their text and JSON output, and their rejected
// inputs — refused before anything is signed (exit status 2, the signer's nonce unchanged) or
// failed on chain with the pallet's error. On a node of its own, beside cli.test.mjs (the other
// commands): the agents it needs, Alice's (executor and curator, with her node's operator key)
// and Dave's curator, are registered from polkadot.js, as the earlier CLI tests left them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyring } from '@polkadot/keyring';
import { blake2AsHex, cryptoWaitReady } from '@polkadot/util-crypto';
import { sendInBlock } from '../lib/node.mjs';
import { startCliNode } from '../lib/cli.mjs';

const UNIT = 10n ** 12n;
const MODEL_NAME = 'ngram-en';
const MODEL = blake2AsHex(MODEL_NAME, 256);
const ALICE = '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY';
const HASH = `0x${'11'.repeat(32)}`; // a well-formed 32-byte hash

describe('agentchain CLI against a dev agent node: datasets', () => {
  let server;
  let node;
  let api;
  let keyring;

  let setup;
  /** Runs the CLI against the node; resolves to { code, stdout, stderr, json } (see e2e/lib/cli.mjs). */
  const cli = (args, options) => setup.cli(args, options);
  /** `cli(args)` must be refused before signing: exit 2, message matching `pattern`, no nonce used. */
  const refusedBeforeSigning = (args, signerAddress, pattern) => setup.refusedBeforeSigning(args, signerAddress, pattern);

  before(async () => {
    await cryptoWaitReady();
    keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
    setup = await startCliNode('cli-data', MODEL_NAME);
    ({ server, node, api } = setup);

    // Alice executes the model on this node, under its operator key, and curates too (her own
    // dataset is then refused as such, not for want of the role); Dave curates.
    const alice = keyring.addFromUri('//Alice');
    const operator = keyring.addFromUri('//Alice//operator');
    const dave = keyring.addFromUri('//Dave');
    const registered = await Promise.all([
      sendInBlock(
        api,
        api.tx.agents.register('alice-agent', server.baseUrl, '1.0', [MODEL], ['Executor', 'Verifier', 'Curator'], 500n * UNIT),
        alice,
      ),
      sendInBlock(api, api.tx.agents.register('dave', '', '', [MODEL], ['Verifier', 'Curator'], 120n * UNIT), dave),
    ]);
    for (const { dispatchError } of registered) assert.equal(dispatchError, null);
    const named = await sendInBlock(api, api.tx.agents.setOperator(operator.address), alice);
    assert.equal(named.dispatchError, null);
    const accepted = await sendInBlock(api, api.tx.agents.acceptOperator(alice.address), operator);
    assert.equal(accepted.dispatchError, null);
  });

  after(async () => {
    await setup?.stop();
  });

  test('data: register, update, declare, attest, claim, retire, and the errors', async () => {
    const file = join(tmpdir(), `agentchain-cli-dataset-${process.pid}.txt`);
    const content = 'the river carries leaves in the autumn\n'.repeat(10);
    writeFileSync(file, content);
    const dave = keyring.addFromUri('//Dave').address;
    await refusedBeforeSigning(
      ['data', 'register', '--suri', '//Alice', '--file', file, '--content-hash', HASH, '--uri', 'u', '--license', 'MIT'],
      ALICE, /cannot be used with/,
    );
    await refusedBeforeSigning(
      ['data', 'register', '--suri', '//Alice', '--content-hash', '0x1234', '--size', '5', '--uri', 'u', '--license', 'MIT'],
      ALICE, /not a 0x-prefixed 32-byte hash/,
    );
    await refusedBeforeSigning(
      ['data', 'register', '--suri', '//Alice', '--file', '/nonexistent/dataset', '--uri', 'u', '--license', 'MIT'],
      ALICE, /cannot read \/nonexistent\/dataset/,
    );

    const registered = await cli([
      'data', 'register', '--suri', '//Alice', '--file', file, '--uri', 'https://data.example/river.txt',
      '--license', 'CC-BY-4.0', '--description', 'river sentences', '--json',
    ]);
    assert.equal(registered.code, 0, registered.stderr);
    const id = registered.json.id;
    assert.equal(registered.json.contentHash, blake2AsHex(content, 256));
    assert.equal(registered.json.size, content.length);
    assert.equal(registered.json.owner, ALICE);
    assert.equal(registered.json.status, 'active');

    const updated = await cli(['data', 'update', '--suri', '//Alice', String(id), '--uri', 'https://data.example/v2', '--license', 'MIT', '--json']);
    assert.equal(updated.code, 0, updated.stderr);
    assert.equal(updated.json.dataset.uri, 'https://data.example/v2');
    assert.equal(updated.json.dataset.license, 'MIT');
    assert.equal(updated.json.dataset.description, 'river sentences', 'a field not given is kept');
    const notOwner = await cli(['data', 'update', '--suri', '//Bob', String(id), '--uri', 'x', '--license', 'x', '--json']);
    assert.equal(notOwner.json.error.name, 'dataRewards.NotOwner');

    const declared = await cli(['data', 'declare', '--suri', '//Alice', '--model', MODEL_NAME, '--dataset', String(id), '--json']);
    assert.equal(declared.code, 0, declared.stderr);
    assert.ok(declared.json.events.some((e) => e.name === 'dataRewards.ModelDeclared'));
    const notExecutor = await cli(['data', 'declare', '--suri', '//Bob', '--model', MODEL_NAME, '--dataset', String(id), '--json']);
    assert.equal(notExecutor.json.error.name, 'dataRewards.NotModelExecutor');

    await refusedBeforeSigning(['data', 'attest', '--suri', '//Dave', String(id), '--score', '101'], dave, /101 is not in 0\.\.=100/);
    const attested = await cli(['data', 'attest', '--suri', '//Dave', String(id), '--score', '80', '--json']);
    assert.equal(attested.code, 0, attested.stderr);
    assert.ok(attested.json.events.some((e) => e.name === 'dataRewards.DatasetAttested'));
    const twice = await cli(['data', 'attest', '--suri', '//Dave', String(id), '--score', '80', '--json']);
    assert.equal(twice.json.error.name, 'dataRewards.AlreadyAttested');
    const ownData = await cli(['data', 'attest', '--suri', '//Alice', String(id), '--score', '100', '--json']);
    assert.equal(ownData.json.error.name, 'dataRewards.OwnDataset');

    const claim = await cli(['data', 'claim', '--suri', '//Alice', String(id), '--json']);
    assert.equal(claim.code, 1);
    assert.ok(['dataRewards.EpochNotOver', 'dataRewards.NothingToClaim'].includes(claim.json.error.name), claim.json.error.name);
    const epoch = await cli(['data', 'epoch', '--json']);
    assert.equal(epoch.code, 0, epoch.stderr);
    assert.equal(epoch.json.index, (await api.call.dataRewardsApi.currentEpoch()).index.toNumber());

    // A task of the model, finalised, credits the dataset; once its epoch closes the owner claims.
    const used = await cli(['task', 'submit', '--suri', '//Bob', '--model', MODEL_NAME, '--input', 'The river carries',
      '--max-tokens', '4', '--fee', '1', '--wait', 'finalised', '--json'], { timeout: 600_000 });
    assert.equal(used.code, 0, used.stderr);
    assert.equal(used.json.status, 'finalised');
    let owed = 0n;
    for (let i = 0; i < 60 && owed === 0n; i += 1) {
      const shown = await cli(['data', 'show', String(id), '--json']);
      owed = BigInt(shown.json.owed ?? 0);
      if (owed === 0n) await new Promise((r) => setTimeout(r, 2_000));
    }
    assert.ok(owed > 0n, 'the closed epoch owes the dataset its share of the protocol cut');
    const aliceBefore = (await api.query.system.account(ALICE)).data.free.toBigInt();
    const claimed = await cli(['data', 'claim', '--suri', '//Alice', String(id), '--json']);
    assert.equal(claimed.code, 0, claimed.stderr);
    assert.equal(claimed.json.result, 'claimed');
    const paid = claimed.json.events.find((e) => e.name === 'dataRewards.RewardsClaimed');
    assert.ok(paid, JSON.stringify(claimed.json.events));
    assert.match(paid.fields, new RegExp(`amount: ${owed}\\b`));
    assert.equal(claimed.json.dataset.owed, '0', 'nothing more is owed');
    const aliceAfter = (await api.query.system.account(ALICE)).data.free.toBigInt();
    const fee = aliceBefore + owed - aliceAfter;
    assert.ok(fee > 0n && fee < UNIT / 100n, `the owner received the reward less the transaction fee (${fee})`);
    const again = await cli(['data', 'claim', '--suri', '//Alice', String(id), '--json']);
    assert.equal(again.code, 1);
    assert.ok(['dataRewards.EpochNotOver', 'dataRewards.NothingToClaim'].includes(again.json.error.name), again.json.error.name);

    const retired = await cli(['data', 'retire', '--suri', '//Alice', String(id), '--json']);
    assert.equal(retired.code, 0, retired.stderr);
    assert.match(retired.json.dataset.status, /^retired since epoch \d+$/);
    const shown = await cli(['data', 'show', String(id)]);
    assert.match(shown.stdout, new RegExp(`dataset ${id} — retired`));
    const missing = await cli(['data', 'show', '999999']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /there is no dataset 999999/);
  });
});
