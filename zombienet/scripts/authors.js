// Counts the distinct Aura authors of the last blocks: with four validators taking turns, every
// one of them should have authored at least one of the last 12 blocks.
async function run(nodeName, networkInfo) {
  const { wsUri, userDefinedTypes } = networkInfo.nodesByName[nodeName];
  const api = await zombie.connect(wsUri, userDefinedTypes);
  const authorities = (await api.query.aura.authorities()).map((a) => a.toHex());

  const authors = new Set();
  let hash = await api.rpc.chain.getBlockHash();
  for (let i = 0; i < 12; i++) {
    const header = await api.rpc.chain.getHeader(hash);
    if (header.number.toNumber() === 0) break;
    for (const log of header.digest.logs) {
      if (log.isPreRuntime && log.asPreRuntime[0].toString() === 'aura') {
        const slot = api.createType('u64', log.asPreRuntime[1]).toBigInt();
        authors.add(authorities[Number(slot % BigInt(authorities.length))]);
      }
    }
    hash = header.parentHash;
  }
  console.log(`distinct authors in the last 12 blocks: ${authors.size} of ${authorities.length}`);
  await api.disconnect();
  return authors.size;
}

module.exports = { run };
