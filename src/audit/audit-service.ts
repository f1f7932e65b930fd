/**
 * Recording a session's story: its start and end, policy changes and approvals (who, scope,
 * from where) and the proxy's requests. Producers call these; the file sink is the audit log
 * (audit.sinks in the global paude.json; the file sink's `path` is a directory).
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { ResolvedConfig } from '../config/load-config.js';
import { sessionDir } from '../sessions/session-record.js';
import { actor, AUDIT_VERSION, type AuditEvent } from './audit-event.js';
import { AuditLog, DEFAULT_LIMITS } from './audit-log.js';
import { SpoolSink, webhookSender } from './webhook.js';
import { DEFAULT_SYSLOG, syslogSender } from './syslog.js';
import { readTokenTotals } from '../telemetry/relay.js';
import { readTar, type TarSource } from '../fs/tar.js';
import { catchUpFiles } from './file-watch.js';
import { quarantineDir, readQuarantineJournal } from '../workspace/protected-guard.js';

type Paths = ResolvedConfig['paths'];

/**
 * The audit log as configured: the file sink is where events are kept (and the spool of the
 * other sinks); a webhook sink is delivered to after each write, in the background. Without a
 * file sink a webhook still gets events, spooled in DATA/audit.
 */
export function openAuditLog(resolved: Pick<ResolvedConfig, 'paths' | 'config'>): AuditLog | undefined {
  const sinks = resolved.config.audit.sinks;
  const file = sinks.find((s) => s.type === 'file');
  const others = sinks.filter((s) => s.type !== 'file');
  if (!file && others.length === 0) return undefined;
  const dir = (file?.type === 'file' ? file.path : undefined) ?? join(resolved.paths.dataDir, 'audit');
  const webhooks = others.flatMap((h) =>
    h.type === 'webhook'
      ? [new SpoolSink(dir, h.url, webhookSender({ url: h.url, ...(h.headers ? { headers: h.headers } : {}) }))]
      : h.type === 'syslog'
        ? [new SpoolSink(dir, `syslog:${h.address ?? DEFAULT_SYSLOG}`, syslogSender(h.address ?? DEFAULT_SYSLOG, h.facility ?? 'local0'))]
        : [],
  );
  const limits = file?.type === 'file' ? { maxBytes: file.maxBytes ?? DEFAULT_LIMITS.maxBytes, maxFiles: file.maxFiles ?? DEFAULT_LIMITS.maxFiles } : DEFAULT_LIMITS;
  const log = new AuditLog(dir, limits, webhooks.length ? () => webhooks.forEach((w) => void w.deliver()) : undefined);
  sinksOf.set(log, webhooks);
  return log;
}

const sinksOf = new WeakMap<AuditLog, SpoolSink[]>();

/** Waits (at most `ms`) for the webhooks to take what is pending; never throws. */
export async function flushSinks(log: AuditLog | undefined, ms = 3000): Promise<void> {
  const hooks = log ? (sinksOf.get(log) ?? []) : [];
  if (hooks.length === 0) return;
  await Promise.race([Promise.all(hooks.map((h) => h.deliver())), new Promise((r) => setTimeout(r, ms).unref())]);
}

const now = (): string => new Date().toISOString();
export const who = (env: NodeJS.ProcessEnv): string => actor(env, hostname());

export async function recordSessionStart(
  log: AuditLog | undefined,
  s: { id: string; workspace: string; backend: string; endpoint: string; image: string; command: string[]; mode: string; allow: Array<{ text: string; source: string }>; deny: Array<{ text: string; source: string }> },
  env: NodeJS.ProcessEnv,
): Promise<void> {
  await log?.append([
    {
      v: AUDIT_VERSION,
      id: `${s.id}:start`,
      ts: now(),
      session_id: s.id,
      event: 'session.start',
      source: 'host',
      data: { user: who(env), workspace: s.workspace, backend: s.backend, endpoint: s.endpoint, image: s.image, command: s.command, network_mode: s.mode, allow: s.allow, deny: s.deny },
    },
  ]);
}

/**
 * Brings a session's record up to date: the proxy's requests not recorded yet (from its access
 * log, exactly once), and its end when it has ended. Safe to call again: ids make it idempotent.
 */
export const HOOK_SPOOL = '/home/paude/.paude-audit/hooks.jsonl';

/** Claude Code hooks (added to the container's copy of settings.json) that feed the spool. */
export const AUDIT_HOOKS = {
  PreToolUse: [{ matcher: '*', hooks: [{ type: 'command', command: '/usr/local/bin/paude-hook pre' }] }],
  PostToolUse: [{ matcher: '*', hooks: [{ type: 'command', command: '/usr/local/bin/paude-hook post' }] }],
};

export async function settleSession(
  log: AuditLog | undefined,
  paths: Paths,
  id: string,
  end?: { exitCode: number | null; startedAt?: string; how: string },
  /** Reads the agent's hook spool (through the backend), when the agent's storage is still there. */
  hookSpool?: () => Promise<Buffer | undefined>,
): Promise<void> {
  if (!log) return;
  await log.backfillNetwork(id, join(sessionDir(paths.sessionsDir, id), 'proxy', 'log', 'access.log'));
  const spool = await hookSpool?.().catch(() => undefined);
  if (spool) await log.backfillHooks(id, spool);
  if (!end || (await log.has(id, `${id}:end`))) return;
  // A start killed before it was recorded (gc removing what it left) has no story to end.
  if (!(await log.hasEver(id, `${id}:start`))) return;
  // Workspace changes since the last look, when its keeper was not there to see them.
  await catchUpFiles(log, id, sessionDir(paths.sessionsDir, id)).catch(() => 0);
  await recordQuarantined(log, paths, id);
  const duration = end.startedAt ? Math.max(0, Date.now() - Date.parse(end.startedAt)) : 0;
  const t = await readTokenTotals(sessionDir(paths.sessionsDir, id));
  const tokens = t ? { tokens: { input: t.input, output: t.output, cache_read: t.cacheRead, cache_creation: t.cacheCreation, cost_usd: t.costUsd } } : {};
  await log.append([{ v: AUDIT_VERSION, id: `${id}:end`, ts: now(), session_id: id, event: 'session.end', source: 'host', data: { exit_code: end.exitCode, duration_ms: duration, how: end.how, ...tokens } }]);
}

/**
 * Records what the protected-path guard moved out of the session's workspace (its journal),
 * each move once: called when the session is settled, and by whoever checked once more after.
 */
export async function recordQuarantined(log: AuditLog | undefined, paths: Paths, id: string): Promise<void> {
  if (!log) return;
  const quarantine = quarantineDir(paths.dataDir, id);
  const moved = await readQuarantineJournal(quarantine);
  const events: AuditEvent[] = [];
  for (const [i, m] of moved.entries()) {
    const eventId = `${id}:quarantine:${i}`;
    if (await log.has(id, eventId)) continue;
    events.push({ v: AUDIT_VERSION, id: eventId, ts: m.at, session_id: id, event: 'quarantine', source: 'host', data: { path: m.path, moved_to: m.to } });
  }
  if (events.length) await log.append(events);
}

/** The proxy was found dead under a running agent: started again (`error` unset) or not. */
export async function recordProxyRestart(log: AuditLog | undefined, id: string, restarts: number, error?: string): Promise<void> {
  await log?.append([{ v: AUDIT_VERSION, id: `${id}:proxy:${randomUUID()}`, ts: now(), session_id: id, event: 'proxy.restart', source: 'host', data: { ok: error === undefined, restarts, ...(error === undefined ? {} : { error }) } }]);
}

export async function recordPolicyChange(log: AuditLog | undefined, c: { session?: string; effect: 'allow' | 'deny'; entry: string; scope: string; sessions: string[]; from: string }, env: NodeJS.ProcessEnv): Promise<void> {
  const event: AuditEvent = { v: AUDIT_VERSION, id: randomUUID(), ts: now(), session_id: c.scope === 'session' ? (c.session ?? '') : '', event: 'policy.change', source: 'host', data: { who: who(env), from: c.from, effect: c.effect, entry: c.entry, scope: c.scope, sessions: c.sessions } };
  await log?.append([event]);
}

export async function recordApproval(
  log: AuditLog | undefined,
  a: { session: string; request: string; host: string; port: number; decision: 'allow' | 'deny'; scope: string; from: string },
  env: NodeJS.ProcessEnv,
): Promise<void> {
  await log?.append([
    { v: AUDIT_VERSION, id: `${a.session}:approval:${a.request}`, ts: now(), session_id: a.session, event: 'approval', source: 'host', data: { who: who(env), from: a.from, decision: a.decision, scope: a.scope, host: a.host, port: a.port, request: a.request } },
  ]);
}

/** The hook spool of a session's agent, read through the backend (also after the agent ended). */
export function hookSpoolOf(backend: { copyFromAgent(id: string, path: string): Promise<TarSource> } | undefined, id: string): (() => Promise<Buffer | undefined>) | undefined {
  if (!backend) return undefined;
  return async () => {
    const entries = await readTar(await backend.copyFromAgent(id, HOOK_SPOOL));
    return entries.find((e) => e.type === 'file')?.content;
  };
}
