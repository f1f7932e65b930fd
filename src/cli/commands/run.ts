import { runSession } from '../../run/run-session.js';
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
  return runSession({
    cwd: ctx.cwd,
    env: ctx.env,
    flags: toOverrides(flags, ctx.env),
    command: flags.shell ? { kind: 'shell', command: args } : { kind: 'claude', args: claudeArgs },
    rebuild: flags.rebuild === true,
    stdio: { stdin: ctx.stdin, stdout: ctx.stdout, stderr: ctx.stderr },
    load: (f) => loadTrustedConfig(ctx, f),
    syncClaudeConfig: flags.syncClaudeConfig === true,
    detach: flags.detach === true,
    ...(isInteractive(ctx) ? { confirm: (q: string) => confirm(ctx, q) } : {}),
  });
}
