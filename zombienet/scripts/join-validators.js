// A new validator asks to join the running network, as docs/running-a-node.md tells an operator:
// run on the new node, it shortens sessions to 10 blocks (root, so that the test is quick),
// generates session keys on this node (`author_rotateKeysWithOwner`), sets them from the account
// args[0] (`session.setKeys`) and bonds it as a candidate (`collatorSelection.registerAsCandidate`).
// Returns 1 once both are finalised; `validator-joined.js` then waits for it to validate.
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
  await api.disconnect();
  return 1;
}

module.exports = { run };
