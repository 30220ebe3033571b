// Data rewards end to end on a real agent dev node: Bob registers a dataset, the model's executor
// (Alice) declares that the model uses it, Charlie's task for the model is executed by Alice's
// off-chain worker and finalised; once the epoch closes, Bob claims exactly the share of the
// protocol cut the task paid — no more.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Keyring } from '@polkadot/keyring';
import { blake2AsHex, cryptoWaitReady } from '@polkadot/util-crypto';
import {
  sendAndFinalize,
  sendInBlock,
  startDevNode,
  startInferenceServer,
  waitForEvent,
} from '../lib/node.mjs';

const UNIT = 10n ** 12n;
const MODEL_NAME = 'ngram-en';
const MODEL = blake2AsHex(MODEL_NAME, 256);
const FEE = UNIT;

describe('data rewards: a dataset earns a claimable reward from tasks of a model that uses it', () => {
  let server;
  let node;
  let api;
  let alice;
  let bob;
  let charlie;
  let dataset;
  const contentHash = blake2AsHex('the corpus the n-gram model was built from', 256);

  before(async () => {
    await cryptoWaitReady();
    const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
    alice = keyring.addFromUri('//Alice');
    bob = keyring.addFromUri('//Bob');
    charlie = keyring.addFromUri('//Charlie');
    server = await startInferenceServer('data-rewards-endpoint', ['--model', MODEL_NAME]);
    node = await startDevNode('data-rewards', [
      '--inference-endpoint', server.baseUrl,
      '--inference-model', MODEL_NAME,
    ]);
    api = node.api;
    const operator = keyring.addFromUri('//Alice//operator');
    // The setup's calls are waited for in a block, not finalised: the dev chain has one block
    // author, so an imported block stays.
    const ok = async (tx, signer) => {
      const result = await sendInBlock(api, tx, signer);
      assert.equal(result.dispatchError, null);
      return result;
    };
    await ok(api.tx.agents.register('alice-agent', server.baseUrl, '1', [MODEL], ['Executor'], 500n * UNIT), alice);
    await ok(api.tx.agents.setOperator(operator.address), alice);
    await ok(api.tx.agents.acceptOperator(alice.address), operator);
    const registered = await ok(
      api.tx.dataRewards.registerDataset(contentHash, 'https://data.example/corpus.txt', 'CC-BY-4.0', 4096, 'English prose'),
      bob,
    );
    const event = registered.events.find(({ event: e }) => api.events.dataRewards.DatasetRegistered.is(e));
    dataset = event.event.data.dataset.toNumber();
    await ok(api.tx.dataRewards.declareModel(MODEL, [dataset]), alice);
  });

  after(async () => {
    if (node) await node.stop();
    if (server) await server.stop();
  });

  test('the same data cannot be registered twice', async () => {
    const again = await sendAndFinalize(
      api,
      api.tx.dataRewards.registerDataset(contentHash, 'https://elsewhere', 'MIT', 1, ''),
      charlie,
    );
    assert.equal(again.dispatchError, 'dataRewards.DatasetExists');
  });

  test('a finalised task credits the dataset, and its owner claims the credit after the epoch', async () => {
    const id = (await api.query.inference.nextTaskId()).toNumber();
    const finalised = waitForEvent(
      api,
      (e) => api.events.inference.TaskFinalised.is(e) && e.data.task.toNumber() === id,
      { what: `finalisation of task ${id}`, timeoutMs: 240_000 },
    );
    const submitted = await sendAndFinalize(
      api,
      api.tx.inference.submitTask(
        MODEL,
        { Inline: 'Data makes models' },
        { maxTokens: 8, temperatureMilli: 0, seed: 1, mode: 'ExactMatch' },
        FEE,
        1,
        10,
      ),
      charlie,
    );
    assert.equal(submitted.dispatchError, null);
    const final = await finalised;
    const cut = final.event.data.protocolCut.toBigInt();
    assert.ok(cut > 0n);
    const events = await (await api.at(final.blockHash)).query.system.events();
    const credited = events.find(({ event: e }) => api.events.dataRewards.UsageCredited.is(e));
    assert.ok(credited, 'UsageCredited in the finalisation block');
    const share = (cut * 50n) / 100n;
    assert.equal(credited.event.data.amount.toBigInt(), share);
    assert.equal(credited.event.data.datasets.toNumber(), 1);

    // While the epoch is open there is nothing to claim yet, and the refusal costs nothing held.
    const early = await sendAndFinalize(api, api.tx.dataRewards.claim(dataset), bob);
    if (early.dispatchError !== null) {
      assert.equal(early.dispatchError, 'dataRewards.EpochNotOver');
      await waitForEvent(api, (e) => api.events.dataRewards.EpochClosed.is(e), {
        what: 'the close of the epoch',
        timeoutMs: 120_000,
      });
      const claimed = await sendAndFinalize(api, api.tx.dataRewards.claim(dataset), bob);
      assert.equal(claimed.dispatchError, null);
      const paid = claimed.events.find(({ event: e }) => api.events.dataRewards.RewardsClaimed.is(e));
      assert.equal(paid.event.data.owner.toString(), bob.address);
      assert.equal(paid.event.data.amount.toBigInt(), share, 'the reward is exactly what the usage paid in');
    } else {
      // The epoch had closed between finalisation and the claim: the claim paid out already.
      const paid = early.events.find(({ event: e }) => api.events.dataRewards.RewardsClaimed.is(e));
      assert.equal(paid.event.data.amount.toBigInt(), share);
    }
    console.log(`# task ${id}: protocol cut ${cut}, dataset ${dataset} earned ${share}`);

    const twice = await sendAndFinalize(api, api.tx.dataRewards.claim(dataset), bob);
    assert.ok(
      ['dataRewards.NothingToClaim', 'dataRewards.EpochNotOver'].includes(twice.dispatchError),
      `a second claim is refused (${twice.dispatchError})`,
    );
    const notOwner = await sendAndFinalize(api, api.tx.dataRewards.claim(dataset), charlie);
    assert.equal(notOwner.dispatchError, 'dataRewards.NotOwner');
  });
});
