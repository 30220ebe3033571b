// Returns 1 once this node's finalized chain has reached the finalized head that node args[0]
// reports when the script starts, with the same block hash at that height: a node that was
// stopped has caught up, and holds every block (every transaction) finalised meanwhile.
async function run(nodeName, networkInfo, args) {
  const connect = (name) =>
    zombie.connect(networkInfo.nodesByName[name].wsUri, networkInfo.nodesByName[name].userDefinedTypes);
  const reference = await connect(args[0]);
  const targetHash = await reference.rpc.chain.getFinalizedHead();
  const target = (await reference.rpc.chain.getHeader(targetHash)).number.toNumber();
  await reference.disconnect();
  const api = await connect(nodeName);
  for (;;) {
    const height = (await api.rpc.chain.getHeader(await api.rpc.chain.getFinalizedHead())).number.toNumber();
    if (height >= target) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  const ownHash = await api.rpc.chain.getBlockHash(target);
  await api.disconnect();
  if (ownHash.toHex() !== targetHash.toHex()) {
    console.log(`${nodeName} finalized ${ownHash.toHex()} at #${target}, ${args[0]} ${targetHash.toHex()}`);
    return 0;
  }
  console.log(`${nodeName} holds ${args[0]}'s finalized block #${target} (${targetHash.toHex()})`);
  return 1;
}

module.exports = { run };
