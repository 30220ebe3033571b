// The owner calls of the agent registry and of the dataset registry on a real dev node, from
// polkadot.js: each call's effect on chain (storage, events, holds where money moves) and the
// inputs each refuses, leaving state as it was.
//
// Agents: bond extra stake, update metadata, replace models and roles, pause and resume, rejoin a
// full candidate set, deregister. Data rewards: update, retire and remove datasets, attest their
// quality as a curator, unlink a retired dataset from a model record, remove a model record.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Keyring } from '@polkadot/keyring';
import { blake2AsHex, cryptoWaitReady } from '@polkadot/util-crypto';
import { blockNumberOf, sendInBlock, startDevNode, waitForHeight } from '../lib/node.mjs';

const UNIT = 10n ** 12n;
/** The runtime prices an agent record's deposit at 1 AGC plus 0.01 AGC per byte. */
const DEPOSIT_PER_BYTE = 10n ** 10n;
const model = (byte) => '0x' + byte.repeat(32);
const MODEL_A = model('a1');
const MODEL_B = model('b1');
const MODEL_C = model('c1');
/** The model whose executor candidate set gets full. */
const MODEL_FULL = model('f1');
/** The model whose record names Dave's datasets. */
const MODEL_DATA = model('d1');
const UNKNOWN_MODEL = model('ee');
const UNKNOWN_DATASET = 999_999;

describe('agent and dataset registries: every owner call, its effect, and what it refuses', () => {
  let node;
  let api;
  let alice;
  let bob;
  let charlie;
  let dave;
  let eve;
  let ferdie;
  let paused;
  let newcomer;
  let fillers;
  let epochLength;
  /** Dave's datasets: one updated, attested and retired; one linked to a model record; one kept. */
  const datasets = {};
  const contentHashes = {
    attested: blake2AsHex('a corpus of English prose', 256),
    linked: blake2AsHex('a corpus of French prose', 256),
    kept: blake2AsHex('a corpus of German prose', 256),
    curators: blake2AsHex("the curator's own corpus", 256),
  };
  /** The epoch in which Charlie attested the `attested` dataset, and the block closing it. */
  let attestation;

  /**
   * Sends every [tx, signer] pair at once and resolves with their results in order. Pairs of one
   * signer get consecutive nonces, so they are applied in the order given.
   */
  const sendAll = async (pairs) => {
    const nonces = new Map();
    const sends = [];
    for (const [tx, signer] of pairs) {
      if (!nonces.has(signer.address)) {
        nonces.set(signer.address, (await api.rpc.system.accountNextIndex(signer.address)).toNumber());
      }
      const nonce = nonces.get(signer.address);
      nonces.set(signer.address, nonce + 1);
      sends.push(sendInBlock(api, tx, signer, { nonce }));
    }
    return Promise.all(sends);
  };
  const send = async (tx, signer) => (await sendAll([[tx, signer]]))[0];
  const ok = (result, what) => assert.equal(result.dispatchError, null, `${what}: ${result.dispatchError}`);
  const eventOf = (result, kind) => result.events.find(({ event }) => kind.is(event))?.event;
  const eventsOf = (result, kind) =>
    result.events.filter(({ event }) => kind.is(event)).map(({ event }) => event);
  /** The amounts held from `who`, by hold reason (AgentStake, AgentDeposit, DatasetDeposit, ...). */
  const holdsOf = async (who, at = api) => {
    const holds = await at.query.balances.holds(who);
    return Object.fromEntries(holds.map((h) => [h.id.value.type, h.amount.toBigInt()]));
  };
  const freeOf = async (who, at = api) => (await at.query.system.account(who)).data.free.toBigInt();
  const feeOf = (result) =>
    eventOf(result, api.events.transactionPayment.TransactionFeePaid).data.actualFee.toBigInt();
  const agentOf = async (who, at = api) => (await at.query.agents.agents(who)).unwrap();
  const candidatesOf = async (role, modelId, at = api) =>
    (await at.query.agents.candidates(role, modelId)).map((seat) => seat.agent.toString());
  /** The executors of a model that can be selected now, as the `AgentsApi` runtime API answers. */
  const selectable = async (modelId) =>
    (await api.call.agentsApi.agentsServing(modelId, 'Executor')).map((view) => view.owner.toString());
  /** The current reward epoch and the block at which it closes. */
  const epochClock = async (at = api) => {
    const clock = await at.query.dataRewards.currentEpoch();
    return { index: clock.index.toNumber(), closesAt: clock.start.toNumber() + epochLength };
  };
  const bestNumber = async () => (await api.rpc.chain.getHeader()).number.toNumber();

  before(async () => {
    await cryptoWaitReady();
    const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
    [alice, bob, charlie, dave, eve, ferdie] = ['Alice', 'Bob', 'Charlie', 'Dave', 'Eve', 'Ferdie'].map(
      (name) => keyring.addFromUri(`//${name}`),
    );
    paused = keyring.addFromUri('//Alice//registry/paused');
    newcomer = keyring.addFromUri('//Alice//registry/newcomer');
    node = await startDevNode('registry-calls');
    api = node.api;
    epochLength = api.consts.dataRewards.epochLength.toNumber();
    // One seat of the full candidate set is the paused agent's; the others are fillers'.
    const seats = api.consts.agents.maxCandidates.toNumber();
    fillers = Array.from({ length: seats - 1 }, (_, i) => keyring.addFromUri(`//Alice//registry/seat${i}`));

    const { register } = api.tx.agents;
    const { registerDataset } = api.tx.dataRewards;
    const setup = await sendAll([
      [register('bob-agent', 'http://bob.example/v1', '1.0', [MODEL_A], ['Executor'], 100n * UNIT), bob],
      [register('charlie-curator', '', '1.0', [], ['Curator'], 50n * UNIT), charlie],
      [registerDataset(contentHashes.curators, 'https://charlie.example/own', 'MIT', 10, ''), charlie],
      [register('eve-agent', '', '1.0', [MODEL_DATA], ['Executor'], 100n * UNIT), eve],
      ...['attested', 'linked', 'kept'].map((name) => [
        registerDataset(contentHashes[name], `https://data.example/${name}`, 'CC-BY-4.0', 4096, name),
        dave,
      ]),
      ...[paused, newcomer, ...fillers].map((who) => [
        api.tx.balances.transferKeepAlive(who.address, 200n * UNIT),
        alice,
      ]),
    ]);
    setup.forEach((result, i) => ok(result, `setup transaction ${i}`));
    for (const result of setup) {
      const event = eventOf(result, api.events.dataRewards.DatasetRegistered);
      if (!event) continue;
      const hash = event.data.contentHash.toHex();
      const name = Object.keys(contentHashes).find((key) => contentHashes[key] === hash);
      datasets[name] = event.data.dataset.toNumber();
    }
    const declared = await send(
      api.tx.dataRewards.declareModel(MODEL_DATA, [datasets.linked, datasets.kept]),
      eve,
    );
    ok(declared, 'declareModel');
  });

  after(async () => {
    if (node) await node.stop();
  });

  test('updateDataset replaces the URI, license and description, never the content hash or size', async () => {
    const id = datasets.attested;
    const metadataBefore = (await api.query.dataRewards.metadata(id)).toHex();
    const maxUri = api.consts.dataRewards.maxUriLen.toNumber();
    const refused = await sendAll([
      [api.tx.dataRewards.updateDataset(id, 'https://ferdie.example', 'MIT', 'mine now'), ferdie],
      [api.tx.dataRewards.updateDataset(id, 'https://' + 'a'.repeat(maxUri), 'MIT', ''), dave],
      [api.tx.dataRewards.updateDataset(UNKNOWN_DATASET, 'https://x', 'MIT', ''), dave],
    ]);
    assert.deepEqual(refused.map((r) => r.dispatchError), [
      'dataRewards.NotOwner',
      'dataRewards.UriTooLong',
      'dataRewards.UnknownDataset',
    ]);
    assert.equal((await api.query.dataRewards.metadata(id)).toHex(), metadataBefore);

    const holdsBefore = await holdsOf(dave.address);
    const result = await send(
      api.tx.dataRewards.updateDataset(
        id,
        'ipfs://english-prose-v2',
        'CC-BY-SA-4.0',
        'English prose, deduplicated',
      ),
      dave,
    );
    ok(result, 'updateDataset');
    assert.equal(eventOf(result, api.events.dataRewards.DatasetUpdated).data.dataset.toNumber(), id);
    const at = await api.at(result.blockHash);
    const metadata = (await at.query.dataRewards.metadata(id)).unwrap();
    assert.equal(metadata.uri.toUtf8(), 'ipfs://english-prose-v2');
    assert.equal(metadata.license.toUtf8(), 'CC-BY-SA-4.0');
    assert.equal(metadata.description.toUtf8(), 'English prose, deduplicated');
    const info = (await at.query.dataRewards.datasets(id)).unwrap();
    assert.equal(info.contentHash.toHex(), contentHashes.attested);
    // polkadot.js names the `size` field `size_`: `size` is a reserved word of its structs.
    assert.equal(info.size_.toNumber(), 4096);
    assert.deepEqual(await holdsOf(dave.address, at), holdsBefore, 'the deposit does not change');
  });

  test('attest records a curator score for the epoch and reserves part of its stake', async () => {
    // The dataset must stay in the attestation's epoch through the next test: if the epoch is
    // about to close, attest in the next one.
    const { closesAt } = await epochClock();
    if (closesAt - (await bestNumber()) < 12) await waitForHeight(api, closesAt);

    const id = datasets.attested;
    const curatorBefore = (await api.query.agents.agents(charlie.address)).toHex();
    const refused = await sendAll([
      [api.tx.dataRewards.attest(id, 70), ferdie],
      [api.tx.dataRewards.attest(id, 101), charlie],
      [api.tx.dataRewards.attest(datasets.curators, 70), charlie],
      [api.tx.dataRewards.attest(UNKNOWN_DATASET, 70), charlie],
    ]);
    assert.deepEqual(refused.map((r) => r.dispatchError), [
      'dataRewards.NotCurator',
      'dataRewards.InvalidScore',
      'dataRewards.OwnDataset',
      'dataRewards.UnknownDataset',
    ]);
    assert.equal((await api.query.agents.agents(charlie.address)).toHex(), curatorBefore, 'no stake reserved');
    assert.equal((await api.query.dataRewards.datasets(id)).unwrap().ledger.scores.curators.toNumber(), 0);

    const holdsBefore = await holdsOf(charlie.address);
    const result = await send(api.tx.dataRewards.attest(id, 80), charlie);
    ok(result, 'attest');
    const event = eventOf(result, api.events.dataRewards.DatasetAttested);
    const epoch = event.data.epoch.toNumber();
    assert.equal(event.data.dataset.toNumber(), id);
    assert.equal(event.data.curator.toString(), charlie.address);
    assert.equal(event.data.score.toNumber(), 80);
    assert.equal(event.data.stake.toBigInt(), 50n * UNIT, 'the score weighs with the bonded stake');

    const at = await api.at(result.blockHash);
    const penalty = api.consts.dataRewards.curationPenalty.toBigInt();
    const stored = (await at.query.dataRewards.attestations(epoch, [id, charlie.address])).unwrap();
    assert.equal(stored.score.toNumber(), 80);
    assert.equal(stored.collateral.toBigInt(), penalty);
    const curator = await agentOf(charlie.address, at);
    assert.equal(curator.openWork.toNumber(), 1);
    assert.equal(curator.collateral.toBigInt(), penalty, 'the penalty is reserved out of the stake');
    assert.equal(curator.stake.toBigInt(), 50n * UNIT);
    assert.deepEqual(await holdsOf(charlie.address, at), holdsBefore, 'nothing more is held');
    const ledger = (await at.query.dataRewards.datasets(id)).unwrap().ledger;
    assert.equal(ledger.epoch.toNumber(), epoch);
    assert.equal(ledger.scores.curators.toNumber(), 1);
    attestation = { epoch, closesAt: (await epochClock(at)).closesAt };

    // Once an epoch per dataset; and a curator with an attestation to be judged cannot leave.
    const again = await sendAll([
      [api.tx.dataRewards.attest(id, 20), charlie],
      [api.tx.agents.deregister(), charlie],
    ]);
    assert.deepEqual(again.map((r) => r.dispatchError), ['dataRewards.AlreadyAttested', 'agents.HasOpenWork']);
    const later = await api.at(again[1].blockHash);
    const unchanged = (await later.query.dataRewards.attestations(epoch, [id, charlie.address])).unwrap();
    assert.equal(unchanged.score.toNumber(), 80);
    assert.equal((await agentOf(charlie.address, later)).status.type, 'Active');
  });

  test('retireDataset stops updates and attestations; a dataset active this epoch is not removed yet', async () => {
    const id = datasets.attested;
    const refused = await sendAll([
      [api.tx.dataRewards.retireDataset(id), ferdie],
      [api.tx.dataRewards.removeDataset(id), dave],
    ]);
    assert.deepEqual(refused.map((r) => r.dispatchError), ['dataRewards.NotOwner', 'dataRewards.NotRetired']);
    assert.equal((await api.query.dataRewards.datasets(id)).unwrap().status.type, 'Active');

    const result = await send(api.tx.dataRewards.retireDataset(id), dave);
    ok(result, 'retireDataset');
    const event = eventOf(result, api.events.dataRewards.DatasetRetired);
    assert.equal(event.data.dataset.toNumber(), id);
    assert.equal(event.data.epoch.toNumber(), attestation.epoch);
    const status = (await (await api.at(result.blockHash)).query.dataRewards.datasets(id)).unwrap().status;
    assert.equal(status.asRetired.since.toNumber(), attestation.epoch);

    const holdsBefore = await holdsOf(dave.address);
    const metadataBefore = (await api.query.dataRewards.metadata(id)).toHex();
    const retiredAgain = await sendAll([
      [api.tx.dataRewards.retireDataset(id), dave],
      [api.tx.dataRewards.updateDataset(id, 'https://data.example/v3', 'MIT', ''), dave],
      [api.tx.dataRewards.removeDataset(id), dave],
      [api.tx.dataRewards.attest(id, 60), charlie],
    ]);
    assert.deepEqual(retiredAgain.map((r) => r.dispatchError), [
      'dataRewards.Retired',
      'dataRewards.Retired',
      // Its reward for the attestation's epoch is only known once that epoch closes.
      'dataRewards.EpochNotOver',
      'dataRewards.Retired',
    ]);
    const at = await api.at(retiredAgain[2].blockHash);
    assert.equal((await epochClock(at)).index, attestation.epoch, 'refused within the epoch of the attestation');
    assert.ok((await at.query.dataRewards.datasets(id)).isSome, 'the dataset stays');
    assert.equal((await at.query.dataRewards.metadata(id)).toHex(), metadataBefore);
    assert.deepEqual(await holdsOf(dave.address, at), holdsBefore, 'its deposit stays held');
  });

  test('anyone unlinks a retired dataset from a model record; its owner then removes it, deposit back', async () => {
    const id = datasets.linked;
    const retired = await sendAll([
      [api.tx.dataRewards.retireDataset(id), dave],
      [api.tx.dataRewards.removeDataset(id), dave],
      [api.tx.dataRewards.unlinkRetired(MODEL_DATA, datasets.kept), ferdie],
      [api.tx.dataRewards.unlinkRetired(MODEL_DATA, datasets.attested), ferdie],
      [api.tx.dataRewards.unlinkRetired(UNKNOWN_MODEL, id), ferdie],
    ]);
    assert.deepEqual(retired.map((r) => r.dispatchError), [
      null,
      // A model record still names it.
      'dataRewards.StillLinked',
      // An active dataset stays in the record.
      'dataRewards.NotRetired',
      'dataRewards.NotLinked',
      'dataRewards.UnknownModel',
    ]);
    const record = (await api.query.dataRewards.models(MODEL_DATA)).unwrap();
    const linked = [datasets.linked, datasets.kept].sort((a, b) => a - b);
    assert.deepEqual(record.datasets.map((d) => d.toNumber()), linked);
    assert.equal((await api.query.dataRewards.datasets(id)).unwrap().models.toNumber(), 1);

    const eveHolds = await holdsOf(eve.address);
    const unlinked = await send(api.tx.dataRewards.unlinkRetired(MODEL_DATA, id), ferdie);
    ok(unlinked, 'unlinkRetired');
    const event = eventOf(unlinked, api.events.dataRewards.DatasetUnlinked);
    assert.equal(event.data.model.toHex(), MODEL_DATA);
    assert.equal(event.data.dataset.toNumber(), id);
    let at = await api.at(unlinked.blockHash);
    const unlinkedRecord = (await at.query.dataRewards.models(MODEL_DATA)).unwrap();
    assert.deepEqual(unlinkedRecord.datasets.map((d) => d.toNumber()), [datasets.kept]);
    assert.equal(unlinkedRecord.owner.toString(), eve.address, 'the record keeps its owner');
    assert.equal((await at.query.dataRewards.datasets(id)).unwrap().models.toNumber(), 0);
    assert.deepEqual(await holdsOf(eve.address, at), eveHolds, "the record's deposit stays held");

    // Retired in this epoch with no activity in it, the dataset is owed nothing more: it goes at once.
    const deposit = api.consts.dataRewards.datasetDeposit.toBigInt();
    const daveHolds = await holdsOf(dave.address);
    const daveFree = await freeOf(dave.address);
    const removed = await send(api.tx.dataRewards.removeDataset(id), dave);
    ok(removed, 'removeDataset');
    assert.equal(eventOf(removed, api.events.dataRewards.RewardSettled), undefined);
    const gone = eventOf(removed, api.events.dataRewards.DatasetRemoved);
    assert.equal(gone.data.dataset.toNumber(), id);
    assert.equal(gone.data.owner.toString(), dave.address);
    assert.equal(gone.data.paid.toBigInt(), 0n);
    assert.equal(gone.data.deposit.toBigInt(), deposit);
    at = await api.at(removed.blockHash);
    assert.ok((await at.query.dataRewards.datasets(id)).isNone);
    assert.ok((await at.query.dataRewards.metadata(id)).isNone);
    assert.ok((await at.query.dataRewards.datasetByHash(contentHashes.linked)).isNone, 'its content hash is free');
    assert.equal((await holdsOf(dave.address, at)).DatasetDeposit, daveHolds.DatasetDeposit - deposit);
    assert.equal(await freeOf(dave.address, at), daveFree + deposit - feeOf(removed));

    const twice = await send(api.tx.dataRewards.removeDataset(id), dave);
    assert.equal(twice.dispatchError, 'dataRewards.UnknownDataset');
  });

  test('removeModel drops a model record and returns its deposit to its owner only', async () => {
    const recordBefore = (await api.query.dataRewards.models(MODEL_DATA)).toHex();
    const refused = await sendAll([
      [api.tx.dataRewards.removeModel(MODEL_DATA), ferdie],
      [api.tx.dataRewards.removeModel(UNKNOWN_MODEL), eve],
    ]);
    assert.deepEqual(refused.map((r) => r.dispatchError), ['dataRewards.NotOwner', 'dataRewards.UnknownModel']);
    assert.equal((await api.query.dataRewards.models(MODEL_DATA)).toHex(), recordBefore);

    const deposit = api.consts.dataRewards.modelDeposit.toBigInt();
    assert.equal((await holdsOf(eve.address)).ModelDeposit, deposit);
    const eveFree = await freeOf(eve.address);
    const result = await send(api.tx.dataRewards.removeModel(MODEL_DATA), eve);
    ok(result, 'removeModel');
    assert.equal(eventOf(result, api.events.dataRewards.ModelRemoved).data.model.toHex(), MODEL_DATA);
    const at = await api.at(result.blockHash);
    assert.ok((await at.query.dataRewards.models(MODEL_DATA)).isNone);
    assert.equal((await holdsOf(eve.address, at)).ModelDeposit ?? 0n, 0n);
    assert.equal(await freeOf(eve.address, at), eveFree + deposit - feeOf(result));
    // The datasets it named are no longer linked to it.
    assert.equal((await at.query.dataRewards.datasets(datasets.kept)).unwrap().models.toNumber(), 0);
  });

  test('bondExtra adds stake, held from the free balance', async () => {
    const agentBefore = (await api.query.agents.agents(bob.address)).toHex();
    const holdsBefore = await holdsOf(bob.address);
    const free = await freeOf(bob.address);
    const refused = await sendAll([
      [api.tx.agents.bondExtra(0), bob],
      [api.tx.agents.bondExtra(free + UNIT), bob],
      [api.tx.agents.bondExtra(UNIT), ferdie],
    ]);
    assert.deepEqual(refused.map((r) => r.dispatchError), [
      'agents.ZeroAmount',
      'agents.InsufficientBalance',
      'agents.NotRegistered',
    ]);
    assert.equal((await api.query.agents.agents(bob.address)).toHex(), agentBefore);
    assert.deepEqual(await holdsOf(bob.address), holdsBefore);
    assert.equal((await holdsOf(ferdie.address)).AgentStake, undefined);

    const freeBefore = await freeOf(bob.address);
    const result = await send(api.tx.agents.bondExtra(25n * UNIT), bob);
    ok(result, 'bondExtra');
    const event = eventOf(result, api.events.agents.StakeBonded);
    assert.equal(event.data.agent.toString(), bob.address);
    assert.equal(event.data.amount.toBigInt(), 25n * UNIT);
    assert.equal(event.data.stake.toBigInt(), 125n * UNIT);
    const at = await api.at(result.blockHash);
    assert.equal((await agentOf(bob.address, at)).stake.toBigInt(), 125n * UNIT);
    assert.equal((await holdsOf(bob.address, at)).AgentStake, 125n * UNIT);
    assert.equal(await freeOf(bob.address, at), freeBefore - 25n * UNIT - feeOf(result));
  });

  test('updateMetadata replaces name, endpoint and version; the deposit follows their size', async () => {
    const maxName = api.consts.agents.maxNameLen.toNumber();
    const agentBefore = (await api.query.agents.agents(bob.address)).toHex();
    const holdsBefore = await holdsOf(bob.address);
    const refused = await sendAll([
      [api.tx.agents.updateMetadata('b'.repeat(maxName + 1), '', ''), bob],
      [api.tx.agents.updateMetadata('ferdie-agent', '', ''), ferdie],
    ]);
    assert.deepEqual(refused.map((r) => r.dispatchError), ['agents.NameTooLong', 'agents.NotRegistered']);
    assert.equal((await api.query.agents.agents(bob.address)).toHex(), agentBefore);
    assert.deepEqual(await holdsOf(bob.address), holdsBefore);

    const [name, endpoint, version] = ['bob-agent-v2', 'https://bob.example/inference/v1', '2.0.0'];
    const result = await send(api.tx.agents.updateMetadata(name, endpoint, version), bob);
    ok(result, 'updateMetadata');
    assert.equal(eventOf(result, api.events.agents.MetadataUpdated).data.agent.toString(), bob.address);
    const at = await api.at(result.blockHash);
    const { metadata } = await agentOf(bob.address, at);
    assert.equal(metadata.name.toUtf8(), name);
    assert.equal(metadata.endpoint.toUtf8(), endpoint);
    assert.equal(metadata.version.toUtf8(), version);
    const bytes = (...fields) => fields.reduce((sum, field) => sum + field.length, 0);
    const grown = bytes(name, endpoint, version) - bytes('bob-agent', 'http://bob.example/v1', '1.0');
    const holds = await holdsOf(bob.address, at);
    assert.equal(holds.AgentDeposit - holdsBefore.AgentDeposit, BigInt(grown) * DEPOSIT_PER_BYTE);
    assert.equal(holds.AgentStake, holdsBefore.AgentStake);
  });

  test('setModels replaces the served models; candidate sets and the deposit follow', async () => {
    const maxModels = api.consts.agents.maxModels.toNumber();
    const tooMany = Array.from({ length: maxModels + 1 }, (_, i) => model((i + 1).toString(16).padStart(2, '0')));
    const agentBefore = (await api.query.agents.agents(bob.address)).toHex();
    const refused = await sendAll([
      [api.tx.agents.setModels([MODEL_B, MODEL_B]), bob],
      [api.tx.agents.setModels(tooMany), bob],
      [api.tx.agents.setModels([MODEL_B]), ferdie],
    ]);
    assert.deepEqual(refused.map((r) => r.dispatchError), [
      'agents.DuplicateModel',
      'agents.TooManyModels',
      'agents.NotRegistered',
    ]);
    assert.equal((await api.query.agents.agents(bob.address)).toHex(), agentBefore);
    assert.deepEqual(await candidatesOf('Executor', MODEL_A), [bob.address]);
    assert.deepEqual(await candidatesOf('Executor', MODEL_B), []);

    const holdsBefore = await holdsOf(bob.address);
    const result = await send(api.tx.agents.setModels([MODEL_C, MODEL_B]), bob);
    ok(result, 'setModels');
    const event = eventOf(result, api.events.agents.ModelsSet);
    assert.equal(event.data.agent.toString(), bob.address);
    assert.equal(event.data.models.toNumber(), 2);
    const at = await api.at(result.blockHash);
    assert.deepEqual((await agentOf(bob.address, at)).models.map((m) => m.toHex()), [MODEL_B, MODEL_C]);
    assert.deepEqual(await candidatesOf('Executor', MODEL_A, at), []);
    assert.deepEqual(await candidatesOf('Executor', MODEL_B, at), [bob.address]);
    assert.deepEqual(await candidatesOf('Executor', MODEL_C, at), [bob.address]);
    // One model more: 32 bytes more of record.
    const holds = await holdsOf(bob.address, at);
    assert.equal(holds.AgentDeposit - holdsBefore.AgentDeposit, 32n * DEPOSIT_PER_BYTE);
  });

  test('setRoles replaces the roles within the stake of the new ones; candidate sets follow', async () => {
    const agentBefore = (await api.query.agents.agents(bob.address)).toHex();
    const refused = await sendAll([
      [api.tx.agents.setRoles([]), bob],
      [api.tx.agents.setRoles(['Executor', 'Executor']), bob],
      // Charlie's 50 AGC back a curator, not an executor (100 AGC at least).
      [api.tx.agents.setRoles(['Curator', 'Executor']), charlie],
      [api.tx.agents.setRoles(['Executor']), ferdie],
    ]);
    assert.deepEqual(refused.map((r) => r.dispatchError), [
      'agents.NoRoles',
      'agents.DuplicateRole',
      'agents.InsufficientStake',
      'agents.NotRegistered',
    ]);
    assert.equal((await api.query.agents.agents(bob.address)).toHex(), agentBefore);
    assert.deepEqual((await agentOf(charlie.address)).roles.map((r) => r.type), ['Curator']);

    const result = await send(api.tx.agents.setRoles(['Verifier', 'Executor']), bob);
    ok(result, 'setRoles');
    const event = eventOf(result, api.events.agents.RolesSet);
    assert.equal(event.data.agent.toString(), bob.address);
    assert.deepEqual(event.data.roles.map((r) => r.type), ['Executor', 'Verifier']);
    const at = await api.at(result.blockHash);
    assert.deepEqual((await agentOf(bob.address, at)).roles.map((r) => r.type), ['Executor', 'Verifier']);
    for (const modelId of [MODEL_B, MODEL_C]) {
      assert.deepEqual(await candidatesOf('Verifier', modelId, at), [bob.address]);
      assert.deepEqual(await candidatesOf('Executor', modelId, at), [bob.address]);
    }
  });

  test('pause stops selection for new work but keeps the seat; resume restarts it, as a sign of life', async () => {
    const agentBefore = (await api.query.agents.agents(bob.address)).toHex();
    const refused = await sendAll([
      [api.tx.agents.resume(), bob],
      [api.tx.agents.pause(), ferdie],
      [api.tx.agents.resume(), ferdie],
    ]);
    assert.deepEqual(refused.map((r) => r.dispatchError), [
      'agents.NotPaused',
      'agents.NotAgentOrOperator',
      'agents.NotAgentOrOperator',
    ]);
    assert.equal((await api.query.agents.agents(bob.address)).toHex(), agentBefore);
    assert.deepEqual(await selectable(MODEL_B), [bob.address]);

    const pausedResult = await send(api.tx.agents.pause(), bob);
    ok(pausedResult, 'pause');
    assert.equal(eventOf(pausedResult, api.events.agents.AgentPaused).data.agent.toString(), bob.address);
    let at = await api.at(pausedResult.blockHash);
    assert.equal((await agentOf(bob.address, at)).status.type, 'Paused');
    assert.deepEqual(await candidatesOf('Executor', MODEL_B, at), [bob.address], 'the seat is kept');
    assert.deepEqual(await selectable(MODEL_B), [], 'but the agent is not selectable');

    const whilePaused = (await api.query.agents.agents(bob.address)).toHex();
    const again = await sendAll([
      [api.tx.agents.pause(), bob],
      [api.tx.agents.rejoin(), bob],
    ]);
    assert.deepEqual(again.map((r) => r.dispatchError), ['agents.NotActive', 'agents.NotActive']);
    assert.equal((await api.query.agents.agents(bob.address)).toHex(), whilePaused);

    const resumed = await send(api.tx.agents.resume(), bob);
    ok(resumed, 'resume');
    assert.equal(eventOf(resumed, api.events.agents.AgentResumed).data.agent.toString(), bob.address);
    at = await api.at(resumed.blockHash);
    const agent = await agentOf(bob.address, at);
    assert.equal(agent.status.type, 'Active');
    assert.equal(agent.lastSeen.toNumber(), await blockNumberOf(api, resumed.blockHash));
    assert.deepEqual(await selectable(MODEL_B), [bob.address]);
  });

  test('rejoin takes back a seat of a full candidate set lost while paused, once staked above a member', async () => {
    const seats = api.consts.agents.maxCandidates.toNumber();
    const registerFull = () => api.tx.agents.register('seat', '', '1', [MODEL_FULL], ['Executor'], 100n * UNIT);
    const registered = await sendAll([paused, ...fillers].map((who) => [registerFull(), who]));
    registered.forEach((result, i) => ok(result, `registration ${i}`));
    let set = await candidatesOf('Executor', MODEL_FULL);
    assert.equal(set.length, seats, 'the candidate set is full');
    assert.ok(set.includes(paused.address));

    ok(await send(api.tx.agents.pause(), paused), 'pause');
    // A newcomer takes the seat of the member that is not eligible: the paused agent.
    const [joined, notActive] = await sendAll([
      [registerFull(), newcomer],
      [api.tx.agents.rejoin(), paused],
    ]);
    ok(joined, 'the newcomer registers');
    assert.equal(notActive.dispatchError, 'agents.NotActive');
    const evicted = eventOf(joined, api.events.agents.CandidateEvicted);
    assert.equal(evicted.data.agent.toString(), paused.address);
    assert.equal(evicted.data.role.type, 'Executor');
    assert.equal(evicted.data.model.toHex(), MODEL_FULL);
    assert.equal(evicted.data.by.toString(), newcomer.address);
    set = await candidatesOf('Executor', MODEL_FULL, await api.at(joined.blockHash));
    assert.equal(set.length, seats);
    assert.ok(set.includes(newcomer.address) && !set.includes(paused.address));

    // Resumed with no more stake than any member, it finds no seat; rejoin is refused.
    const resumed = await send(api.tx.agents.resume(), paused);
    ok(resumed, 'resume');
    assert.equal(eventOf(resumed, api.events.agents.CandidateEvicted), undefined);
    const full = await candidatesOf('Executor', MODEL_FULL, await api.at(resumed.blockHash));
    assert.ok(!full.includes(paused.address));
    const refused = await send(api.tx.agents.rejoin(), paused);
    assert.equal(refused.dispatchError, 'agents.CandidateSetFull');
    assert.deepEqual(await candidatesOf('Executor', MODEL_FULL, await api.at(refused.blockHash)), full);

    ok(await send(api.tx.agents.bondExtra(UNIT), paused), 'bondExtra');
    const result = await send(api.tx.agents.rejoin(), paused);
    ok(result, 'rejoin');
    const rejoined = eventOf(result, api.events.agents.CandidateSetsJoined);
    assert.equal(rejoined.data.agent.toString(), paused.address);
    assert.equal(rejoined.data.joined.toNumber(), 1);
    const replaced = eventsOf(result, api.events.agents.CandidateEvicted);
    assert.equal(replaced.length, 1);
    assert.equal(replaced[0].data.by.toString(), paused.address);
    const victim = replaced[0].data.agent.toString();
    assert.ok(full.includes(victim), 'a member of the full set gave up its seat');
    const at = await api.at(result.blockHash);
    set = await candidatesOf('Executor', MODEL_FULL, at);
    assert.equal(set.length, seats);
    assert.ok(set.includes(paused.address) && !set.includes(victim));
    const member = await agentOf(victim, at);
    assert.equal(member.stake.toBigInt(), 100n * UNIT, 'the member with the least stake');
    assert.equal(member.status.type, 'Active', 'an evicted agent stays registered');
  });

  test('deregister unbonds all the stake, held until the unbonding period ends, and leaves every set', async () => {
    const holdsBefore = await holdsOf(bob.address);
    const [refused, result] = await sendAll([
      [api.tx.agents.deregister(), ferdie],
      [api.tx.agents.deregister(), bob],
    ]);
    assert.equal(refused.dispatchError, 'agents.NotRegistered');
    ok(result, 'deregister');
    const block = await blockNumberOf(api, result.blockHash);
    const unlockAt = block + api.consts.agents.unbondingPeriod.toNumber();
    const event = eventOf(result, api.events.agents.AgentDeregistered);
    assert.equal(event.data.agent.toString(), bob.address);
    assert.equal(event.data.unlockAt.toNumber(), unlockAt);
    assert.equal(eventOf(result, api.events.agents.AgentRemoved), undefined, 'the record stays while stake is held');
    const at = await api.at(result.blockHash);
    const agent = await agentOf(bob.address, at);
    assert.equal(agent.status.type, 'Leaving');
    assert.equal(agent.stake.toBigInt(), 0n);
    assert.deepEqual(
      agent.unbonding.map((c) => [c.value.toBigInt(), c.unlockAt.toNumber()]),
      [[125n * UNIT, unlockAt]],
    );
    assert.deepEqual(await holdsOf(bob.address, at), holdsBefore, 'all of it stays held, and slashable');
    for (const role of ['Executor', 'Verifier']) {
      for (const modelId of [MODEL_B, MODEL_C]) {
        assert.deepEqual(await candidatesOf(role, modelId, at), [], `${role} ${modelId}`);
      }
    }

    const leaving = (await api.query.agents.agents(bob.address)).toHex();
    const whileLeaving = await sendAll([
      [api.tx.agents.deregister(), bob],
      [api.tx.agents.bondExtra(UNIT), bob],
      [api.tx.agents.setModels([MODEL_A]), bob],
      [api.tx.agents.setRoles(['Executor']), bob],
      [api.tx.agents.pause(), bob],
      [api.tx.agents.rejoin(), bob],
    ]);
    assert.deepEqual(whileLeaving.map((r) => r.dispatchError), [
      'agents.Leaving',
      'agents.Leaving',
      'agents.Leaving',
      'agents.Leaving',
      'agents.NotActive',
      'agents.NotActive',
    ]);
    assert.equal((await api.query.agents.agents(bob.address)).toHex(), leaving);
    assert.deepEqual(await holdsOf(bob.address), holdsBefore);
  });

  test('once the epoch closes, the attestation is judged and the attested dataset is removed', async () => {
    await waitForHeight(api, attestation.closesAt);
    const id = datasets.attested;
    assert.ok(
      (await api.query.dataRewards.attestations(attestation.epoch, [id, charlie.address])).isNone,
      'the attestation was judged',
    );
    // Alone, the curator made no median (three are needed): it is not penalised, and its stake
    // is free again.
    const curator = await agentOf(charlie.address);
    assert.equal(curator.openWork.toNumber(), 0);
    assert.equal(curator.collateral.toBigInt(), 0n);
    assert.equal(curator.stake.toBigInt(), 50n * UNIT);

    const deposit = api.consts.dataRewards.datasetDeposit.toBigInt();
    const daveHolds = await holdsOf(dave.address);
    const result = await send(api.tx.dataRewards.removeDataset(id), dave);
    ok(result, 'removeDataset');
    const settled = eventOf(result, api.events.dataRewards.RewardSettled);
    assert.equal(settled.data.dataset.toNumber(), id);
    assert.equal(settled.data.epoch.toNumber(), attestation.epoch);
    assert.equal(settled.data.reward.toBigInt(), 0n, 'a dataset no task used earned nothing');
    const removed = eventOf(result, api.events.dataRewards.DatasetRemoved);
    assert.equal(removed.data.paid.toBigInt(), 0n);
    assert.equal(removed.data.deposit.toBigInt(), deposit);
    const at = await api.at(result.blockHash);
    assert.ok((await at.query.dataRewards.datasets(id)).isNone);
    assert.ok((await at.query.dataRewards.datasetByHash(contentHashes.attested)).isNone);
    assert.equal((await holdsOf(dave.address, at)).DatasetDeposit, daveHolds.DatasetDeposit - deposit);

    // Nothing keeps the curator any more: it leaves, and a leaving agent attests nothing.
    const left = await send(api.tx.agents.deregister(), charlie);
    ok(left, 'deregister');
    const stillHeld = (await holdsOf(charlie.address, await api.at(left.blockHash))).AgentStake;
    assert.equal(stillHeld, 50n * UNIT);
    const refused = await send(api.tx.dataRewards.attest(datasets.kept, 50), charlie);
    assert.equal(refused.dispatchError, 'dataRewards.NotCurator');
    const { index } = await epochClock();
    assert.ok((await api.query.dataRewards.attestations(index, [datasets.kept, charlie.address])).isNone);
  });
});
