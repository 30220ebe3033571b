// An edge agent joins the testnet: an agent (owner //Alice//edge) whose operator key
// //Alice//edge//operator is used by `agentchain agent run` — no node of its own, the chain
// read and written through a validator's RPC, or with args[0] "light" through the embedded light
// client (smoldot, from the testnet's raw chain spec and the validator's p2p address), after the
// agent was registered by a first run. A task drawn to every selectable executor (the three agent
// nodes and the edge agent) is executed by all four alike: the edge agent commits and reveals
// once, and its output is the agreed result. Returns 1.
const { execFileSync, spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { MODEL_NAME, UNIT, finalize, untilFinalized, submissionsFor } = require('./lib.js');

async function run(nodeName, networkInfo, args) {
  const light = (args || [])[0] === 'light';
  const { wsUri, userDefinedTypes } = networkInfo.nodesByName[nodeName];
  const api = await zombie.connect(wsUri, userDefinedTypes);
  await zombie.util.cryptoWaitReady();
  const keyring = new zombie.Keyring({ type: 'sr25519' });
  const alice = keyring.addFromUri('//Alice');
  const owner = keyring.addFromUri('//Alice//edge');
  const operator = keyring.addFromUri('//Alice//edge//operator');
  const model = zombie.util.blake2AsHex(MODEL_NAME, 256);

  if ((await api.query.agents.agents(owner.address)).isNone) {
    await finalize(api, api.tx.balances.transferKeepAlive(owner.address, 1000n * UNIT), alice);
    await finalize(api, api.tx.balances.transferKeepAlive(operator.address, 10n * UNIT), alice);
    await finalize(api, api.tx.agents.register('edge-agent', '', '1', [model], ['Executor'], 150n * UNIT), owner);
    await finalize(api, api.tx.agents.setOperator(operator.address), owner);
    await finalize(api, api.tx.agents.acceptOperator(owner.address), operator);
    console.log(`edge agent ${owner.address} registered, operated by ${operator.address}`);
  }

  const nodeBinary = process.env.AGENTCHAIN_NODE;
  const cli = process.env.AGENTCHAIN_CLI || path.join(path.dirname(nodeBinary), 'agentchain');
  if (!fs.existsSync(cli)) throw new Error(`agentchain not found at ${cli}: cargo build --release -p agentchain-cli`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agentchain-edge-'));
  const events = [];
  const log = fs.createWriteStream(path.join(dir, 'edge-agent.log'));
  // The light client reaches the validator's peer-to-peer port (zombienet's nodes listen on a
  // WebSocket one), from the raw chain spec the testnet was started with.
  const lightArgs = light
    ? ['--chain-spec', networkInfo.chainSpecPath, '--bootnode', (await api.rpc.system.localListenAddresses())[0].toString()]
    : [];
  const child = spawn(cli, [
    ...(light ? [] : ['--url', wsUri]), '--json', 'agent', 'run', ...lightArgs,
    '--endpoint', process.env.INFERENCE_URL_1, '--model', MODEL_NAME, '--state-dir', path.join(dir, 'state'),
  ], { env: { ...process.env, AGENTCHAIN_OPERATOR_KEY: '//Alice//edge//operator' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let buffered = '';
  child.stdout.on('data', (chunk) => {
    log.write(chunk);
    buffered += chunk.toString();
    let newline;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      try { events.push(JSON.parse(buffered.slice(0, newline))); } catch { /* not an event */ }
      buffered = buffered.slice(newline + 1);
    }
  });
  child.stderr.pipe(log);
  child.on('error', (error) => log.write(`cannot start ${cli}: ${error.message}\n`));
  const until = async (predicate, what, timeoutMs = 240_000) => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = events.find(predicate);
      if (found) return found;
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`edge agent: no ${what}; see ${dir}/edge-agent.log; last events ${JSON.stringify(events.slice(-10))}`);
  };

  try {
    const started = await until((e) => e.event === 'started', 'start');
    console.log(`edge agent started over ${started.chain}, state in ${started.stateDir}`);
    if (light && started.chain !== 'light client') throw new Error(`started over ${started.chain}`);
    await until((e) => e.event === 'acting' && e.agent === owner.address, 'agent to act for');
    // Every selectable executor of the model is drawn: the edge agent among them.
    let serving = [];
    for (let i = 0; i < 60 && !serving.includes(owner.address); i += 1) {
      // (zombienet's polkadot.js predates runtime APIs from metadata: the CLI reads them.)
      const listed = execFileSync(cli, ['--url', wsUri, '--json', 'agent', 'list', '--model', MODEL_NAME, '--role', 'executor']);
      serving = JSON.parse(listed.toString()).agents.map((a) => a.owner);
      if (!serving.includes(owner.address)) await new Promise((r) => setTimeout(r, 2_000));
    }
    if (!serving.includes(owner.address) || serving.length > 5) {
      throw new Error(`the edge agent is not one of at most five selectable executors: ${serving}`);
    }
    const task = (await api.query.inference.nextTaskId()).toNumber();
    await finalize(api, api.tx.inference.submitTask(
      model,
      { Inline: `zombienet task ${task}: at the edge` },
      { maxTokens: 12, temperatureMilli: 0, seed: task, mode: 'ExactMatch' },
      BigInt(serving.length) * UNIT,
      serving.length,
      20,
    ), alice);
    console.log(`task ${task} drawn to all ${serving.length} executors`);
    await until((e) => e.event === 'revealed' && e.task === task, `reveal of task ${task}`);
    const revealedAt = await untilFinalized(api, async (hash) => {
      const info = (await (await api.at(hash)).query.inference.tasks(task)).unwrap();
      if (info.status.isExpired || info.status.isDisputed) throw new Error(`task ${task} is ${info.status.type}`);
      return info.result.isSome;
    });
    const info = (await api.query.inference.tasks(task)).unwrap();
    const mine = info.assignments.find((a) => a.executor.toString() === owner.address);
    if (!mine || mine.output.toString() !== info.result.toString()) {
      throw new Error(`task ${task}: the edge agent's output is not the result: ${JSON.stringify(info.toHuman())}`);
    }
    const sent = (await submissionsFor(api, task, info.submittedAt.toNumber(), revealedAt))[operator.address];
    if (!sent || sent.commit !== 1 || sent.reveal !== 1) {
      throw new Error(`task ${task}: the edge agent sent ${JSON.stringify(sent)}`);
    }
    console.log(`task ${task}: the edge agent committed and revealed once; result ${info.result.toString()}`);
  } finally {
    child.kill('SIGTERM');
    await api.disconnect();
  }
  return 1;
}

module.exports = { run };
