// Helpers shared by the testnet's js-scripts (run by zombienet, which provides `zombie`).
const UNIT = 10n ** 12n;
const MODEL_NAME = 'ngram-en';
/** The agents of the testnet: owner seed, operator seed, agent node. */
const AGENTS = [
  ['//Eve', '//Eve//operator', 'agent1'],
  ['//Ferdie', '//Ferdie//operator', 'agent2'],
  ['//Charlie', '//Charlie//operator', 'agent3'],
];

/** Signs and sends `tx`; resolves with the hash of the finalized block that includes it. */
function finalize(api, tx, signer) {
  return new Promise((resolve, reject) => {
    tx.signAndSend(signer, ({ status, dispatchError }) => {
      if (status.isFinalized) {
        if (dispatchError) {
          const error = dispatchError.isModule
            ? (({ section, name }) => `${section}.${name}`)(api.registry.findMetaError(dispatchError.asModule))
            : dispatchError.toString();
          reject(new Error(`${tx.method.section}.${tx.method.method} failed: ${error}`));
        } else {
          resolve(status.asFinalized.toHex());
        }
      }
      if (status.isDropped || status.isInvalid || status.isUsurped) reject(new Error(`transaction ${status.type}`));
    }).catch(reject);
  });
}

/** Resolves with the first finalized block number for which `check(api, hash)` is true. */
function untilFinalized(api, check, timeoutMs = 300_000) {
  return new Promise((resolve, reject) => {
    let unsubscribe;
    let done = false;
    const timer = setTimeout(() => {
      done = true;
      if (unsubscribe) unsubscribe();
      reject(new Error(`condition not met within ${timeoutMs} ms`));
    }, timeoutMs);
    api.rpc.chain
      .subscribeFinalizedHeads(async (header) => {
        if (done) return;
        try {
          if (await check(header.hash)) {
            done = true;
            clearTimeout(timer);
            if (unsubscribe) unsubscribe();
            resolve(header.number.toNumber());
          }
        } catch (error) {
          done = true;
          clearTimeout(timer);
          reject(error);
        }
      })
      .then((u) => {
        unsubscribe = u;
        if (done) u();
      });
  });
}

/**
 * The inference calls (`commit`, `reveal`) for `task` signed by each account, over the blocks
 * `from..=to`: { [address]: { commit: n, reveal: n } }, counting failed ones too.
 */
async function submissionsFor(api, task, from, to) {
  const counts = {};
  for (let n = from; n <= to; n++) {
    const hash = await api.rpc.chain.getBlockHash(n);
    const block = await api.rpc.chain.getBlock(hash);
    for (const xt of block.block.extrinsics) {
      if (!xt.isSigned || xt.method.section !== 'inference') continue;
      const { method } = xt.method;
      if ((method === 'commit' || method === 'reveal') && xt.method.args[0].toNumber() === task) {
        const who = xt.signer.toString();
        counts[who] = counts[who] || { commit: 0, reveal: 0 };
        counts[who][method] += 1;
      }
    }
  }
  return counts;
}

module.exports = { UNIT, MODEL_NAME, AGENTS, finalize, untilFinalized, submissionsFor };
