// docs/cli.md's examples, run as written: every `agentchain …` line of its `sh` blocks, in the
// page's order, against a fresh dev agent node (what `scripts/dev-agent.sh` starts). Each must
// exit 0, except the few the page says cannot succeed yet, which must fail with the error it
// names. A page whose examples drift from the CLI (a renamed flag, a wrong address, an order in
// which a step cannot work) fails here.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { nodeBinary, startDevNode, startInferenceServer } from '../lib/node.mjs';

const UNIT = 10n ** 12n;
const PAGE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'cli.md');
const DOC_URL = 'ws://127.0.0.1:9944';

function cliBinary() {
  return process.env.AGENTCHAIN_CLI ?? join(dirname(nodeBinary()), 'agentchain');
}

/**
 * The page's examples: every command of a ```sh block that runs `agentchain` (after optional
 * `NAME=value` assignments), continuation lines joined, the trailing comment removed, split into
 * words as a shell would (quotes, no expansion). `[--flag value]` (an optional part) is kept,
 * without its brackets.
 */
function examplesOf(markdown) {
  const examples = [];
  let inSh = false;
  let pending = '';
  for (const line of markdown.split('\n')) {
    if (!inSh) {
      if (line.trim() === '```sh') inSh = true;
      continue;
    }
    if (line.trim() === '```') {
      inSh = false;
      pending = '';
      continue;
    }
    const joined = pending + line;
    if (/\\\s*$/.test(joined)) {
      pending = joined.replace(/\\\s*$/, ' ');
      continue;
    }
    pending = '';
    const words = shellWords(joined);
    const at = words.findIndex((w) => !/^[A-Z_][A-Z0-9_]*=/.test(w));
    if (at === -1 || words[at] !== 'agentchain') continue;
    examples.push({
      text: joined.replace(/\s+/g, ' ').trim(),
      env: Object.fromEntries(words.slice(0, at).map((w) => [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)])),
      args: words.slice(at + 1).flatMap((w) => w.replace(/^\[/, '').replace(/\]$/, '')).filter((w) => w !== ''),
    });
  }
  return examples;
}

/** Shell words of one line: whitespace-separated, '…' and "…" quoting, `#` at a word's start ends it. */
function shellWords(line) {
  const words = [];
  let word = null;
  let quote = null;
  for (const c of line) {
    if (quote) {
      if (c === quote) quote = null;
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      word ??= '';
    } else if (/\s/.test(c)) {
      if (word !== null) words.push(word);
      word = null;
    } else if (c === '#' && word === null) {
      break;
    } else {
      word = (word ?? '') + c;
    }
  }
  assert.equal(quote, null, `unclosed quote in: ${line}`);
  if (word !== null) words.push(word);
  return words;
}

const command = (example) => example.args.filter((a) => !a.startsWith('-')).slice(0, 2).join(' ');

describe('docs/cli.md: its examples, run as written', () => {
  let server;
  let node;
  let workdir;
  const values = {}; // what the page's placeholders stand for, and what earlier examples printed

  function run(args, env = {}) {
    return new Promise((resolve) => {
      execFile(
        cliBinary(),
        args,
        { cwd: workdir, env: { ...process.env, AGENTCHAIN_URL: node.rpcUrl, ...env }, timeout: 600_000 },
        (error, stdout, stderr) => {
          resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
        },
      );
    });
  }

  before(async () => {
    await cryptoWaitReady();
    workdir = mkdtempSync(join(tmpdir(), 'agentchain-cli-docs-'));
    // `data register --file river.txt`: the file the page hashes.
    writeFileSync(join(workdir, 'river.txt'), 'The river carries leaves in the autumn.\n');
    server = await startInferenceServer('cli-docs-endpoint', ['--model', 'ngram-en']);
    node = await startDevNode('cli-docs-node', [
      '--inference-endpoint', server.baseUrl,
      '--inference-model', 'ngram-en',
    ]);
    // `<phrase>`: a new account with 20,000 AGC (the candidacy bond is 10,000).
    const generated = JSON.parse((await run(['keys', 'generate', '--json'])).stdout);
    values.phrase = generated.account.secretUri;
    values.address = generated.account.address;
    const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
    await new Promise((resolve, reject) => {
      node.api.tx.balances
        .transferKeepAlive(values.address, 20_000n * UNIT)
        .signAndSend(keyring.addFromUri('//Alice'), ({ status, dispatchError }) => {
          if (dispatchError) reject(new Error(dispatchError.toString()));
          else if (status.isInBlock) resolve();
        })
        .catch(reject);
    });
  });

  after(async () => {
    await node?.stop();
    await server?.stop();
    if (workdir) rmSync(workdir, { recursive: true, force: true });
  });

  test('every example succeeds, or fails as the page says it must', { timeout: 1_500_000 }, async () => {
    const examples = examplesOf(readFileSync(PAGE, 'utf8'));
    // What the page says cannot succeed yet on a fresh chain, and the error each must end in.
    const mustFail = {
      'agent withdraw': /agents\.NothingToWithdraw/,
      'data claim': /dataRewards\.(EpochNotOver|NothingToClaim)/,
      'challenge appeal': /challenges\.WrongPhase/,
      // Run last (Alice's agent executes the tasks before it): task 1's dispute is still open.
      'agent deregister': /agents\.HasOpenWork/,
    };
    // Runs until stopped: edge-agent.test.mjs runs it, over RPC and the light client.
    const notHere = (e) => command(e) === 'agent run';
    const last = (e) => command(e) === 'agent deregister';
    const order = [...examples.filter((e) => !notHere(e) && !last(e)), ...examples.filter(last)];
    assert.ok(order.length >= 45, `${order.length} examples found: is the page parsed?`);
    assert.equal(examples.filter(notHere).length, 2);
    for (const name of Object.keys(mustFail)) {
      assert.ok(order.some((e) => command(e) === name), `the page shows \`${name}\``);
    }

    for (const example of order) {
      const args = example.args.map((a, i) => {
        if (a === DOC_URL) return node.rpcUrl;
        if (a.includes('<phrase>')) return a.replace('<phrase>', values.phrase);
        if (a === '<ADDRESS>') return values.address;
        if (a === '0x…' && example.args[i - 1] === '--keys') return values.keys;
        if (a === '0x…' && example.args[i - 1] === '--proof') return values.proof;
        assert.ok(!/[<>…]/.test(a), `a placeholder this test does not know: ${a} in ${example.text}`);
        return a;
      });
      const result = await run(args, example.env);
      const said = `${example.text}\n→ exit ${result.code}\n${result.stderr}`;
      const failure = mustFail[command(example)];
      if (failure) {
        assert.equal(result.code, 1, said);
        assert.match(result.stderr, failure, said);
      } else {
        assert.equal(result.code, 0, said);
        assert.ok(result.stdout.trim().length > 0, `it printed its result: ${said}`);
      }
      // `validator set-keys --keys 0x… --proof 0x…` takes what `rotate-keys` printed.
      if (command(example) === 'validator rotate-keys') {
        values.keys = result.stdout.match(/keys:\s+(0x[0-9a-f]+)/)?.[1];
        values.proof = result.stdout.match(/proof:\s+(0x[0-9a-f]+)/)?.[1];
        assert.ok(values.keys && values.proof, `rotate-keys printed its keys and proof:\n${result.stdout}`);
      }
    }

    // The state the examples leave, as the page describes it.
    const alice = (await node.api.query.agents.agents('5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY')).unwrap();
    assert.equal(alice.metadata.name.toUtf8(), 'alice-2', 'renamed by `agent update`');
    assert.equal(alice.status.toString(), 'Active', 'paused, resumed, and not deregistered while in a dispute');
    const second = (await node.api.call.inferenceApi.task(1)).unwrap();
    assert.ok(second.result.isSome, 'task 1 was revealed');
    assert.ok((await node.api.query.challenges.disputes(1)).isSome, 'Charlie disputed task 1');
  });
});
