/** paude attach / stop / rm / gc / sync and the hidden _keeper: input in, text out; the use cases are in app/. */
import { findProject, resolvePaths } from '../../config/paths.js';
import { PaudeError, UsageError, quote } from '../../errors.js';
import { quickView, type SessionService, type SessionView } from '../../sessions/session-service.js';
import { loadConfig } from '../../config/load-config.js';
import { flushSinks, openAuditLog } from '../../audit/audit-service.js';
import type { CliContext } from '../program.js';
import { sessionService } from './sessions.js';
import { attachSession } from '../../app/attach-session.js';
import { keepDetachedSession } from '../../app/keep-session.js';
import { syncSession } from '../../app/sync-session.js';
import { collectGarbage, LIVE_STATUSES, removeSession, stopSession, type EndDeps } from '../../app/session-end.js';

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
  const deps = opts.dryRun ? undefined : await endDeps(ctx, service);
  const found = await collectGarbage(service, deps, { stopped: opts.stopped === true });
  for (const u of found.unreachable) ctx.stderr.write(`paude: warning: ${u}; its leftovers are kept until it answers\n`);
  const verb = opts.dryRun ? 'would remove' : 'removed';
  for (const s of found.sessions) ctx.stdout.write(`${verb} ${s.id} (${s.why})\n`);
  for (const dir of found.directories) ctx.stdout.write(`${verb} ${dir} (metadata of a session that no engine has)\n`);
  if (found.sessions.length + found.directories.length === 0) ctx.stdout.write('nothing to remove\n');
  await flushSinks(deps?.audit);
}

/** `paude _keeper ID`: started by paude for a detached session (see app/keep-session.ts). */
export async function keeper(ctx: CliContext, id: string): Promise<void> {
  const resolved = await loadConfig({ cwd: ctx.cwd, env: ctx.env, trust: 'ignore' });
  await keepDetachedSession(resolved, id, ctx.env, (line) => ctx.stderr.write(`${new Date().toISOString()} paude: ${line}\n`));
}

/** paude sync [SESSION] [--push] [--dry-run]: a remote session's workspace and this host's. */
export async function sync(ctx: CliContext, ref: string | undefined, opts: { push?: boolean; up?: boolean; down?: boolean; git?: boolean; dryRun?: boolean }): Promise<void> {
  if ((opts.push || opts.up) && opts.down) throw new UsageError('--down and --up (--push) go opposite ways: give one');
  const service = await sessionService(ctx);
  const view = await choose(service, ctx, ref);
  await syncSession({ paths: service.paths, env: ctx.env, cwd: ctx.cwd }, view, { up: opts.push === true || opts.up === true, git: opts.git === true, dryRun: opts.dryRun === true }, ctx.stdout);
}
