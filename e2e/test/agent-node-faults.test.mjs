// An agent node's off-chain worker on a real dev node, against the reference inference server
// switched to each of its faults: each leaves the chain healthy and the task expired and
// refunded, with the fault logged once per call. (The task's life with a healthy endpoint, a
// failed first call, a refused prompt and the endpoint down: agent-node.test.mjs.)
import { after, before, describe, test } from 'node:test';
import { startAgentNode } from '../lib/agent-node.mjs';

describe('agent node: endpoint faults', () => {
  let agent;

  before(async () => {
    agent = await startAgentNode('agent-node-faults');
  });

  after(async () => {
    if (agent) await agent.stop();
  });

  // [mode, delay, log, calls: for a transient fault, how many calls it allows]
  const faults = [
    ['error', undefined, 'endpoint answered with status 500', [2]],
    ['malformed', undefined, 'malformed response', null],
    ['oversized', undefined, 'response body over the size limit', null],
    ['wrong-model', undefined, 'response for another model', null],
    // The first call times out at the time left, near the deadline: a second may find none.
    ['slow', 20_000, 'endpoint timed out', [1, 2]],
    ['hangup', undefined, 'endpoint unreachable', [2]],
  ];
  for (const [mode, delayMs, expectedLog, calls] of faults) {
    const how = calls ? 'called once more' : 'logged once';
    test(`endpoint fault "${mode}": ${how}, the task expires and is refunded`, async () => {
      await agent.server.setFault(mode, delayMs);
      try {
        await agent.faultExpires(expectedLog, { retried: !!calls, calls: calls ?? undefined });
      } finally {
        await agent.server.setFault('honest');
      }
    });
  }
});
