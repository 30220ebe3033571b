// A forkless runtime upgrade of a running chain, from polkadot.js: a dev chain started on the
// runtime of the previous release (spec 105, e2e/fixtures) upgrades to the node's own runtime
// through `system.authorizeUpgrade` (sudo) and `system.applyAuthorizedUpgrade`; the agent
// registry's storage migration (version 1 → 2) runs in the first block of the new runtime, and
// the stake, the unbonding chunk and the task that were in flight come through it: the task,
// submitted and committed before the upgrade, is finalised after it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiPromise, WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { u8aToHex } from '@polkadot/util';
import { blake2AsHex, cryptoWaitReady } from '@polkadot/util-crypto';
import {
  eventSince,
  nameOperator,
  nodeBinary,
  repoRoot,
  sendInBlock,
  startDevNode,
  startInferenceServer,
  waitForEvent,
  waitForHeight,
} from '../lib/node.mjs';

const UNIT = 10n ** 12n;
const MODEL_NAME = 'ngram-en';
const MODEL = blake2AsHex(MODEL_NAME, 256);
const PREVIOUS_RUNTIME = join(repoRoot, 'e2e', 'fixtures', 'agentchain-runtime-spec105.compact.compressed.wasm');

describe('runtime upgrade of a running chain, with work in flight', () => {
  let server;
  let node;
  let api;
  let alice;
  let charlie;
  let newCode;
  const specFile = join(tmpdir(), `agentchain-e2e-upgrade-spec-${process.pid}.json`);

  before(async () => {
    await cryptoWaitReady();
    const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
    alice = keyring.addFromUri('//Alice');
    charlie = keyring.addFromUri('//Charlie');

    // The dev chain spec, with the previous release's runtime as genesis code: that runtime
    // builds the genesis state, in its own storage layouts.
    const spec = JSON.parse(
      execFileSync(nodeBinary(), ['build-spec', '--chain', 'dev', '--disable-default-bootnode'], {
        maxBuffer: 64 * 1024 * 1024,
        stdio: ['ignore', 'pipe', 'ignore'],
      }),
    );
    newCode = spec.genesis.runtimeGenesis.code;
    spec.genesis.runtimeGenesis.code = u8aToHex(readFileSync(PREVIOUS_RUNTIME));
    writeFileSync(specFile, JSON.stringify(spec));

    server = await startInferenceServer('upgrade-endpoint', ['--model', MODEL_NAME]);
    node = await startDevNode('upgrade', [
      '--chain', specFile,
      '--inference-endpoint', server.baseUrl,
      '--inference-model', MODEL_NAME,
    ]);
    api = node.api;
  });

  after(async () => {
    if (node) await node.stop();
    if (server) await server.stop();
    rmSync(specFile, { force: true });
  });

  test('spec 105 → 132: the registry migrates, stakes and an open task come through', async () => {
    assert.equal(api.runtimeVersion.specVersion.toNumber(), 105, 'the chain starts on spec 105');
    assert.equal((await api.query.agents.palletVersion()).toNumber(), 1);

    // Alice's agent (her node executes tasks), with an unbonding chunk.
    const registered = await sendInBlock(
      api,
      api.tx.agents.register('alice-agent', server.baseUrl, '1', [MODEL], ['Executor'], 500n * UNIT),
      alice,
    );
    assert.equal(registered.dispatchError, null);
    await nameOperator(api, alice, keyringOperator());
    const unbonded = await sendInBlock(api, api.tx.agents.unbond(20n * UNIT), alice);
    assert.equal(unbonded.dispatchError, null);
    const before = (await api.query.agents.agents(alice.address)).unwrap();

    // Only Root authorises an upgrade; on this chain Root is the sudo key (Alice).
    const refused = await sendInBlock(api, api.tx.system.authorizeUpgrade(blake2AsHex(newCode, 256)), charlie);
    assert.equal(refused.dispatchError, 'BadOrigin');
    const authorized = await sendInBlock(
      api,
      api.tx.sudo.sudo(api.tx.system.authorizeUpgrade(blake2AsHex(newCode, 256))),
      alice,
    );
    assert.ok(
      authorized.events.some(({ event }) => api.events.system.UpgradeAuthorized.is(event)),
      'the upgrade is authorised',
    );

    // A task from Charlie, committed by Alice's node before the upgrade.
    const id = (await api.query.inference.nextTaskId()).toNumber();
    const isTaskEvent = (name) => (event) =>
      api.events.inference[name]?.is(event) && event.data.task.toNumber() === id;
    const committed = waitForEvent(api, isTaskEvent('ResultCommitted'), { what: `commitment to task ${id}` });
    const submitted = await sendInBlock(
      api,
      api.tx.inference.submitTask(
        MODEL,
        { Inline: 'The river carries' },
        { maxTokens: 12, temperatureMilli: 0, seed: 7, mode: 'ExactMatch' },
        UNIT,
        1,
        10,
      ),
      charlie,
    );
    assert.equal(submitted.dispatchError, null);
    const committedAt = (await committed).blockNumber;

    // Anyone may then apply the authorised code; it costs them nothing. It is sent without
    // watching it, and everything after the upgrade is read over a new connection: polkadot.js,
    // connected across the upgrade, has decoded the events of blocks near it with the wrong
    // runtime's types (seen as "Unable to decode storage system.events", now and then).
    // `eventSince` reads each block with the metadata of the runtime that wrote it.
    const freeBefore = (await api.query.system.account(charlie.address)).data.free.toBigInt();
    const sentAt = (await api.rpc.chain.getHeader()).number.toNumber();
    await api.rpc.author.submitExtrinsic(await api.tx.system.applyAuthorizedUpgrade(newCode).signAsync(charlie));
    // Only the runtime version is read on the old connection (no events decoded) until the new
    // code is in place.
    const deadline = Date.now() + 60_000;
    while ((await api.rpc.state.getRuntimeVersion()).specVersion.toNumber() !== 132) {
      assert.ok(Date.now() < deadline, 'the code is updated within 60 s');
      await new Promise((r) => setTimeout(r, 500));
    }
    const fresh = await ApiPromise.create({ provider: new WsProvider(node.rpcUrl), noInitWarn: true });
    try {
      const codeUpdated = await eventSince(fresh, sentAt, (event) => event.section === 'system' && event.method === 'CodeUpdated', {
        what: 'the code update',
        timeoutMs: 60_000,
      });
      const applied = { blockHash: codeUpdated.blockHash };
      await afterUpgrade(fresh, { id, applied, freeBefore, committedAt, before });
    } finally {
      await fresh.disconnect();
    }
  });

  async function afterUpgrade(api, { id, applied, freeBefore, committedAt, before }) {
    // The same predicate as before the upgrade, on this connection's types.
    const isTaskEvent = (name) => (event) =>
      event.section === 'inference' && event.method === name && event.data.task.toNumber() === id;
    const freeAfter = (await api.query.system.account(charlie.address)).data.free.toBigInt();
    assert.equal(freeAfter, freeBefore, 'applying an authorised upgrade is free');

    // The next block runs the new runtime and its migration.
    const runtime = await api.rpc.state.getRuntimeVersion();
    assert.equal(runtime.specVersion.toNumber(), 132);
    const upgradedAt = (await api.rpc.chain.getHeader(applied.blockHash)).number.toNumber();
    await waitForHeight(api, upgradedAt + 2, { finalized: true });
    assert.equal((await api.query.agents.palletVersion()).toNumber(), 4);
    const lastUpgrade = (await api.query.system.lastRuntimeUpgrade()).unwrap();
    assert.equal(lastUpgrade.specVersion.toNumber(), 132);

    // The record as the last block of spec 105 left it, against the same record in the first
    // block of spec 132 (after the migration, decoded with the new metadata): everything carried
    // over but the time of the last sign of life, no missed deadline nor batch work counted, the
    // reference batch speed.
    const firstNew = (await api.rpc.chain.getBlockHash(upgradedAt + 1)).toHex();
    // (The block that applied the code already reports the new runtime, not yet migrated: the
    // old layout is read at its parent.)
    const lastOld = (await api.rpc.chain.getHeader(applied.blockHash)).parentHash.toHex();
    const inFlight = (await (await api.at(lastOld)).query.agents.agents(alice.address)).unwrap().toJSON();
    const migrated = (await (await api.at(firstNew)).query.agents.agents(alice.address)).unwrap().toJSON();
    assert.equal(inFlight.openWork, 1, 'the task holds Alice as its executor across the upgrade');
    assert.ok(BigInt(inFlight.collateral) > 0n, 'with collateral reserved');
    assert.equal(migrated.reputation.deadlinesMissed, 0);
    assert.equal(migrated.batchBlocks, 0);
    assert.equal(migrated.batchSpeed, 1);
    delete inFlight.lastSeen;
    delete migrated.lastSeen;
    delete migrated.reputation.deadlinesMissed;
    delete migrated.batchBlocks;
    delete migrated.batchSpeed;
    assert.deepEqual(migrated, inFlight);
    assert.equal(BigInt(migrated.stake), 480n * UNIT);
    // Alice keeps her seat in the model's executor set, weighing her bonded stake.
    const seats = await (await api.at(firstNew)).query.agents.candidates('Executor', MODEL);
    assert.deepEqual(
      seats.map((seat) => [seat.agent.toString(), seat.weight.toBigInt()]),
      [[alice.address, 480n * UNIT]],
    );

    // The task committed under spec 105 is finalised under spec 132.
    const reveal = await eventSince(api, committedAt, isTaskEvent('ResultRevealed'), { what: `reveal of task ${id}` });
    const final = await eventSince(api, committedAt, isTaskEvent('TaskFinalised'), {
      what: `finalisation of task ${id}`,
      timeoutMs: 240_000,
    });
    assert.ok(final.blockNumber > upgradedAt && reveal.blockNumber <= final.blockNumber);
    assert.ok(final.event.data.paid.toBigInt() > 0n, 'Alice was paid');
    // Its storage deposit, held apart under spec 105 (`TaskDeposit`), stays so until its pruning
    // an hour on, which releases it before any of the escrow hold (tested in pallet-inference).
    const { deposit } = (await api.query.inference.tasks(id)).unwrap();
    const apart = (await api.query.balances.holds(charlie.address)).find(
      (h) => h.id.isInference && h.id.asInference.isTaskDeposit,
    );
    assert.ok(deposit.toBigInt() > 0n);
    assert.equal(apart?.amount.toBigInt(), deposit.toBigInt());
    const done = (await api.query.agents.agents(alice.address)).unwrap();
    assert.equal(done.reputation.completed.toNumber(), before.reputation.completed.toNumber() + 1);
    assert.equal(done.openWork.toNumber(), 0);
    assert.equal(done.collateral.toBigInt(), 0n);
    console.log(
      `# upgrade applied in block #${upgradedAt}, migrated in #${upgradedAt + 1}; task ${id} revealed in #${reveal.blockNumber}, ` +
        `finalised in #${final.blockNumber}`,
    );
  }

  function keyringOperator() {
    // `--dev` is Alice's node: it inserts the operator key //Alice//operator by itself.
    return new Keyring({ type: 'sr25519', ss58Format: 42 }).addFromUri('//Alice//operator');
  }
});
