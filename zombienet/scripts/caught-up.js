// Returns 1 once this node's finalized head has reached the finalized height that node args[0]
// reports when the script starts: a node that was stopped has caught up with the network.
async function run(nodeName, networkInfo, args) {
  const connect = (name) => zombie.connect(networkInfo.nodesByName[name].wsUri, networkInfo.nodesByName[name].userDefinedTypes);
  const reference = await connect(args[0]);
  const target = (await reference.rpc.chain.getHeader(await reference.rpc.chain.getFinalizedHead())).number.toNumber();
  await reference.disconnect();
  const api = await connect(nodeName);
  for (;;) {
    const height = (await api.rpc.chain.getHeader(await api.rpc.chain.getFinalizedHead())).number.toNumber();
    if (height >= target) {
      console.log(`${nodeName} finalized #${height}, ${args[0]} had finalized #${target}`);
      break;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  await api.disconnect();
  return 1;
}

module.exports = { run };
