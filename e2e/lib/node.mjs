// Starts and stops real agentchain-node processes for the end-to-end tests.
import { spawn } from 'node:child_process';
import { connect, createServer } from 'node:net';
import {
  createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiPromise, WsProvider } from '@polkadot/api';
import { xxhashAsHex } from '@polkadot/util-crypto';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '..', '..');

/** The node binary: $AGENTCHAIN_NODE, else the release build in $CARGO_TARGET_DIR or target/. */
export function nodeBinary() {
  if (process.env.AGENTCHAIN_NODE) return resolve(process.env.AGENTCHAIN_NODE);
  const targetDir = process.env.CARGO_TARGET_DIR
    ? resolve(process.env.CARGO_TARGET_DIR)
    : join(repoRoot, 'target');
  return join(targetDir, 'release', 'agentchain-node');
}

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Resolves with true once `child` exits, or with false after `ms`; its timer is cleared as soon
 * as the child exits, so that a test file's process exits as soon as its tests are done, not
 * `ms` later.
 */
function exitWithin(child, ms) {
  return new Promise((resolveExit) => {
    const timer = setTimeout(() => resolveExit(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolveExit(true);
    });
  });
}

/**
 * Starts `agentchain-node --dev` on free ports and connects polkadot.js to it.
 * Returns { api, rpcUrl, p2pPort, stop, kill }. The node's output goes to e2e/logs/<name>.log.
 * Options: `basePath` keeps the node's databases there (a temporary directory otherwise), so that
 * a node started again on it resumes (its log is then appended to); `chain` runs that chain spec
 * instead of `--dev` (a node that follows, without authoring).
 */
export function startDevNode(name, extraArgs = [], options = {}) {
  return oneStartAtATime(() => startDevNodeNow(name, extraArgs, options));
}

// A node's start (building its genesis state and compiling its runtime, about 10 s of CPU on two
// cores) is the costliest thing a test file does: a dozen files starting their nodes at once
// each waited a minute or more, and the longest file with them. One node starts at a time,
// across the test files' processes: the lock is a directory, which holds its holder's pid; a
// lock whose holder is gone, or older than the longest start, is taken over.
const START_LOCK = join(tmpdir(), 'agentchain-e2e-node-start.lock');
const START_LOCK_STALE_MS = 150_000;

function startLockIsStale() {
  try {
    const pid = Number(readFileSync(join(START_LOCK, 'pid'), 'utf8'));
    if (pid) process.kill(pid, 0);
  } catch (error) {
    if (error.code === 'ESRCH') return true;
  }
  try {
    return Date.now() - statSync(START_LOCK).mtimeMs > START_LOCK_STALE_MS;
  } catch {
    return false;
  }
}

async function oneStartAtATime(start) {
  for (;;) {
    try {
      mkdirSync(START_LOCK);
      writeFileSync(join(START_LOCK, 'pid'), String(process.pid));
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      if (startLockIsStale()) rmSync(START_LOCK, { recursive: true, force: true });
      else await sleep(100);
    }
  }
  try {
    return await start();
  } finally {
    rmSync(START_LOCK, { recursive: true, force: true });
  }
}

async function startDevNodeNow(name, extraArgs, { basePath, chain, env }) {
  const binary = nodeBinary();
  if (!existsSync(binary)) {
    throw new Error(
      `agentchain-node not found at ${binary}: build it with ` +
        '`cargo build --release -p agentchain-node`, or set AGENTCHAIN_NODE',
    );
  }
  const rpcPort = await freePort();
  const p2pPort = await freePort();
  const logDir = join(repoRoot, 'e2e', 'logs');
  mkdirSync(logDir, { recursive: true });
  const log = createWriteStream(join(logDir, `${name}.log`), { flags: basePath ? 'a' : 'w' });
  const args = [
    ...(chain ? ['--chain', chain] : ['--dev']),
    ...(basePath ? ['--base-path', basePath] : ['--tmp']),
    '--rpc-port', String(rpcPort),
    '--port', String(p2pPort),
    '--no-prometheus',
    '--no-telemetry',
    '--no-mdns',
    '--name', name,
    // AGENTCHAIN_NODE_LOG (e.g. `txpool=debug,runtime::offchain=debug`) adds log targets.
    ...(process.env.AGENTCHAIN_NODE_LOG ? ['-l', process.env.AGENTCHAIN_NODE_LOG] : []),
    ...extraArgs,
  ];
  // `env`: variables added to this process's environment (e.g. a preloaded library that fakes the
  // node's clock).
  const child = spawn(binary, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: env ? { ...process.env, ...env } : process.env,
  });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  let exited = null;
  child.on('exit', (code, signal) => {
    exited = { code, signal };
  });

  const rpcUrl = `ws://127.0.0.1:${rpcPort}`;
  const deadline = Date.now() + 120_000;
  let api;
  while (!api) {
    if (exited) {
      throw new Error(`agentchain-node exited early (${JSON.stringify(exited)}); see e2e/logs/${name}.log`);
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`agentchain-node RPC did not come up at ${rpcUrl} within 120 s`);
    }
    try {
      const provider = new WsProvider(rpcUrl, false);
      await provider.connect();
      await new Promise((ok, fail) => {
        const timer = setTimeout(() => fail(new Error('connect timeout')), 2_000);
        provider.on('connected', () => { clearTimeout(timer); ok(); });
        provider.on('error', () => { clearTimeout(timer); fail(new Error('connect error')); });
      });
      api = await ApiPromise.create({ provider, throwOnConnect: true, noInitWarn: true });
    } catch {
      await sleep(500);
    }
  }

  const stop = async () => {
    await api.disconnect().catch(() => {});
    if (!exited) {
      child.kill('SIGINT');
      const stopped = await exitWithin(child, 10_000);
      if (!stopped) child.kill('SIGKILL');
    }
    log.end();
  };
  // SIGKILL: no shutdown of any kind, as in a crash or a power cut.
  const kill = async () => {
    await api.disconnect().catch(() => {});
    if (!exited) {
      const gone = new Promise((r) => child.once('exit', () => r()));
      child.kill('SIGKILL');
      await gone;
    }
    log.end();
  };
  // How the process ended ({ code, signal }), or null while it runs.
  const exitStatus = () => exited;
  return { api, rpcUrl, p2pPort, stop, kill, exitStatus };
}

/** The multiaddress other nodes can reach `node` (as returned by `startDevNode`) at. */
export async function bootnodeOf(node) {
  const peerId = (await node.api.rpc.system.localPeerId()).toString();
  return `/ip4/127.0.0.1/tcp/${node.p2pPort}/p2p/${peerId}`;
}

/** Resolves with the number of the first block at or above `height` seen by `subscribe`. */
export function waitForHeight(api, height, { finalized = false, timeoutMs = 60_000 } = {}) {
  const subscribe = finalized
    ? api.rpc.chain.subscribeFinalizedHeads
    : api.rpc.chain.subscribeNewHeads;
  return new Promise((resolveHeight, reject) => {
    let unsubscribe;
    const timer = setTimeout(() => {
      if (unsubscribe) unsubscribe();
      reject(new Error(`no ${finalized ? 'finalized' : 'new'} block #${height} within ${timeoutMs} ms`));
    }, timeoutMs);
    subscribe((header) => {
      if (header.number.toNumber() >= height) {
        clearTimeout(timer);
        if (unsubscribe) unsubscribe();
        resolveHeight(header.number.toNumber());
      }
    }).then((u) => {
      unsubscribe = u;
    });
  });
}

/** A dispatch error as "section.Name" (a module error) or its string, or null. */
export function dispatchErrorName(api, dispatchError) {
  if (!dispatchError) return null;
  if (dispatchError.isModule) {
    const meta = api.registry.findMetaError(dispatchError.asModule);
    return `${meta.section}.${meta.name}`;
  }
  return dispatchError.toString();
}

/**
 * Signs and sends `tx` from `signer` (with signing `options` such as { nonce }); resolves once the block that includes it is finalized, with
 * { blockHash, events, dispatchError } (dispatchError decoded to "section.Name" or null).
 */
export function sendAndFinalize(api, tx, signer, options = {}) {
  return new Promise((resolveTx, reject) => {
    let inBlock = null;
    tx.signAndSend(signer, options, ({ status, events, dispatchError }) => {
      if (status.isInBlock) inBlock = status.asInBlock.toHex();
      if (status.isFinalized) {
        resolveTx({ inBlock, blockHash: status.asFinalized.toHex(), events, dispatchError: dispatchErrorName(api, dispatchError) });
      }
      if (status.isDropped || status.isInvalid || status.isUsurped) {
        reject(new Error(`transaction ${status.type}`));
      }
    }).catch(reject);
  });
}

/**
 * Signs and sends `tx` from `signer`; resolves once a block includes it, with
 * { blockHash, events, dispatchError } (dispatchError decoded to "section.Name" or null). For
 * duties whose deadlines are a few blocks away, and to save the wait for finality: the dev
 * chain has a single block author, so an imported block is not replaced and its state can be
 * read before it is finalized.
 */
export function sendInBlock(api, tx, signer, options = {}) {
  return new Promise((resolveTx, reject) => {
    let unsubscribe;
    let done = false;
    const finish = (error, value) => {
      if (done) return;
      done = true;
      if (unsubscribe) unsubscribe();
      if (error) reject(error);
      else resolveTx(value);
    };
    tx.signAndSend(signer, options, ({ status, events, dispatchError }) => {
      if (status.isInBlock || status.isFinalized) {
        const blockHash = (status.isInBlock ? status.asInBlock : status.asFinalized).toHex();
        finish(null, { blockHash, events, dispatchError: dispatchErrorName(api, dispatchError) });
      } else if (status.isDropped || status.isInvalid || status.isUsurped) {
        finish(new Error(`transaction ${status.type}`));
      }
    })
      .then((u) => {
        unsubscribe = u;
        if (done) u();
      })
      .catch((error) => finish(error));
  });
}

/** The reference inference server binary, built next to the node. */
export function inferenceServerBinary() {
  if (process.env.AGENTCHAIN_INFERENCE_SERVER) return resolve(process.env.AGENTCHAIN_INFERENCE_SERVER);
  return join(dirname(nodeBinary()), 'agentchain-inference-server');
}

/**
 * Starts `agentchain-inference-server` with `args` (on a free port unless `--listen` is given).
 * Returns { url, baseUrl, stop, setFault }: `baseUrl` ends in /v1; `setFault(mode, delayMs)`
 * switches its misbehaviour (needs `--admin`). Output goes to e2e/logs/<name>.log.
 */
export async function startInferenceServer(name, args = []) {
  const binary = inferenceServerBinary();
  if (!existsSync(binary)) {
    throw new Error(
      `agentchain-inference-server not found at ${binary}: build it with ` +
        '`cargo build --release -p agentchain-inference-server`',
    );
  }
  const listen = args.includes('--listen') ? [] : ['--listen', '127.0.0.1:0'];
  const logDir = join(repoRoot, 'e2e', 'logs');
  mkdirSync(logDir, { recursive: true });
  const log = createWriteStream(join(logDir, `${name}.log`), { flags: 'a' });
  const child = spawn(binary, [...listen, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr.pipe(log);
  let exited = null;
  child.on('exit', (code, signal) => {
    exited = { code, signal };
  });
  const url = await new Promise((resolveUrl, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`${name}: no "listening on" line within 10 s`)), 10_000);
    child.stdout.on('data', (chunk) => {
      log.write(chunk);
      buffered += chunk.toString();
      const match = buffered.match(/listening on (http:\/\/\S+)/);
      if (match) {
        clearTimeout(timer);
        resolveUrl(match[1]);
      }
    });
    child.on('exit', () => {
      clearTimeout(timer);
      reject(new Error(`${name} exited early; see e2e/logs/${name}.log`));
    });
  });
  const stop = async () => {
    if (!exited) {
      child.kill('SIGTERM');
      const stopped = await exitWithin(child, 5_000);
      if (!stopped) child.kill('SIGKILL');
    }
    log.end();
  };
  const setFault = async (mode, delayMs) => {
    const body = delayMs === undefined ? { mode } : { mode, delay_ms: delayMs };
    const response = await fetch(`${url}/admin/fault`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (response.status !== 200) throw new Error(`${name}: setting fault ${mode} gave ${response.status}`);
  };
  return { url, baseUrl: `${url}/v1`, stop, setFault };
}

/**
 * The endpoint alone, called as an agent node's worker calls it: a chat completion of each of
 * `prompts` with `params` (maxTokens, seed), one after another on one kept-alive connection.
 * Resolves with { seconds, rate } (inferences a second).
 *
 * Each request is written whole, headers and body in one write, and its response read by its
 * `Content-Length`: a client that costs next to nothing, so that the figure is the endpoint's
 * own speed (node's `fetch` takes about 0.6 ms a call of its own, more than the reference
 * server and the node's worker together).
 */
export async function endpointAlone(server, model, prompts, params) {
  const url = new URL(`${server.baseUrl}/chat/completions`);
  const { hostname, port, pathname } = url;
  const socket = connect({ host: hostname.replace(/^\[|\]$/g, ''), port: Number(port || 80), noDelay: true });
  await new Promise((resolveConnect, reject) => {
    socket.once('connect', resolveConnect);
    socket.once('error', reject);
  });
  let buffered = Buffer.alloc(0);
  let waiting = null;
  socket.on('data', (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    if (waiting) waiting();
  });
  socket.on('error', (error) => {
    if (waiting) waiting(error);
  });
  socket.on('close', () => {
    if (waiting) waiting(new Error('the endpoint closed the connection'));
  });
  // The next whole response: its status and body.
  const response = () => new Promise((resolveResponse, reject) => {
    const attempt = (error) => {
      if (error) return reject(error);
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buffered.subarray(0, end).toString('latin1');
      const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? NaN);
      if (!Number.isFinite(length)) return reject(new Error(`no Content-Length in ${head}`));
      if (buffered.length < end + 4 + length) return;
      const body = buffered.subarray(end + 4, end + 4 + length);
      buffered = buffered.subarray(end + 4 + length);
      waiting = null;
      resolveResponse({ status: Number(head.split(' ')[1]), body });
    };
    waiting = attempt;
    attempt();
  });
  const started = Date.now();
  try {
    for (const prompt of prompts) {
      const body = Buffer.from(JSON.stringify({
        model,
        messages: [{ role: 'user', content: prompt }],
        max_tokens: params.maxTokens,
        temperature: 0,
        seed: params.seed,
        stream: false,
      }));
      const head = `POST ${pathname} HTTP/1.1\r\nHost: ${url.host}\r\n` +
        `Content-Type: application/json\r\nAccept: application/json\r\n` +
        `Content-Length: ${body.length}\r\n\r\n`;
      socket.write(Buffer.concat([Buffer.from(head, 'latin1'), body]));
      const { status, body: answer } = await response();
      if (status !== 200) throw new Error(`endpoint answered ${status}`);
      JSON.parse(answer.toString('utf8'));
    }
  } finally {
    socket.destroy();
  }
  const seconds = (Date.now() - started) / 1000;
  return { seconds, rate: prompts.length / seconds };
}

/**
 * Resolves with { blockNumber, blockHash, event } for the first event, in a new best block,
 * for which `predicate(event)` holds.
 */
export function waitForEvent(api, predicate, { timeoutMs = 120_000, what = 'event' } = {}) {
  return new Promise((resolveEvent, reject) => {
    let unsubscribe;
    let done = false;
    const finish = (error, value) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (unsubscribe) unsubscribe();
      if (error) reject(error);
      else resolveEvent(value);
    };
    const timer = setTimeout(() => finish(new Error(`no ${what} within ${timeoutMs} ms`)), timeoutMs);
    api.rpc.chain
      .subscribeNewHeads(async (header) => {
        try {
          const events = await (await api.at(header.hash)).query.system.events();
          for (const { event } of events) {
            if (predicate(event)) {
              finish(null, { blockNumber: header.number.toNumber(), blockHash: header.hash.toHex(), event });
              return;
            }
          }
        } catch (error) {
          finish(error);
        }
      })
      .then((u) => {
        unsubscribe = u;
        if (done) u();
      });
  });
}

/**
 * Names `operator` as the operator key of `owner`'s agent, and has the operator accept (an
 * account never becomes an operator without its own signature). Resolves with the result of the
 * acceptance; throws if either call fails.
 */
export async function nameOperator(api, owner, operator) {
  const named = await sendAndFinalize(api, api.tx.agents.setOperator(operator.address), owner);
  if (named.dispatchError) throw new Error(`setOperator: ${named.dispatchError}`);
  const accepted = await sendAndFinalize(api, api.tx.agents.acceptOperator(owner.address), operator);
  if (accepted.dispatchError) throw new Error(`acceptOperator: ${accepted.dispatchError}`);
  return accepted;
}

/**
 * Resolves with { blockNumber, blockHash, event } for the first event at or after block
 * `fromBlock` for which `predicate(event)` holds: blocks already imported are searched too, so
 * an event of a block that came before the call is not missed.
 */
export async function eventSince(api, fromBlock, predicate, { timeoutMs = 120_000, what = 'event' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let next = fromBlock;
  while (Date.now() < deadline) {
    const best = (await api.rpc.chain.getHeader()).number.toNumber();
    for (; next <= best; next++) {
      const blockHash = (await api.rpc.chain.getBlockHash(next)).toHex();
      const events = await (await api.at(blockHash)).query.system.events();
      for (const { event } of events) {
        if (predicate(event)) return { blockNumber: next, blockHash, event };
      }
    }
    await new Promise((resolveLater) => setTimeout(resolveLater, 500));
  }
  throw new Error(`no ${what} within ${timeoutMs} ms`);
}

/** The block number of the block with hash `hash`. */
export async function blockNumberOf(api, hash) {
  return (await api.rpc.chain.getHeader(hash)).number.toNumber();
}

/**
 * Resolves with the view of task `id` once its revealed results were compared: the block after
 * the last reveal (or the reveal deadline) sets its `result` and moves it on from `Committed`.
 * Polled every half second; throws after `timeoutMs`.
 */
export async function taskOnceCompared(api, id, { timeoutMs = 60_000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const view = (await api.call.inferenceApi.task(id)).unwrap();
    if (!['Submitted', 'Assigned', 'Committed'].includes(view.status.type)) return view;
    if (Date.now() > deadline) throw new Error(`task ${id} still ${view.status.type} after ${timeoutMs} ms`);
    await new Promise((resolveLater) => setTimeout(resolveLater, 500));
  }
}

/**
 * The jurors a batch's disputes need (BatchTerms.jurors_needed, besides one verifier per
 * executor, since an executor never judges its own task): the first jury and every appeal's,
 * (JurySize + 1) × 2^r − 1 jurors in round r (at most MaxJurySize): 3 + 7 + 15 on the dev runtime.
 */
export function jurorsForABatch(api) {
  const { jurySize, maxJurySize, maxAppeals } = api.consts.challenges;
  let jurors = 0;
  for (let round = 0; round <= maxAppeals.toNumber(); round++) {
    jurors += Math.min((jurySize.toNumber() + 1) * 2 ** round - 1, maxJurySize.toNumber());
  }
  return jurors;
}

/**
 * Root (`sudo`, the dev chain's sudo key) turns batches on: the storage parameter
 * `BatchesTaken` (key `twox128(":BatchesTaken:")`, a SCALE bool), off by default. Resolves as
 * sendInBlock does.
 */
export function turnBatchesOn(api, sudo) {
  const key = xxhashAsHex(':BatchesTaken:', 128);
  return sendInBlock(api, api.tx.sudo.sudo(api.tx.system.setStorage([[key, '0x01']])), sudo);
}

/**
 * Reveals the audit secret of each batch whose window ends (`inference.AuditSecretAwaited`),
 * `secretOf(task)` (a hex string; `undefined`: not this caller's batch), signed by `signer`
 * (anyone may send it; only the requester knows it), one after the other. Returns `revealed`
 * (task → the promise of its `sendInBlock` result) and `stop()`.
 */
export async function revealAuditSecretsWhenAwaited(api, signer, secretOf) {
  const revealed = new Map();
  let queue = Promise.resolve();
  const stop = await api.query.system.events((records) => {
    for (const { event } of records) {
      if (!api.events.inference.AuditSecretAwaited.is(event)) continue;
      const task = event.data.task.toNumber();
      const secret = secretOf(task);
      if (secret === undefined || revealed.has(task)) continue;
      const sent = queue.then(() => sendInBlock(api, api.tx.inference.revealAuditSecret(task, secret), signer));
      queue = sent.catch(() => {});
      revealed.set(task, sent);
    }
  });
  return { revealed, stop };
}
