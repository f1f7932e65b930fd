/** paude ui: the full-screen dashboard (src/ui), loaded only when asked for. */
import { UsageError } from '../../errors.js';
import { loadConfig } from '../../config/load-config.js';
import type { CliContext } from '../program.js';

export async function ui(ctx: CliContext, opts: { session?: string }): Promise<number> {
  const stdin = ctx.stdin as NodeJS.ReadStream;
  const stdout = ctx.stdout as NodeJS.WriteStream;
  if (!stdin.isTTY || !stdout.isTTY) throw new UsageError('paude ui needs a terminal; paude sessions, blocked and approvals work without one');
  const resolved = await loadConfig({ cwd: ctx.cwd, env: ctx.env, trust: 'ignore' });
  // React's production build: a third less memory and CPU than the development one (bench/ui-load).
  ctx.env.NODE_ENV ??= 'production';
  process.env.NODE_ENV ??= 'production';
  const { runDashboard } = await import('../../ui/run-dashboard.js');
  return runDashboard({ resolved, env: ctx.env, stdin, stdout, stderr: ctx.stderr as NodeJS.WriteStream, ...(opts.session ? { select: opts.session } : {}) });
}
