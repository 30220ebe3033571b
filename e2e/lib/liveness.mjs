// The liveness scenario shared by the end-to-end test and the load script: a dev agent node that
// executes a model and hosts three jurors, and a round of duties (a task's commit and reveal,
// then a dispute's vote commits and reveals) measured in blocks from the start of each phase.
import { Keyring } from '@polkadot/keyring';
import { u8aToHex } from '@polkadot/util';
import { blake2AsHex } from '@polkadot/util-crypto';
import {
  blockNumberOf,
  eventSince,
  sendAndFinalize,
  sendInBlock,
  startDevNode,
  startInferenceServer,
} from './node.mjs';

const UNIT = 10n ** 12n;
const MODEL_NAME = 'ngram-en';
const MODEL = blake2AsHex(MODEL_NAME, 256);
const STAKE = 200n * UNIT;
const FEE = UNIT;
/** What a requester or challenger adds to get an ordinary transaction past a full pool. */
export const TIP = 1_000_000n; // a millionth of an AGC

/**
 * Starts an inference server and a dev node (`name`) that executes for Alice and votes for Bob,
 * Charlie and Dave; registers them. Returns { api, rpcUrl, accounts, slashes, stop }: `slashes` lists
 * every slash or penalty from then on.
 */
export async function startLivenessNode(name) {
  const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  const accounts = Object.fromEntries(
    ['Alice', 'Bob', 'Charlie', 'Dave', 'Eve', 'Ferdie'].map((who) => [
      who,
      { owner: keyring.addFromUri(`//${who}`), operator: keyring.addFromUri(`//${who}//operator`) },
    ]),
  );
  const server = await startInferenceServer(`${name}-endpoint`, ['--model', MODEL_NAME]);
  const node = await startDevNode(name, ['--inference-endpoint', server.baseUrl, '--inference-model', MODEL_NAME]);
  const { api } = node;
  for (const who of ['Bob', 'Charlie', 'Dave']) {
    await api.rpc.author.insertKey('agnt', `//${who}//operator`, u8aToHex(accounts[who].operator.publicKey));
  }
  // Each call of the setup is waited for in a block, not finalised: the dev chain has one block
  // author, so an imported block stays.
  const register = async (who, role) => {
    const { owner, operator } = accounts[who];
    const registered = await sendInBlock(
      api,
      api.tx.agents.register(`${who}-agent`, 'http://agent', '1', [MODEL], [role], STAKE),
      owner,
    );
    if (registered.dispatchError) throw new Error(`register ${who}: ${registered.dispatchError}`);
    const named = await sendInBlock(api, api.tx.agents.setOperator(operator.address), owner);
    if (named.dispatchError) throw new Error(`setOperator ${who}: ${named.dispatchError}`);
    const accepted = await sendInBlock(api, api.tx.agents.acceptOperator(owner.address), operator);
    if (accepted.dispatchError) throw new Error(`acceptOperator ${who}: ${accepted.dispatchError}`);
  };
  await Promise.all([
    register('Alice', 'Executor'),
    register('Bob', 'Verifier'),
    register('Charlie', 'Verifier'),
    register('Dave', 'Verifier'),
  ]);
  const slashes = [];
  const unsubscribe = await api.query.system.events((events) => {
    for (const { event } of events) {
      if (
        api.events.inference.ExecutorMissedDeadline.is(event) ||
        api.events.challenges.JurorPenalised.is(event) ||
        api.events.challenges.ExecutorSlashed.is(event)
      ) {
        slashes.push(`${event.section}.${event.method} ${event.data.toString()}`);
      }
    }
  });
  return {
    api,
    rpcUrl: node.rpcUrl,
    accounts,
    slashes,
    async stop() {
      unsubscribe();
      await node.stop();
      await server.stop();
    },
  };
}

/** A task of Ferdie's for the node's model, as `playRound` submits it. */
function taskOf(api, label) {
  return api.tx.inference.submitTask(
    MODEL,
    { Inline: `${label}: the lighthouse keeper` },
    { maxTokens: 12, temperatureMilli: 0, seed: 3, mode: 'ExactMatch' },
    FEE,
    1,
    5,
  );
}

/**
 * Submits a task from Ferdie with `tip` and waits up to a minute for it to be finalised:
 * returns 'accepted', or why not.
 */
export async function trySubmitTask({ api, accounts }, label, tip) {
  try {
    const result = await Promise.race([
      sendAndFinalize(api, taskOf(api, label), accounts.Ferdie.owner, { tip }),
      new Promise((resolve) => setTimeout(() => resolve({ timedOut: true }), 60_000)),
    ]);
    if (result.timedOut) return 'not in a finalised block after 60 s';
    return result.dispatchError ? `failed: ${result.dispatchError}` : 'accepted';
  } catch (error) {
    return `refused: ${String(error?.message ?? error)}`;
  }
}

const is = (api, section, name, id) => (e) =>
  api.events[section][name].is(e) && e.data.task.toNumber() === id;

/** The block of the last of `count` distinct events matching `predicate` from block `from` on. */
async function lastOf(api, from, predicate, count, what) {
  let block = from;
  const hits = new Set();
  while (hits.size < count) {
    const found = await eventSince(api, block, (e) => predicate(e) && !hits.has(e.data.toString()), {
      what,
      timeoutMs: 120_000,
    });
    hits.add(found.event.data.toString());
    block = found.blockNumber;
  }
  return block;
}

/**
 * A task from Ferdie with a 5-block commit period (executed by the node), then a challenge of
 * its (honest) result by Eve, judged by the node's three jurors. Both are sent with `TIP`.
 * Returns { task, delays }: the blocks each duty took to land from the start of its phase.
 */
export async function playRound({ api, accounts }, label) {
  const { Ferdie: ferdie, Eve: eve } = accounts;
  const id = (await api.query.inference.nextTaskId()).toNumber();
  const submitted = await sendAndFinalize(api, taskOf(api, label), ferdie.owner, { tip: TIP });
  if (submitted.dispatchError) throw new Error(`${label}: submitTask: ${submitted.dispatchError}`);
  const included = await blockNumberOf(api, submitted.inBlock);
  const assigned = await eventSince(api, included, is(api, 'inference', 'TaskAssigned', id), { what: `draw of ${id}` });
  const committed = await eventSince(api, assigned.blockNumber, is(api, 'inference', 'ResultCommitted', id), {
    what: `commit of ${id}`,
  });
  const revealed = await eventSince(api, committed.blockNumber, is(api, 'inference', 'ResultRevealed', id), {
    what: `reveal of ${id}`,
  });

  const challenged = await sendAndFinalize(api, api.tx.challenges.challenge(id, 10n * UNIT), eve.owner, { tip: TIP });
  if (challenged.dispatchError) throw new Error(`${label}: challenge: ${challenged.dispatchError}`);
  const opened = await blockNumberOf(api, challenged.inBlock);
  const drawn = await eventSince(api, opened, is(api, 'challenges', 'JuryDrawn', id), { what: `jury of ${id}` });
  const votesCommitted = await lastOf(api, drawn.blockNumber, is(api, 'challenges', 'VoteCommitted', id), 3, `vote commits of ${id}`);
  const revealPhase = await eventSince(api, votesCommitted, is(api, 'challenges', 'VoteRevealPhaseStarted', id), {
    what: `reveal phase of ${id}`,
  });
  const votesRevealed = await lastOf(api, revealPhase.blockNumber, is(api, 'challenges', 'VoteRevealed', id), 3, `vote reveals of ${id}`);
  return {
    task: id,
    delays: {
      commit: committed.blockNumber - assigned.blockNumber,
      reveal: revealed.blockNumber - committed.blockNumber,
      voteCommit: votesCommitted - drawn.blockNumber,
      voteReveal: votesRevealed - revealPhase.blockNumber,
    },
  };
}
