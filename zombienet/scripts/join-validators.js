// A new validator joins the running network, as docs/running-a-node.md tells an operator: run on
// the new node, it shortens sessions to 10 blocks (root, so that the test is quick), generates
// session keys on this node (`author_rotateKeysWithOwner`), sets them from the account args[0]
// (`session.setKeys`), bonds it as a candidate (`collatorSelection.registerAsCandidate`), and
// returns 1 once the account is in the validator set, has authored a block and is a GRANDPA voter.
const { finalize } = require('./lib.js');

const SESSION_LENGTH = 10;

async function run(nodeName, networkInfo, args) {
  const { wsUri, userDefinedTypes } = networkInfo.nodesByName[nodeName];
  const api = await zombie.connect(wsUri, userDefinedTypes);
  await zombie.util.cryptoWaitReady();
  const keyring = new zombie.Keyring({ type: 'sr25519' });
  const sudo = keyring.addFromUri('//Alice');
  const validator = keyring.addFromUri(args[0] || '//Eve//stash');

  const key = zombie.util.xxhashAsHex(':SessionLength:', 128);
  const length = api.createType('u32', SESSION_LENGTH).toHex(true);
  await finalize(api, api.tx.sudo.sudo(api.tx.system.setStorage([[key, length]])), sudo);

  const owner = api.createType('AccountId', validator.address).toHex();
  const { keys, proof } = await api._rpcCore.provider.send('author_rotateKeysWithOwner', [owner]);
  await finalize(api, api.tx.session.setKeys(keys, proof), validator);
  await finalize(api, api.tx.collatorSelection.registerAsCandidate(), validator);
  console.log(`${validator.address} set its keys and is a candidate`);

  // In the set from the session after next, then authoring in its Aura slots.
  const joined = await new Promise((resolve) => {
    let unsubscribe;
    api.rpc.chain
      .subscribeNewHeads(async (header) => {
        const validators = (await api.query.session.validators()).map((v) => v.toString());
        if (validators.includes(validator.address)) {
          if (unsubscribe) unsubscribe();
          resolve(header.number.toNumber());
        }
      })
      .then((u) => (unsubscribe = u));
  });
  console.log(`in the validator set at block #${joined}`);
  for (;;) {
    const head = await api.rpc.chain.getHeader();
    for (let n = joined; n <= head.number.toNumber(); n++) {
      const header = await api.derive.chain.getHeader(await api.rpc.chain.getBlockHash(n));
      if (header.author?.toString() === validator.address) {
        console.log(`authored block #${n}`);
        await untilGrandpaVoter(api, validator.address);
        await api.disconnect();
        return 1;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 3_000));
  }
}

/** Resolves once GRANDPA's current authority set holds the GRANDPA key `who` set. */
async function untilGrandpaVoter(api, who) {
  const grandpa = (await api.query.session.nextKeys(who)).unwrap().grandpa.toHex();
  for (;;) {
    const voters = (await api.call.grandpaApi.grandpaAuthorities()).map(([key]) => key.toHex());
    if (voters.includes(grandpa)) {
      console.log(`a GRANDPA voter: ${voters.length} in the set`);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 3_000));
  }
}

module.exports = { run };
