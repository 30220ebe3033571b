// Registers the testnet's three agents (Eve, Ferdie, Charlie) as executors of the model
// `ngram-en` and sets each one's operator key (the key its agent node holds, which accepts).
// Returns how many
// agents serve the model with their operator key once all is finalized.
const { AGENTS, MODEL_NAME, UNIT, finalize } = require('./lib.js');

async function run(nodeName, networkInfo) {
  const { wsUri, userDefinedTypes } = networkInfo.nodesByName[nodeName];
  const api = await zombie.connect(wsUri, userDefinedTypes);
  await zombie.util.cryptoWaitReady();
  const keyring = new zombie.Keyring({ type: 'sr25519' });
  const model = zombie.util.blake2AsHex(MODEL_NAME, 256);

  await Promise.all(
    AGENTS.map(async ([ownerUri, operatorUri, node]) => {
      const owner = keyring.addFromUri(ownerUri);
      const operator = keyring.addFromUri(operatorUri);
      // One after the other from the same account, so that the nonces follow.
      await finalize(api, api.tx.agents.register(node, `http://${node}/v1`, '1', [model], ['Executor'], 500n * UNIT), owner);
      await finalize(api, api.tx.agents.setOperator(operator.address), owner);
      // An operator key acts for an agent only once it accepts, with its own signature.
      await finalize(api, api.tx.agents.acceptOperator(owner.address), operator);
    }),
  );

  let serving = 0;
  for (const [ownerUri, operatorUri] of AGENTS) {
    const info = await api.query.agents.agents(keyring.addFromUri(ownerUri).address);
    const operator = keyring.addFromUri(operatorUri).address;
    if (info.isSome && info.unwrap().operator.toString() === operator) serving++;
  }
  console.log(`agents serving ${MODEL_NAME} with their operator keys: ${serving}`);
  await api.disconnect();
  return serving;
}

module.exports = { run };
