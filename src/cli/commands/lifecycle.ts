/** paude attach / stop / rm / gc, and the hidden _keeper a detached session runs on the host. */
import { BackendRegistry } from '../../backends/registry.js';
import { findProject, resolvePaths } from '../../config/paths.js';
import { ExitCode, PaudeError, UsageError } from '../../errors.js';
import { keepSession } from '../../sessions/keeper.js';
import { quickView, type SessionService, type SessionView } from '../../sessions/session-service.js';
import { readSessionRecord, sessionDir } from '../../sessions/session-record.js';
import { loadConfig } from '../../config/load-config.js';
import { flushSinks, hookSpoolOf, openAuditLog, recordProxyRestart, recordQuarantined, settleSession } from '../../audit/audit-service.js';
import { SessionHost } from '../../sessions/session-host.js';
import { otelEnvironment } from '../../telemetry/otel-env.js';
import { join } from 'node:path';
import type { CliContext } from '../program.js';
import { sessionService } from './sessions.js';
import { attachSession } from '../../app/attach-session.js';
import { collectSession, LIVE_STATUSES, removeSession, stopSession, syncSkipFor, type EndDeps } from '../../app/session-end.js';
import { liveOwner } from '../../sessions/owner.js';
import { removeStrayWrites } from '../../fs/stray-writes.js';
import { quote } from '../../errors.js';

const short = (id: string): string => id.slice('paude-'.length);

/** The named session, or the only active one in this project (else the only active one). */
async function choose(service: SessionService, ctx: CliContext, ref: string | undefined): Promise<SessionView> {
  if (ref) return service.find(ref);
  const active = (await service.list({ clients: false })).sessions.filter((s) => s.status !== 'stopped' && s.status !== 'error');
  const root = findProject(ctx.cwd).root;
  const here = active.filter((s) => s.workspace === root);
  const pool = here.length ? here : active;
  if (pool.length === 1 && pool[0]) return pool[0];
  if (pool.length === 0) throw new PaudeError('no session is running; start one with paude (or paude --detach)');
  throw new UsageError(`several sessions are running (${pool.map((s) => s.id).join(', ')}); name one`);
}

export async function attach(ctx: CliContext, ref: string | undefined): Promise<number> {
  const stdout = ctx.stdout as NodeJS.WriteStream;
  if (!(ctx.stdin as { isTTY?: boolean }).isTTY || !stdout.isTTY) throw new UsageError('paude attach needs a terminal (stdin and stdout); use paude sessions to look at sessions from scripts');
  // By its record first: no configuration to load, no engines to look for.
  const paths = resolvePaths(ctx.env);
  const view = (ref ? await quickView(paths, ref) : undefined) ?? (await choose(await sessionService(ctx), ctx, ref));
  const outcome = await attachSession({ sessionsDir: paths.sessionsDir, env: ctx.env }, view, { stdin: ctx.stdin, stdout, stderr: ctx.stderr });
  if (outcome.kind === 'detached') {
    ctx.stderr.write(`paude: detached from ${view.id}, which goes on: paude attach ${short(view.id)} to return, paude stop ${short(view.id)} to end it\n`);
    return 0;
  }
  if (outcome.quarantined.length) ctx.stderr.write(`paude: the session created ${outcome.quarantined.join(', ')}, which paude protects; moved to the quarantine (see paude sessions)\n`);
  ctx.stderr.write(`paude: ${view.id} has ended (exit ${outcome.code}); paude rm ${short(view.id)} removes it\n`);
  return outcome.code;
}

export async function stop(ctx: CliContext, refs: string[], opts: { rm?: boolean; time?: string }): Promise<void> {
  const grace = opts.time === undefined ? 5 : Number(opts.time);
  if (!Number.isFinite(grace) || grace < 0) throw new UsageError(`--time expects seconds (a number >= 0), not ${quote(opts.time)}`);
  const service = await sessionService(ctx);
  const views = refs.length ? await Promise.all(refs.map((r) => service.find(r))) : [await choose(service, ctx, undefined)];
  const deps = await endDeps(ctx, service);
  // Side by side (each mostly waits for its engine: ten took ten times as long one by one); each
  // is reported in the order asked, and a failure after all have had their turn.
  const ends = await Promise.allSettled(
    views.map((view) => (opts.rm ? removeSession(deps, view, { how: 'stopped and removed', progress: ctx.stderr }) : stopSession(deps, view, grace)).then((moved) => ({ view, moved }))),
  );
  for (const end of ends) {
    if (end.status === 'rejected') continue;
    const { view, moved } = end.value;
    if (moved.length) ctx.stderr.write(`paude: ${view.id} had created ${moved.join(', ')} (protected); moved to the quarantine\n`);
    ctx.stdout.write(`${opts.rm ? 'removed' : 'stopped'} ${view.id}\n`);
  }
  await flushSinks(deps.audit);
  const failed = ends.find((e) => e.status === 'rejected');
  if (failed) throw failed.reason;
}

export async function remove(ctx: CliContext, refs: string[], opts: { force?: boolean; discard?: boolean }): Promise<void> {
  if (refs.length === 0) throw new UsageError('name the session(s) to remove (see paude sessions --all)');
  const service = await sessionService(ctx);
  const views = await Promise.all(refs.map((r) => service.find(r)));
  const live = views.filter((v) => LIVE_STATUSES.has(v.status));
  if (live.length && !opts.force) throw new UsageError(`${live.map((v) => v.id).join(', ')} ${live.length > 1 ? 'are' : 'is'} still running; paude stop it first, or paude rm --force`);
  const deps = await endDeps(ctx, service);
  for (const view of views) {
    await removeSession(deps, view, { discard: opts.discard === true, progress: ctx.stderr });
    ctx.stdout.write(`removed ${view.id}\n`);
  }
  await flushSinks(deps.audit);
}

async function endDeps(ctx: CliContext, service: SessionService): Promise<EndDeps> {
  return { service, audit: openAuditLog(await loadConfig({ cwd: ctx.cwd, env: ctx.env, trust: 'ignore' })), env: ctx.env };
}

export async function gc(ctx: CliContext, opts: { stopped?: boolean; dryRun?: boolean }): Promise<void> {
  const service = await sessionService(ctx);
  const { sessions, directories, unreachable, reached } = await service.garbage({ stopped: opts.stopped });
  // Nothing answered: nothing can be told garbage from a live session.
  if (reached === 0 && unreachable[0]) throw new PaudeError(unreachable[0], ExitCode.engine);
  for (const u of unreachable) ctx.stderr.write(`paude: warning: ${u}; its leftovers are kept until it answers\n`);
  const verb = opts.dryRun ? 'would remove' : 'removed';
  const deps = opts.dryRun ? undefined : await endDeps(ctx, service);
  for (const s of sessions) {
    if (deps) await collectSession(deps, s);
    ctx.stdout.write(`${verb} ${s.id} (${s.status === 'stopped' ? `stopped${s.detail ? `, ${s.detail}` : ''}` : s.detail ?? 'in error'})\n`);
  }
  for (const dir of directories) {
    if (!opts.dryRun) await import('node:fs/promises').then((fs) => fs.rm(dir, { recursive: true, force: true }));
    ctx.stdout.write(`${verb} ${dir} (metadata of a session that no engine has)\n`);
  }
  // Half-done writes of paude processes that were killed (never read; not worth a line).
  if (!opts.dryRun) await removeStrayWrites(service.paths.dataDir);
  if (sessions.length + directories.length === 0) ctx.stdout.write('nothing to remove\n');
  await flushSinks(deps?.audit);
}

/** `paude _keeper ID`: started by paude for a detached session (see sessions/keeper.ts). */
export async function keeper(ctx: CliContext, id: string): Promise<void> {
  const resolved = await loadConfig({ cwd: ctx.cwd, env: ctx.env, trust: 'ignore' });
  const record = await readSessionRecord(resolved.paths.sessionsDir, id);
  if (!record) throw new PaudeError(`no record of session ${id}`);
  const backend = await new BackendRegistry({ config: resolved.config.backend, env: ctx.env }).connect(record.endpoint, record.backend);
  const audit = openAuditLog(resolved);
  const dir = sessionDir(resolved.paths.sessionsDir, id);
  // A local session's telemetry relay lives here while the session is detached.
  const forward = otelEnvironment(resolved.config, ctx.env, { id, workspace: record.projectRoot, backend: record.backend, networkMode: record.policy.mode }, true).forward;
  const report = (line: string): boolean => ctx.stderr.write(`${new Date().toISOString()} paude: ${line}\n`);
  const host = new SessionHost(
    { id, backend, sessionDir: dir, dataDir: resolved.paths.dataDir, projectRoot: record.projectRoot, watched: record.watched ?? [], ...(record.gitModules ? { gitModules: record.gitModules } : {}) },
    {
      audit,
      unwatched: [...resolved.config.isolate, '.claude'],
      relay: { ...(forward ? { forward } : {}), spoolDir: join(resolved.paths.dataDir, 'otlp-spool') },
      reapClients: true,
      report,
      onProxyRestart: (restarts, error) => recordProxyRestart(audit, id, restarts, error),
    },
  );
  // The session's requests and its end go to the audit log when its command ends; a paude
  // stop/rm that is ending the session records its end itself (app/session-end.ts).
  await keepSession(host, backend, record, dir, async (code) => {
    if ((await liveOwner(dir, 'stopper')) !== undefined) return;
    await settleSession(audit, resolved.paths, id, { exitCode: code, startedAt: record.startedAt, how: code === 124 ? 'idle timeout' : 'exited' }, hookSpoolOf(backend, id));
  });
  // What its guard moved at the very end (after the settling above).
  await recordQuarantined(audit, resolved.paths, id).catch(() => undefined);
  await flushSinks(audit, 10_000);
}

function syncSkip(ctx: CliContext, root: string): Promise<string[]> {
  return syncSkipFor(root, ctx.env, ctx.cwd);
}

/** paude sync [SESSION] [--push] [--dry-run]: a remote session's workspace and this host's. */
export async function sync(ctx: CliContext, ref: string | undefined, opts: { push?: boolean; up?: boolean; down?: boolean; git?: boolean; dryRun?: boolean }): Promise<void> {
  if ((opts.push || opts.up) && opts.down) throw new UsageError('--down and --up (--push) go opposite ways: give one');
  const service = await sessionService(ctx);
  const view = await choose(service, ctx, ref);
  const backend = view.backendHandle;
  if (!backend) throw new PaudeError(`${view.id} is on ${view.endpoint}, which does not answer; start that engine and try again`);
  if (!backend.remote) {
    ctx.stdout.write(`${view.id} works on ${view.workspace ?? 'the workspace'} directly (a local engine mounts it): there is nothing to sync\n`);
    return;
  }
  const root = view.record?.projectRoot;
  if (!root) throw new PaudeError(`${view.id} has no record of its workspace; it cannot be synced`);
  const up = opts.push === true || opts.up === true;
  if (opts.git) {
    if (opts.dryRun) throw new UsageError('--dry-run is for the file sync; --git only adds branches, it never overwrites');
    const { gitPull, gitPush } = await import('../../sync/git-sync.js');
    const info = await backend.exec(view.id, ['id', '-u']).catch(() => undefined);
    const uid = Number(info?.stdout.trim() ?? '1000');
    const report = up ? await gitPush(backend, view.id, root, { uid, gid: uid }) : await gitPull(backend, view.id, root);
    ctx.stdout.write(report.updated.length ? `${report.updated.map((u) => `  ${u}`).join('\n')}\n` : `nothing new ${up ? 'to send' : 'from the session'}\n`);
    if (!up && report.updated.length) ctx.stdout.write(`paude: the session's branches are under paude/${view.id}/ (git log paude/${view.id}/<branch>; merge what you want)\n`);
    return;
  }
  const { pullWorkspace, pushWorkspace } = await import('../../sync/session-sync.js');
  const dir = sessionDir(service.paths.sessionsDir, view.id);
  const skip = await syncSkip(ctx, root);
  if (up) {
    const info = await backend.exec(view.id, ['id', '-u']).catch(() => undefined);
    const uid = Number(info?.stdout.trim() ?? '1000');
    await pushWorkspace(backend, view.id, root, dir, skip, { uid, gid: uid }, ctx.stdout, { dryRun: opts.dryRun });
  } else await pullWorkspace(backend, view.id, root, dir, service.paths.dataDir, skip, ctx.stdout, { dryRun: opts.dryRun });
}
