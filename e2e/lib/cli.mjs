// Runs the operator CLI (`agentchain`, crate cli/) for the end-to-end tests of its commands.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { nodeBinary, startDevNode, startInferenceServer } from './node.mjs';

/** The CLI binary: $AGENTCHAIN_CLI, else built next to the node. */
export function cliBinary() {
  return process.env.AGENTCHAIN_CLI ?? join(dirname(nodeBinary()), 'agentchain');
}

/**
 * Runs the CLI against the node at `url`; resolves to { code, stdout, stderr, json } (json when
 * --json parsed).
 */
export function runCli(url, args, { env = {}, timeout = 300_000 } = {}) {
  return new Promise((resolve) => {
    execFile(
      cliBinary(),
      ['--url', url, ...args],
      { env: { ...process.env, ...env }, timeout },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        let json;
        if (args.includes('--json')) {
          try {
            json = JSON.parse(stdout);
          } catch {
            json = undefined;
          }
        }
        resolve({ code, stdout, stderr, json });
      },
    );
  });
}

/**
 * `runCli(url, args)` must be refused before signing: exit 2, message matching `pattern`, no
 * nonce of `signerAddress` used (read through `api`).
 */
export async function refusedBeforeSigning(api, url, args, signerAddress, pattern) {
  const nonceOf = async (address) => (await api.rpc.system.accountNextIndex(address)).toNumber();
  const before = await nonceOf(signerAddress);
  const run = await runCli(url, args);
  assert.equal(run.code, 2, `${args.join(' ')} exited ${run.code}: ${run.stderr}`);
  assert.match(run.stderr, pattern);
  assert.equal(await nonceOf(signerAddress), before, 'nothing was signed or sent');
}

/**
 * What the CLI's tests run against: a reference inference server of `model` and a dev agent node
 * (`--dev`, Alice's: its off-chain worker signs with //Alice//operator) calling it, named after
 * `name`. Resolves to { server, node, api, cli, refusedBeforeSigning, stop }: `cli(args, { url,
 * env, timeout })` runs the CLI against the node (see runCli), `refusedBeforeSigning(args,
 * signerAddress, pattern)` checks a refusal before signing there.
 */
export async function startCliNode(name, model) {
  assert.ok(existsSync(cliBinary()), `agentchain not found at ${cliBinary()}: cargo build --release -p agentchain-cli`);
  const server = await startInferenceServer(`${name}-endpoint`, ['--model', model]);
  let node;
  try {
    node = await startDevNode(`${name}-node`, ['--inference-endpoint', server.baseUrl, '--inference-model', model]);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return {
    server,
    node,
    api: node.api,
    cli: (args, { url = node.rpcUrl, env = {}, timeout = 300_000 } = {}) => runCli(url, args, { env, timeout }),
    refusedBeforeSigning: (args, signerAddress, pattern) =>
      refusedBeforeSigning(node.api, node.rpcUrl, args, signerAddress, pattern),
    stop: async () => {
      await node.stop();
      await server.stop();
    },
  };
}
