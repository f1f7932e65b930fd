import { runSession } from '../../app/start-session.js';
import { toOverrides, type ConfigFlags } from '../flags.js';
import { loadTrustedConfig } from '../load-trusted-config.js';
import { confirm, isInteractive } from '../prompt.js';
import type { CliContext } from '../program.js';

export interface RunFlags extends ConfigFlags {
  shell?: boolean;
  rebuild?: boolean;
  print?: string;
  syncClaudeConfig?: boolean;
  detach?: boolean;
}

/** `paude [ARGS]` runs Claude Code; `paude --shell [-- CMD]` a shell or CMD, in the same sandbox. */
export async function run(ctx: CliContext, args: string[], flags: RunFlags): Promise<number> {
  const claudeArgs = flags.print !== undefined ? ['-p', flags.print, ...args] : args;
  // The process's signals reach the session as interrupts; after one the terminal may be gone
  // (SIGHUP) and nothing else ends the process, so it exits with the session's code.
  let interrupted = false;
  const interrupts = (onInterrupt: (signal: NodeJS.Signals) => void): (() => void) => {
    const handler = (signal: NodeJS.Signals): void => {
      interrupted = true;
      onInterrupt(signal);
    };
    for (const signal of INTERRUPTS) process.on(signal, handler);
    return () => {
      for (const signal of INTERRUPTS) process.off(signal, handler);
    };
  };
  const code = await runSession({
    cwd: ctx.cwd,
    env: ctx.env,
    flags: toOverrides(flags, ctx.env),
    command: flags.shell ? { kind: 'shell', command: args } : { kind: 'claude', args: claudeArgs },
    rebuild: flags.rebuild === true,
    stdio: { stdin: ctx.stdin, stdout: ctx.stdout, stderr: ctx.stderr },
    load: (f) => loadTrustedConfig(ctx, f),
    syncClaudeConfig: flags.syncClaudeConfig === true,
    detach: flags.detach === true,
    interrupts,
    ...(isInteractive(ctx) ? { confirm: (q: string) => confirm(ctx, q) } : {}),
  });
  if (interrupted) process.exit(code);
  return code;
}

const INTERRUPTS: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGINT'];
