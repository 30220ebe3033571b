// A validator joins a running chain and leaves it, as docs/running-a-node.md tells an operator:
// a second node (Bob's) generates session keys with `author_rotateKeysWithOwner`, Bob sets them
// with `session.setKeys`, bonds as a candidate, enters the authority set at a session change,
// authors blocks and votes for finality with Alice's node; then he leaves and the set shrinks
// back, finality going on throughout. Sessions are shortened to 10 blocks by root. Transactions
// are awaited in a block, not finalised: what the test checks is read at the best block, and
// finality is checked for itself.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady, xxhashAsHex } from '@polkadot/util-crypto';
import { bootnodeOf, sendAndFinalize, sendInBlock, startDevNode, waitForHeight } from '../lib/node.mjs';

const UNIT = 10n ** 12n;
const SESSION_LENGTH = 10;

describe('validators on a running chain', () => {
  let alice;
  let bob;
  let keyring;
  let accounts;

  before(async () => {
    await cryptoWaitReady();
    keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
    accounts = {
      alice: keyring.addFromUri('//Alice'),
      bob: keyring.addFromUri('//Bob'),
      charlie: keyring.addFromUri('//Charlie'),
    };
    alice = await startDevNode('validators-alice');
    // Bob's node: the same dev chain, a validator with an empty set of session keys of its own.
    bob = await startDevNode('validators-bob', ['--bob', '--bootnodes', await bootnodeOf(alice)]);
  });

  after(async () => {
    if (bob) await bob.stop();
    if (alice) await alice.stop();
  });

  const validators = async () => (await alice.api.query.session.validators()).map((v) => v.toString());

  /** Resolves once `predicate(validators)` holds at a new block; rejects after `blocks` blocks. */
  async function untilValidators(predicate, blocks) {
    const { api } = alice;
    const start = (await api.rpc.chain.getHeader()).number.toNumber();
    for (;;) {
      const now = (await api.rpc.chain.getHeader()).number.toNumber();
      if (predicate(await validators())) return now;
      if (now > start + blocks) throw new Error(`validators ${await validators()} at block ${now}`);
      await waitForHeight(api, now + 1, { timeoutMs: 30_000 });
    }
  }

  /** The author of each block in `from..=to`, from its Aura slot and the session's validators. */
  async function authors(from, to) {
    const found = [];
    for (let n = from; n <= to; n++) {
      const hash = await alice.api.rpc.chain.getBlockHash(n);
      const header = await alice.api.derive.chain.getHeader(hash);
      found.push(header.author?.toString());
    }
    return found;
  }

  test('root shortens sessions to 10 blocks', async () => {
    const { api } = alice;
    const key = xxhashAsHex(':SessionLength:', 128);
    const value = api.createType('u32', SESSION_LENGTH).toHex(true);
    const result = await sendAndFinalize(api, api.tx.sudo.sudo(api.tx.system.setStorage([[key, value]])), accounts.alice);
    assert.equal(result.dispatchError, null);
    assert.equal(await api._rpcCore.provider.send('state_getStorage', [key]), value);
    assert.deepEqual(await validators(), [accounts.alice.address]);
    // That sessions now last 10 blocks shows below: Bob joins within three of them.
  });

  test('a candidate without session keys, or with keys it cannot prove, is refused', async () => {
    const { api } = alice;
    const refused = await sendInBlock(api, api.tx.collatorSelection.registerAsCandidate(), accounts.charlie);
    assert.equal(refused.dispatchError, 'collatorSelection.ValidatorNotRegistered');
    // Keys generated for Bob prove nothing for Charlie.
    const owner = api.createType('AccountId', accounts.bob.address).toHex();
    const generated = await bob.api._rpcCore.provider.send('author_rotateKeysWithOwner', [owner]);
    const stolen = await sendInBlock(api, api.tx.session.setKeys(generated.keys, generated.proof), accounts.charlie);
    assert.equal(stolen.dispatchError, 'session.InvalidProof');
    assert.ok((await api.query.session.nextKeys(accounts.charlie.address)).isNone);
  });

  test('Bob sets keys generated on his node, bonds, and joins the authorities', async () => {
    const { api } = alice;
    const owner = api.createType('AccountId', accounts.bob.address).toHex();
    const { keys, proof } = await bob.api._rpcCore.provider.send('author_rotateKeysWithOwner', [owner]);
    const set = await sendInBlock(api, api.tx.session.setKeys(keys, proof), accounts.bob);
    assert.equal(set.dispatchError, null);
    assert.equal((await api.query.session.nextKeys(accounts.bob.address)).unwrap().toHex(), keys);

    const before = (await api.query.system.account(accounts.bob.address)).data;
    const registered = await sendInBlock(api, api.tx.collatorSelection.registerAsCandidate(), accounts.bob);
    assert.equal(registered.dispatchError, null);
    assert.ok(registered.events.some(({ event }) => api.events.collatorSelection.CandidateAdded.is(event)));
    const bond = (await api.query.collatorSelection.candidacyBond()).toBigInt();
    assert.equal(bond, 10_000n * UNIT);
    const afterwards = (await api.query.system.account(accounts.bob.address)).data;
    assert.equal(afterwards.reserved.toBigInt() - before.reserved.toBigInt(), bond);

    // In the set within two sessions; Bob's node then authors blocks in his slots.
    const joined = await untilValidators((v) => v.includes(accounts.bob.address), 3 * SESSION_LENGTH);
    await waitForHeight(api, joined + 6, { timeoutMs: 60_000 });
    const seen = await authors(joined + 1, joined + 6);
    assert.ok(seen.includes(accounts.bob.address), `authors ${seen}`);
    assert.ok(seen.includes(accounts.alice.address), `authors ${seen}`);
    // Both nodes vote: blocks Bob authored are finalised by the two-validator GRANDPA set.
    await waitForHeight(api, joined + 6, { finalized: true, timeoutMs: 60_000 });
    const setId = (await api.query.grandpa.currentSetId()).toNumber();
    assert.ok(setId >= 1, `GRANDPA set ${setId}`);
    const voters = (await api.call.grandpaApi.grandpaAuthorities()).map(([key]) => key.toHex());
    const grandpa = (await api.query.session.nextKeys(accounts.bob.address)).unwrap().grandpa.toHex();
    assert.ok(voters.includes(grandpa), `GRANDPA voters ${voters}`);
    assert.equal(voters.length, 2);
  });

  test('Bob leaves: his bond is returned and the set shrinks back, finality going on', async () => {
    const { api } = alice;
    const before = (await api.query.system.account(accounts.bob.address)).data;
    const left = await sendInBlock(api, api.tx.collatorSelection.leaveIntent(), accounts.bob);
    assert.equal(left.dispatchError, null);
    const afterwards = (await api.query.system.account(accounts.bob.address)).data;
    assert.equal(before.reserved.toBigInt() - afterwards.reserved.toBigInt(), 10_000n * UNIT);
    // Leaving again is refused: Alice alone is the fewest validators the chain keeps.
    const again = await sendInBlock(api, api.tx.collatorSelection.leaveIntent(), accounts.bob);
    assert.equal(again.dispatchError, 'collatorSelection.TooFewEligibleCollators');

    const shrunk = await untilValidators((v) => v.length === 1 && v[0] === accounts.alice.address, 3 * SESSION_LENGTH);
    await waitForHeight(api, shrunk + 4, { finalized: true, timeoutMs: 60_000 });
    const seen = await authors(shrunk + 1, shrunk + 4);
    assert.deepEqual([...new Set(seen)], [accounts.alice.address]);
  });
});
