#!/usr/bin/env node
// Thin launcher: keep it tiny so `paude --version` stays fast.
import module from 'node:module';

// Compiled code is cached between runs (in the OS temp dir): a third off every command's start.
module.enableCompileCache?.();

// `paude ui` runs for hours: it is started again in a node with the flags it needs (see
// node-flags.js), in the same terminal; this process only waits and passes on its end.
const { UI_NODE_FLAGS } = process.argv[2] === 'ui' ? await import('./node-flags.js') : { UI_NODE_FLAGS: [] };
if (UI_NODE_FLAGS.some((flag) => !process.execArgv.includes(flag))) {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [...UI_NODE_FLAGS, ...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' });
  // The terminal sends ^C and ^\ to both: the dashboard decides. The others are passed on.
  for (const signal of ['SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => signal !== 'SIGINT' && signal !== 'SIGQUIT' && child.kill(signal));
  const [code, signal] = await new Promise((resolve) => {
    child.on('exit', (c, s) => resolve([c, s]));
    child.on('error', (error) => {
      process.stderr.write(`paude: could not start the dashboard: ${error.message}\n`);
      resolve([1, null]);
    });
  });
  const { constants } = await import('node:os');
  process.exit(code ?? 128 + (constants.signals[signal] ?? 1));
}
// One bundle (scripts/bundle.mjs): a third of a short command's time went to loading modules.
const { main } = await import('../dist/bundle/main.js');

// `paude ... | head` closes the pipe early; that is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}
process.exitCode = await main(process.argv.slice(2));
