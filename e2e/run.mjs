// Runs test files as `node --test` does (each in its own process, `--concurrency` at a time, TAP
// on stdout, exit status 1 if a test failed), but starts them in the order given: `node --test`
// sorts its files by name, so that a long file sorting last would start last. Usage:
//   node run.mjs --concurrency N test/a.test.mjs test/b.test.mjs ...
import { run } from 'node:test';
import { tap } from 'node:test/reporters';
import { resolve } from 'node:path';

const args = process.argv.slice(2);
let concurrency = 1;
const files = [];
for (let i = 0; i < args.length; i += 1) {
  if (args[i] === '--concurrency') concurrency = Number(args[(i += 1)]);
  else if (args[i].startsWith('--concurrency=')) concurrency = Number(args[i].slice('--concurrency='.length));
  else files.push(resolve(args[i]));
}
if (!Number.isInteger(concurrency) || concurrency < 1 || files.length === 0) {
  console.error('usage: node run.mjs --concurrency N FILE...');
  process.exit(2);
}

const stream = run({ files, concurrency });
stream.on('test:fail', () => {
  process.exitCode = 1;
});
stream.compose(tap).pipe(process.stdout);
