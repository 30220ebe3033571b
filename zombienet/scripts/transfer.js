// Alice sends a transfer through one node; once it is finalized, every other node named in the
// arguments must report the same balance for the recipient at that block. Returns 1 on success.
async function run(nodeName, networkInfo, args) {
  const { wsUri, userDefinedTypes } = networkInfo.nodesByName[nodeName];
  const api = await zombie.connect(wsUri, userDefinedTypes);
  await zombie.util.cryptoWaitReady();
  const keyring = new zombie.Keyring({ type: 'sr25519' });
  const alice = keyring.addFromUri('//Alice');
  const recipient = keyring.addFromUri(`//zombienet-transfer-${Date.now()}`);
  const amount = 7n * 10n ** 12n;

  const finalizedIn = await new Promise((resolve, reject) => {
    api.tx.balances
      .transferKeepAlive(recipient.address, amount)
      .signAndSend(alice, ({ status, dispatchError }) => {
        if (dispatchError) reject(new Error(`transfer failed: ${dispatchError.toString()}`));
        if (status.isFinalized) resolve(status.asFinalized.toHex());
        if (status.isDropped || status.isInvalid) reject(new Error(`transfer ${status.type}`));
      })
      .catch(reject);
  });
  console.log(`transfer finalized in ${finalizedIn}`);

  // zombienet splits the arguments at commas: every argument is a node.
  const others = args.flatMap((arg) => arg.split(',')).filter(Boolean);
  for (const other of others) {
    const node = networkInfo.nodesByName[other];
    const otherApi = await zombie.connect(node.wsUri, node.userDefinedTypes);
    // The other node may import the finalized block a moment later.
    let free = 0n;
    for (let attempt = 0; attempt < 20 && free !== amount; attempt++) {
      try {
        const at = await otherApi.at(finalizedIn);
        free = (await at.query.system.account(recipient.address)).data.free.toBigInt();
      } catch (_) {
        // block not imported yet
      }
      if (free !== amount) await new Promise((r) => setTimeout(r, 1000));
    }
    await otherApi.disconnect();
    if (free !== amount) {
      console.log(`${other} reports ${free} for the recipient, expected ${amount}`);
      await api.disconnect();
      return 0;
    }
    console.log(`${other} sees the transfer`);
  }
  await api.disconnect();
  return 1;
}

module.exports = { run };
