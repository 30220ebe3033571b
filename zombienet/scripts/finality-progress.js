// Returns 1 once the finalized height seen by this node has grown by args[0] blocks (default 5)
// from when the script started: the chain keeps producing and finalising blocks.
async function run(nodeName, networkInfo, args) {
  const { wsUri, userDefinedTypes } = networkInfo.nodesByName[nodeName];
  const api = await zombie.connect(wsUri, userDefinedTypes);
  const growth = Number(args[0] || 5);
  const start = (await api.rpc.chain.getHeader(await api.rpc.chain.getFinalizedHead())).number.toNumber();
  await new Promise((resolve) => {
    let unsubscribe;
    api.rpc.chain
      .subscribeFinalizedHeads((header) => {
        if (header.number.toNumber() >= start + growth) {
          console.log(`finalized #${start} -> #${header.number.toNumber()}`);
          if (unsubscribe) unsubscribe();
          resolve();
        }
      })
      .then((u) => (unsubscribe = u));
  });
  await api.disconnect();
  return 1;
}

module.exports = { run };
