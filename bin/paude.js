#!/usr/bin/env node
// Thin launcher: keep it tiny so `paude --version` stays fast.
import module from 'node:module';

// Compiled code is cached between runs (in the OS temp dir): a third off every command's start.
module.enableCompileCache?.();
const { main } = await import('../dist/cli/main.js');

// `paude ... | head` closes the pipe early; that is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}
process.exitCode = await main(process.argv.slice(2));
