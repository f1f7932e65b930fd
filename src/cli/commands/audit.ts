/** paude audit [SESSION] [--since] [--event TYPE] [--follow] [--json]: the sessions' stories. */
import { AUDIT_EVENT_TYPES, type AuditEvent, type AuditEventType } from '../../audit/audit-event.js';
import { flushSinks, openAuditLog, settleSession } from '../../audit/audit-service.js';
import type { AuditPosition } from '../../audit/audit-reader.js';
import { loadConfig } from '../../config/load-config.js';
import { PaudeError, UsageError } from '../../errors.js';
import { quote } from '../../errors.js';
import { listSessionRecords } from '../../sessions/session-record.js';
import type { CliContext } from '../program.js';

export interface AuditFlags {
  since?: string;
  event?: string[];
  follow?: boolean;
  json?: boolean;
}

/** "30s", "15m", "2h", "7d" ago, or a date/time. */
export function parseSince(text: string, now = Date.now()): number {
  const rel = /^([0-9]+)(s|m|h|d)$/.exec(text);
  if (rel) return now - Number(rel[1]) * { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[rel[2] as 's' | 'm' | 'h' | 'd'];
  const at = Date.parse(text);
  if (Number.isNaN(at)) throw new UsageError(`--since expects a duration (30s, 15m, 2h, 7d) or a date/time (2026-11-27T08:00), not ${quote(text)}`);
  return at;
}

export function describe(e: AuditEvent): string {
  switch (e.event) {
    case 'session.start':
      return `started by ${e.data.user} in ${e.data.workspace} on ${e.data.backend} (${e.data.network_mode}): ${e.data.command.join(' ')}`;
    case 'session.end':
      return `ended (${e.data.how}${e.data.exit_code === null ? '' : `, exit ${e.data.exit_code}`}) after ${Math.round(e.data.duration_ms / 1000)} s${e.data.tokens ? `; tokens in ${e.data.tokens.input} out ${e.data.tokens.output}, $${e.data.tokens.cost_usd.toFixed(4)}` : ''}`;
    case 'policy.change':
      return `${e.data.effect} ${e.data.entry} at ${e.data.scope} scope by ${e.data.who} (${e.data.from})${e.data.sessions.length ? ` -> ${e.data.sessions.join(', ')}` : ''}`;
    case 'approval':
      return `${e.data.decision === 'allow' ? 'approved' : 'refused'} ${e.data.host}:${e.data.port} (${e.data.scope}) by ${e.data.who} (${e.data.from})`;
    case 'network':
      return `${e.data.decision.toUpperCase()} ${e.data.method} ${e.data.host}:${e.data.port} (${e.data.rule}) ${e.data.status} ${e.data.bytes} B`;
    case 'command':
      return `${e.data.phase === 'pre' ? 'runs' : e.data.failed ? 'failed' : 'ran'} ${e.data.tool}: ${e.data.what}${e.data.duration_ms === undefined ? '' : ` (${e.data.duration_ms} ms)`}`;
    case 'quarantine':
      return `moved ${e.data.path}, a protected path the session created, to ${e.data.moved_to}`;
    case 'proxy.restart':
      return e.data.ok ? `the proxy had died under the running agent; started again (restart ${e.data.restarts})` : `the proxy had died under the running agent and could not be started again: ${e.data.error ?? 'unknown error'}`;
    case 'file':
      return `${e.data.change} ${e.data.path}${e.data.size === undefined ? '' : ` (${e.data.size} B)`}${e.data.unwatched ? ` [while unwatched, at ${e.data.mtime ?? '?'}]` : ''}`;
  }
}

/** A session by id or unique prefix among those running and those the log remembers. */
export function pickSession(ref: string, ids: string[]): string {
  const wanted = ref.startsWith('paude-') ? ref : `paude-${ref}`;
  const matches = ids.filter((id) => id.startsWith(wanted));
  if (matches.includes(wanted)) return wanted;
  if (matches.length === 1 && matches[0]) return matches[0];
  if (matches.length > 1) throw new UsageError(`${quote(ref)} matches ${matches.join(', ')}; give more of the id`);
  throw new PaudeError(`the audit log knows no session ${quote(ref)}${ids.length ? ` (it knows ${ids.slice(-5).join(', ')}${ids.length > 5 ? ', ...' : ''})` : ''}`);
}

export async function audit(ctx: CliContext, ref: string | undefined, flags: AuditFlags): Promise<void> {
  const events = (flags.event ?? []).flatMap((e) => e.split(',')).filter(Boolean);
  for (const e of events) if (!AUDIT_EVENT_TYPES.includes(e as AuditEventType)) throw new UsageError(`--event ${quote(e)}: expected one of ${AUDIT_EVENT_TYPES.join(', ')}`);
  const since = flags.since ? parseSince(flags.since) : undefined;
  const resolved = await loadConfig({ cwd: ctx.cwd, env: ctx.env, trust: 'ignore' });
  const log = openAuditLog(resolved);
  if (!log) throw new PaudeError('audit.sinks in your global paude.json has no file sink; paude audit reads the file sink');
  const { records } = await listSessionRecords(resolved.paths.sessionsDir);
  const session = ref ? pickSession(ref, [...new Set([...records.map((r) => r.id), ...(await log.sessions())])]) : undefined;
  // Requests of sessions whose paude was not running (detached, crashed) are recorded first.
  const catchUp = async (): Promise<void> => {
    for (const r of records) if (!session || r.id === session) await settleSession(log, resolved.paths, r.id).catch(() => undefined);
  };
  const filter = { ...(session ? { session } : {}), ...(since !== undefined ? { since } : {}), ...(events.length ? { events: events as AuditEventType[] } : {}) };
  // Following, each look reads only what the files gained since the last one (a busy log is
  // not parsed again and again), rotations included.
  const position: AuditPosition = new Map();
  const print = async (): Promise<void> => {
    await catchUp();
    const read = flags.follow ? await log.readNew(position, filter) : await log.read(filter);
    for (const w of read.warnings) ctx.stderr.write(`paude: warning: ${w}\n`);
    for (const e of read.events) ctx.stdout.write(flags.json ? `${JSON.stringify(e)}\n` : `${e.ts}  ${(e.session_id || '-').padEnd(12)}  ${e.event.padEnd(13)}  ${e.source.padEnd(5)}  ${describe(e)}\n`);
  };
  await print();
  if (!flags.follow) return flushSinks(log);
  await new Promise<void>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    // The next look half a second after the last one ended: slow looks never overlap.
    const next = (): void => {
      timer = setTimeout(() => void print().catch(() => undefined).finally(() => stopped || next()), 500);
    };
    next();
    const stop = (): void => {
      stopped = true;
      clearTimeout(timer);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
