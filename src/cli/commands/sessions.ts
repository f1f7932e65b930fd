/** paude sessions: every session the engines know of, with what paude remembers about it. */
import { loadConfig } from '../../config/load-config.js';
import { SessionService, type SessionView } from '../../sessions/session-service.js';
import { ExitCode, PaudeError } from '../../errors.js';
import type { CliContext } from '../program.js';

/** A session as `paude sessions --json` prints it: the view without the handles. */
export type SessionRow = Omit<SessionView, 'endpoint' | 'record' | 'summary' | 'backendHandle'>;

export async function sessionService(ctx: CliContext): Promise<SessionService> {
  const resolved = await loadConfig({ cwd: ctx.cwd, env: ctx.env, trust: 'ignore' });
  return new SessionService(resolved.paths, resolved.config.backend, ctx.env);
}

export async function sessions(ctx: CliContext, opts: { json?: boolean; all?: boolean }): Promise<void> {
  const service = await sessionService(ctx);
  const list = await service.list();
  // No engine answered at all: "no sessions" would be a guess.
  if (list.reached === 0 && list.unreachable[0]) throw new PaudeError(list.unreachable[0], ExitCode.engine);
  for (const w of list.warnings) ctx.stderr.write(`paude: warning: ${w}\n`);
  for (const u of list.unreachable) ctx.stderr.write(`paude: warning: ${u}; its sessions are not listed\n`);
  const shown = list.sessions.filter((s) => opts.all || s.status !== 'stopped');
  const rows: SessionRow[] = shown.map(({ endpoint: _e, record: _r, summary: _s, backendHandle: _b, ...row }) => row);
  if (opts.json) {
    ctx.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return;
  }
  const hidden = list.sessions.length - shown.length;
  const more = hidden ? ` (${hidden} stopped: paude sessions --all)` : '';
  if (rows.length === 0) {
    ctx.stdout.write(`no sessions${more}\n`);
    return;
  }
  const header = ['ID', 'STATUS', 'BACKEND', 'STARTED', 'WORKSPACE', 'NETWORK', 'BLOCKED', 'TOKENS'];
  const cells = rows.map((r) => [r.id, r.detail && r.status !== 'error' ? `${r.status} (${r.detail})` : r.status, r.backend, r.started ? ago(r.started) : '-', r.workspace ?? '-', r.network ?? '-', String(r.blocked), tokensText(r.tokens)]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  for (const line of [header, ...cells]) ctx.stdout.write(`${line.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()}\n`);
  for (const r of rows.filter((r) => r.status === 'error')) ctx.stdout.write(`${r.id}: ${r.detail ?? 'in error'}; paude gc removes it\n`);
  if (more) ctx.stdout.write(`${hidden} stopped session${hidden > 1 ? 's' : ''} not shown: paude sessions --all\n`);
}

/** "1.2k in / 340 out, $0.0123", or "-" before any telemetry arrived. */
export function tokensText(t: SessionRow['tokens']): string {
  if (!t) return '-';
  const n = (x: number): string => (x >= 1_000_000 ? `${(x / 1_000_000).toFixed(1)}M` : x >= 1000 ? `${(x / 1000).toFixed(1)}k` : String(Math.round(x)));
  return `${n(t.input + t.cacheRead + t.cacheCreation)} in / ${n(t.output)} out, $${t.costUsd.toFixed(4)}`;
}

export function ago(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} days ago`;
}
