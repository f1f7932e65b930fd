/** paude allow / deny / blocked / approvals / approve: the network policy from the command line. */
import { join } from 'node:path';
import { findProject, resolvePaths } from '../../config/paths.js';
import { UsageError } from '../../errors.js';
import type { HeldRequest } from '../../policy/approval-broker.js';
import { watchHeldRequests } from '../../app/held-requests.js';
import type { StoredScope } from '../../app/policy-service.js';
import { canonicalEntry, type PolicyEffect } from '../../policy/policy-stores.js';
import { isBlocked, type ProxyEvent } from '../../policy/proxy-event.js';
import { createProxyEventStreams, readOnce, type ProxyEventStreams } from '../../policy/proxy-event-stream.js';
import { ProxyStateDir } from '../../policy/proxy-state.js';
import { defaultSession, listSessionRecords, resolveSession, sessionDir, type SessionRecord } from '../../sessions/session-record.js';
import type { CliContext } from '../program.js';
import type { AuditLog } from '../../audit/audit-log.js';
import { flushSinks, openAuditLog } from '../../audit/audit-service.js';
import { answerHeld, answerWaiting, changePolicy as changePolicyOnce, heldRequests, lastRefused, type PolicyDeps } from '../../app/network-policy.js';
import { loadConfig } from '../../config/load-config.js';
import { quote } from '../../errors.js';

export interface ScopeFlags {
  session?: string;
  project?: boolean;
  global?: boolean;
  once?: boolean;
}

function scopeOf(flags: ScopeFlags): StoredScope | 'once' {
  const chosen = [flags.project && 'project', flags.global && 'global', flags.once && 'once'].filter(Boolean);
  if (chosen.length > 1) throw new UsageError(`choose one scope, not ${chosen.join(' and ')}`);
  return (chosen[0] as 'project' | 'global' | 'once' | undefined) ?? 'session';
}

async function sessions(ctx: CliContext): Promise<{ records: SessionRecord[]; paths: ReturnType<typeof resolvePaths> }> {
  const paths = resolvePaths(ctx.env);
  const { records, warnings } = await listSessionRecords(paths.sessionsDir);
  for (const w of warnings) ctx.stderr.write(`paude: warning: ${w}\n`);
  return { records, paths };
}

function pick(ctx: CliContext, records: SessionRecord[], ref: string | undefined): SessionRecord {
  return ref ? resolveSession(records, ref) : defaultSession(records, findProject(ctx.cwd).root);
}

function stateOf(sessionsDir: string, id: string): ProxyStateDir {
  return new ProxyStateDir(join(sessionDir(sessionsDir, id), 'proxy'));
}

export async function changePolicy(ctx: CliContext, effect: PolicyEffect, host: string, flags: ScopeFlags): Promise<void> {
  const entry = canonicalEntry(host);
  const scope = scopeOf(flags);
  const { records } = await sessions(ctx);
  const deps = await depsFor(ctx);
  if (scope === 'once') {
    const session = pick(ctx, records, flags.session);
    const answered = await answerWaiting(deps, session, effect, entry);
    if (answered === 0) throw new UsageError(`no request to ${entry} is waiting in ${session.id}; --once answers a held request (see paude approvals)`);
    await flushSinks(deps.audit);
    ctx.stdout.write(`${effect === 'allow' ? 'allowed' : 'denied'} ${answered} waiting request${answered > 1 ? 's' : ''} to ${entry} in ${session.id}, once\n`);
    return;
  }
  const session = scope === 'session' || flags.session ? pick(ctx, records, flags.session) : undefined;
  const projectRoot = session?.projectRoot ?? findProject(ctx.cwd).root;
  const updated = await changePolicyOnce(deps, { effect, entry, scope, ...(session ? { session } : {}), projectRoot });
  await flushSinks(deps.audit);
  const where = scope === 'session' ? `for ${session?.id}` : scope === 'project' ? `for project ${projectRoot}` : 'globally';
  ctx.stdout.write(`${effect === 'allow' ? 'allowed' : 'denied'} ${entry} ${where}${updated.length ? `; in effect now in ${updated.join(', ')}` : ''}\n`);
  // Held requests the change decides are released by the proxy itself.
}

/** paude allow --last [SESSION]: the host of the latest request the session's proxy refused. */
export async function allowLast(ctx: CliContext, ref: string | undefined, flags: ScopeFlags): Promise<void> {
  if (flags.once) throw new UsageError('--last allows a host the proxy already refused, so nothing of it waits: leave out --once');
  if (ref !== undefined && flags.session !== undefined) throw new UsageError(`name the session once: ${quote(ref)} or --session ${quote(flags.session)}`);
  const { records, paths } = await sessions(ctx);
  const session = pick(ctx, records, ref ?? flags.session);
  const refused = await lastRefused(paths, session.id);
  if (!refused) throw new UsageError(`the proxy of ${session.id} has refused nothing yet (see paude blocked ${session.id})`);
  if (refused.byDenyRule) {
    throw new UsageError(`the latest request ${session.id} made that was refused, to ${refused.entry}, matched the deny entry ${quote(refused.rule)}, which beats any allow; take it out of the denylist where it was set`);
  }
  await changePolicy(ctx, 'allow', refused.entry, { ...flags, session: session.id });
}

export interface BlockedHost {
  host: string;
  port: number;
  count: number;
  last: number;
  rule: string;
  session: string;
}

/** A session's requests, read once through its proxy-event stream. */
function readEvents(streams: ProxyEventStreams, sessionsDir: string, id: string): Promise<ProxyEvent[]> {
  return readOnce((listener, options) => streams.subscribe({ session: id, accessLog: stateOf(sessionsDir, id).accessLog }, listener, options));
}

export async function blocked(ctx: CliContext, ref: string | undefined, opts: { json?: boolean }): Promise<void> {
  const { records, paths } = await sessions(ctx);
  const chosen = ref ? [resolveSession(records, ref)] : records;
  const streams = createProxyEventStreams();
  const byHost = new Map<string, BlockedHost>();
  for (const r of chosen) {
    for (const e of await readEvents(streams, paths.sessionsDir, r.id)) {
      if (!isBlocked(e)) continue;
      const key = `${r.id} ${e.host}:${e.port}`;
      const b = byHost.get(key) ?? { host: e.host, port: e.port, count: 0, last: 0, rule: e.rule, session: r.id };
      b.count++;
      if (e.time >= b.last) {
        b.last = e.time;
        b.rule = e.rule;
      }
      byHost.set(key, b);
    }
  }
  const rows = [...byHost.values()].sort((a, b) => b.last - a.last);
  if (opts.json) {
    ctx.stdout.write(`${JSON.stringify(rows.map((r) => ({ ...r, last: new Date(r.last).toISOString() })), null, 2)}\n`);
    return;
  }
  if (rows.length === 0) {
    ctx.stdout.write(chosen.length ? 'nothing blocked\n' : 'no session is running\n');
    return;
  }
  ctx.stdout.write(table(['SESSION', 'HOST', 'PORT', 'COUNT', 'LAST', 'WHY'], rows.map((r) => [r.session, r.host, String(r.port), String(r.count), new Date(r.last).toLocaleTimeString(), r.rule])));
}

export async function approvals(ctx: CliContext, opts: { json?: boolean; watch?: boolean }): Promise<void> {
  const { records, paths } = await sessions(ctx);
  const all = async (): Promise<HeldRequest[]> => (await Promise.all(records.map((r) => heldRequests(paths, r.id)))).flat();
  if (!opts.watch) {
    const held = await all();
    if (opts.json) ctx.stdout.write(`${JSON.stringify(held.map((h) => ({ ...h, since: new Date(h.since).toISOString() })), null, 2)}\n`);
    else if (held.length === 0) ctx.stdout.write('no request is waiting\n');
    else ctx.stdout.write(table(['ID', 'SESSION', 'HOST', 'PORT', 'METHOD', 'WAITING'], held.map((h) => [h.id, h.session, h.host, String(h.port), h.method, `${Math.round((Date.now() - h.since) / 1000)}s`])));
    return;
  }
  // --watch: be the one who is asked, until interrupted, in the sessions there are and in those
  // that start meanwhile (present everywhere, so that their first request is held too).
  const seen = new Set<string>();
  let ids = records.map((r) => r.id);
  const refresh = setInterval(() => void listSessionRecords(paths.sessionsDir).then((listed) => (ids = listed.records.map((r) => r.id)), () => undefined), 1000);
  refresh.unref();
  const watch = watchHeldRequests(
    paths.sessionsDir,
    () => ids,
    (held) => {
      for (const h of held) {
        if (seen.has(h.id)) continue;
        seen.add(h.id);
        const line = { ...h, since: new Date(h.since).toISOString() };
        ctx.stdout.write(opts.json ? `${JSON.stringify(line)}\n` : `waiting: ${h.id} ${h.session} ${h.method} ${h.host}:${h.port} (answer with: paude approve ${h.id} [--scope once|session|project|global] [--deny])\n`);
      }
    },
    { everywhere: paths.watchersDir },
  );
  await watch.ready;
  const now = records.length === 0 ? '' : `${records.length} session${records.length > 1 ? 's' : ''} and `;
  ctx.stderr.write(`watching ${now}every session that starts for held requests; Ctrl-C to stop\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  clearInterval(refresh);
  await watch.stop();
}

export async function approve(ctx: CliContext, id: string, opts: { scope?: string; deny?: boolean }): Promise<void> {
  const scope = opts.scope ?? 'once';
  if (scope !== 'once' && scope !== 'session' && scope !== 'project' && scope !== 'global') throw new UsageError(`--scope must be once, session, project or global, not ${quote(scope)}`);
  const { records, paths } = await sessions(ctx);
  for (const r of records) {
    const held = (await heldRequests(paths, r.id)).find((h) => h.id === id);
    if (!held) continue;
    const effect: PolicyEffect = opts.deny ? 'deny' : 'allow';
    const deps = await depsFor(ctx);
    const done = await answerHeld(deps, r, held, { effect, scope });
    await flushSinks(deps.audit);
    ctx.stdout.write(`${effect === 'allow' ? 'allowed' : 'denied'} ${held.host}:${held.port} for ${r.id} (${scope}${done.entry ? `: ${done.entry}` : ''})\n`);
    return;
  }
  throw new UsageError(`no held request ${quote(id)} in any running session (it may have timed out); see paude approvals`);
}

/** The application layer's policy dependencies, with the audit log of the global configuration. */
async function depsFor(ctx: CliContext): Promise<PolicyDeps> {
  return { paths: resolvePaths(ctx.env), audit: await auditFor(ctx), env: ctx.env, from: 'cli' };
}

/** The audit log of the global configuration (audit.sinks), if it has a file sink. */
async function auditFor(ctx: CliContext): Promise<AuditLog | undefined> {
  const resolved = await loadConfig({ cwd: ctx.cwd, env: ctx.env, trust: 'ignore' });
  return openAuditLog(resolved);
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}
