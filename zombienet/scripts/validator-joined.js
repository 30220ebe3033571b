// Returns 1 once the account args[0] (a candidate, see join-validators.js) is in the validator
// set, has authored a block (its Aura slot) and its GRANDPA key is in the current voter set.
async function run(nodeName, networkInfo, args) {
  const { wsUri, userDefinedTypes } = networkInfo.nodesByName[nodeName];
  const api = await zombie.connect(wsUri, userDefinedTypes);
  await zombie.util.cryptoWaitReady();
  const keyring = new zombie.Keyring({ type: 'sr25519' });
  const validator = keyring.addFromUri(args[0] || '//Eve//stash');

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
