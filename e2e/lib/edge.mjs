// The edge agent (`agentchain agent run`) as a child process of a test: its JSON events, read as
// they come, and waits on them.
import { spawn } from 'node:child_process';
import { cliBinary } from './cli.mjs';

/**
 * Starts `agentchain agent run` with `args` against the node at `url` (`name` names it in
 * errors); returns { events, waitFor, kill, stop }: `events` the JSON lines it printed so far,
 * `waitFor(predicate)` the first one (past or future) that matches.
 */
export function startEdge(name, url, args) {
  const child = spawn(cliBinary(), ['--url', url, '--json', 'agent', 'run', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events = [];
  const waiters = [];
  let exited = null;
  let stderr = '';
  let buffered = '';
  child.stdout.on('data', (chunk) => {
    buffered += chunk.toString();
    let newline;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      let event;
      try { event = JSON.parse(line); } catch { continue; }
      events.push(event);
      for (const waiter of [...waiters]) {
        if (waiter.predicate(event)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(event);
        }
      }
    }
  });
  child.stderr.on('data', (chunk) => { stderr += chunk.toString(); });
  child.on('error', (error) => { stderr += `spawn failed: ${error.message}`; });
  child.on('exit', (code, signal) => {
    exited = { code, signal };
    for (const waiter of waiters.splice(0)) {
      waiter.reject(new Error(`${name} exited (${JSON.stringify(exited)}): ${stderr}`));
    }
  });
  const waitFor = (predicate, { timeoutMs = 120_000, what = 'event' } = {}) => {
    const seen = events.find(predicate);
    if (seen) return Promise.resolve(seen);
    if (exited) return Promise.reject(new Error(`${name} exited: ${stderr}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const at = waiters.indexOf(waiter);
        if (at >= 0) {
          waiters.splice(at, 1);
          reject(new Error(`${name}: no ${what} within ${timeoutMs} ms; events: ${JSON.stringify(events.slice(-20))}; stderr: ${stderr}`));
        }
      }, timeoutMs);
      const waiter = {
        predicate,
        resolve: (event) => { clearTimeout(timer); resolve(event); },
        reject: (error) => { clearTimeout(timer); reject(error); },
      };
      waiters.push(waiter);
    });
  };
  const signal = async (sig) => {
    if (exited) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill(sig);
    await gone;
  };
  const edge = {
    events, waitFor, kill: () => signal('SIGKILL'), stop: () => signal('SIGTERM'),
    get exited() { return exited; }, get stderr() { return stderr; },
  };
  return edge;
}
