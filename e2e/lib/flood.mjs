// A flood of ordinary transfers that keeps a node's transaction pool at its limit and its blocks
// full: what an attacker (or honest congestion) does to the chain's protocol transactions.
import { WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';

const UNIT = 10n ** 12n;

/** Pool refusals that mean "full" (or "not now"): the flooder waits and tries the same nonce again. */
const FULL = /Immediately Dropped|limit|1016/i;
/** A transfer the pool dropped earlier is banned for a while: the flooder sends a different one. */
const BANNED = /temporarily banned|1012/i;
/** Refusals that mean a transaction at that nonce is in the pool already: the flooder goes on. */
const PRESENT = /already imported|Priority is too low|1013|1014/i;
/** How long an account's nonce may stand still on chain, with transfers sent, before it fills a gap. */
const STALL_MS = 4_000;

/**
 * Funds `accounts` flooding accounts (//flood//i) from `funder`, then has each send
 * `balances.transferKeepAlive` of one planck back to `funder`, as fast as the pool takes them,
 * keeping at most `inflight` of its own in the pool. The transfers go through `connections`
 * connections of their own to `rpcUrl` (the node `api` is connected to), as a flooder's would.
 * Returns a handle: `stats()` (submitted, refused as full), `stop()`.
 */
export async function startFlood(
  api,
  rpcUrl,
  funder,
  { accounts = 32, inflight = 300, connections = 4, log = () => {} } = {},
) {
  // ed25519 keys: polkadot.js signs with them three times as fast as with sr25519, which a
  // flooder on the node's own two cores needs to outpace the blocks.
  const keyring = new Keyring({ type: 'ed25519', ss58Format: 42 });
  const flooders = Array.from({ length: accounts }, (_, i) => keyring.addFromUri(`//flood//${i}`));
  // Fund them all in one go: explicit nonces, then wait for the last one.
  let nonce = (await api.rpc.system.accountNextIndex(funder.address)).toNumber();
  const funded = [];
  for (const flooder of flooders) {
    funded.push(
      new Promise((resolve, reject) => {
        api.tx.balances
          .transferKeepAlive(flooder.address, 100n * UNIT)
          .signAndSend(funder, { nonce: nonce++ }, ({ status, dispatchError }) => {
            if (dispatchError) reject(new Error(`funding ${flooder.address}: ${dispatchError}`));
            else if (status.isInBlock || status.isFinalized) resolve();
          })
          .catch(reject);
      }),
    );
  }
  await Promise.all(funded);
  log(`# flood: ${accounts} accounts funded`);

  // Immortal transactions signed synchronously: nothing to ask the node for each one.
  const signing = {
    blockHash: api.genesisHash,
    genesisHash: api.genesisHash,
    runtimeVersion: api.runtimeVersion,
    era: 0,
  };
  const providers = await Promise.all(
    Array.from({ length: connections }, async () => {
      const provider = new WsProvider(rpcUrl);
      await provider.isReady;
      return provider;
    }),
  );
  let running = true;
  let submitted = 0;
  let refused = 0;
  const loops = flooders.map(async (flooder, i) => {
    const provider = providers[i % providers.length];
    let next = (await api.rpc.system.accountNextIndex(flooder.address)).toNumber();
    let onChain = next;
    let lastCheck = 0;
    let progressAt = Date.now();
    // Distinguishes a transfer sent again at a nonce from the one a full pool dropped (and
    // banned for a while): one planck more each time.
    let variant = 0n;
    while (running) {
      if (next - onChain >= inflight || Date.now() - lastCheck > 1_000) {
        const nonce = (await api.query.system.account(flooder.address)).nonce.toNumber();
        lastCheck = Date.now();
        if (nonce > onChain) {
          onChain = nonce;
          progressAt = lastCheck;
        } else if (next > onChain && lastCheck - progressAt > STALL_MS) {
          // Nothing of ours landed for over a block: a full pool dropped one of our transfers,
          // and every later one waits on its nonce. Send them again from the gap.
          next = onChain;
          variant += 1n;
          progressAt = lastCheck;
        }
        if (next < onChain) next = onChain;
        if (next - onChain >= inflight) {
          await sleep(100);
          continue;
        }
      }
      const tx = api.tx.balances
        .transferKeepAlive(funder.address, 1n + variant)
        .sign(flooder, { ...signing, nonce: next });
      try {
        await provider.send('author_submitExtrinsic', [tx.toHex()]);
        submitted += 1;
        next += 1;
      } catch (error) {
        const message = String(error?.message ?? error);
        if (PRESENT.test(message)) {
          next += 1;
        } else if (FULL.test(message) || BANNED.test(message)) {
          if (BANNED.test(message)) variant += 1n;
          refused += 1;
          await sleep(50);
        } else if (/stale|outdated|1010/i.test(message)) {
          next = (await api.query.system.account(flooder.address)).nonce.toNumber();
        } else {
          log(`# flood: ${message}`);
          await sleep(100);
        }
      }
    }
  });
  return {
    stats: () => ({ submitted, refused }),
    async stop() {
      running = false;
      await Promise.allSettled(loops);
      await Promise.allSettled(providers.map((provider) => provider.disconnect()));
    },
  };
}

/**
 * Watches new blocks and counts the extrinsics each one holds; `full(n)` is true once `n`
 * consecutive blocks held at least `min` extrinsics.
 */
export function watchBlocks(api, { min = 500 } = {}) {
  const counts = new Map();
  // Reads of blocks still in flight: `stop` waits for them, so that none is left to fail once
  // the connection closes (an unhandled rejection after the test, which fails the file).
  const pending = new Set();
  let failure;
  let unsubscribe;
  const ready = api.rpc.chain
    .subscribeNewHeads((header) => {
      const read = api.rpc.chain
        .getBlock(header.hash)
        .then((block) => counts.set(header.number.toNumber(), block.block.extrinsics.length))
        .catch((error) => { failure = failure ?? error; })
        .finally(() => pending.delete(read));
      pending.add(read);
    })
    .then((u) => {
      unsubscribe = u;
    });
  return {
    counts,
    /** The numbers of the blocks seen holding at least `min` extrinsics. */
    fullBlocks: () => [...counts].filter(([, n]) => n >= min).map(([b]) => b),
    /** Stops watching, once the reads in flight are done; throws if a read failed. */
    async stop() {
      await ready;
      if (unsubscribe) unsubscribe();
      await Promise.allSettled([...pending]);
      if (failure) throw failure;
    },
  };
}

/**
 * Waits until `blocks` (a `watchBlocks`) has seen `count` full blocks, failing after `timeoutMs`
 * with `flood`'s figures (whether the pool also reaches its limit depends on how fast the flooder
 * signs on the node's own cores: it is reported, not required).
 */
export async function untilFull(blocks, flood, { count = 2, timeoutMs = 120_000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  while (blocks.fullBlocks().length < count) {
    if (Date.now() >= deadline) {
      throw new Error(`the flood did not fill the blocks: ${JSON.stringify(flood.stats())}`);
    }
    await sleep(500);
  }
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
