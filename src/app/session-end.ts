/**
 * Ending sessions, written once for `paude stop`, `paude rm`, `paude gc` and the dashboard: the
 * command ends first, the end is recorded (how, exit code, tokens, what the session did that is
 * not recorded yet), the protected paths are looked at once more, and what was moved to the
 * quarantine is recorded. While a front end ends a session it holds the session's `stopper`
 * owner file, so the keeper leaves recording the end to it instead of racing it with "exited".
 * Nothing here prints: progress of a remote session's copy back goes to the given stream.
 */
import { existsSync } from 'node:fs';
import { Writable } from 'node:stream';
import type { AuditLog } from '../audit/audit-log.js';
import { hookSpoolOf, recordQuarantined, settleSession } from '../audit/audit-service.js';
import { loadConfig } from '../config/load-config.js';
import { faultPoint } from '../faults.js';
import { claimOwner, releaseOwner } from '../sessions/owner.js';
import type { SessionService, SessionStatus, SessionView } from '../sessions/session-service.js';
import { rm } from 'node:fs/promises';
import { ExitCode, PaudeError } from '../errors.js';
import { removeStrayWrites } from '../fs/stray-writes.js';
import { sessionDir } from '../sessions/session-record.js';

export interface EndDeps {
  service: SessionService;
  audit: AuditLog | undefined;
  env: NodeJS.ProcessEnv;
}

/** Statuses in which a session's command may still run. */
export const LIVE_STATUSES: ReadonlySet<SessionStatus> = new Set<SessionStatus>(['running', 'attached', 'detached', 'degraded', 'starting']);

/** Stops a session (SIGHUP, then SIGKILL after `graceSeconds`), keeping its state; returns what was quarantined. */
export function stopSession(deps: EndDeps, view: SessionView, graceSeconds = 5): Promise<string[]> {
  return ending(deps, view, async () => {
    const moved = await deps.service.stop(view, graceSeconds);
    await settle(deps, view, 'stopped');
    faultPoint('stop.settled');
    return moved;
  });
}

export interface RemoveOptions {
  /** How the end is recorded when the session was still live ("removed", "stopped and removed"). */
  how?: string;
  /** A remote session's workspace is the only copy of its work: it is brought back first, unless discarded. */
  discard?: boolean;
  /** Where the copy back reports its progress. */
  progress?: NodeJS.WritableStream;
}

/** Ends (at once), records and removes a session: containers, volumes, metadata. */
export async function removeSession(deps: EndDeps, view: SessionView, options: RemoveOptions = {}): Promise<string[]> {
  if (view.backendHandle?.remote && view.record && !options.discard) {
    const { pullWorkspace } = await import('../sync/session-sync.js');
    const { service } = deps;
    const sink = options.progress ?? discardingStream();
    await pullWorkspace(view.backendHandle, view.id, view.record.projectRoot, sessionDir(service.paths.sessionsDir, view.id), service.paths.dataDir, await syncSkipFor(view.record.projectRoot, deps.env), sink);
  }
  return ending(deps, view, async () => {
    await deps.service.end(view);
    await settle(deps, view, options.how ?? 'removed');
    faultPoint('rm.settled');
    const moved = await deps.service.remove(view);
    // What the last look before the removal moved (after the settling above).
    await recordQuarantined(deps.audit, deps.service.paths, view.id).catch(() => undefined);
    return moved;
  });
}

/** Removes what `paude gc` found (sessions in error, or stopped ones): recorded, then removed. */
export async function collectSession(deps: EndDeps, view: SessionView): Promise<void> {
  await settle(deps, view, 'removed by gc');
  faultPoint('gc.settled');
  await deps.service.remove(view);
}

export interface Garbage {
  /** Sessions in error (and stopped ones when asked), with why each is garbage. */
  sessions: Array<{ id: string; why: string }>;
  /** Session directories no engine has a session for. */
  directories: string[];
  /** Engines that did not answer: their sessions' leftovers are kept until they do. */
  unreachable: string[];
}

/**
 * `paude gc`: sessions in error (and stopped ones with `stopped`), and session directories no
 * engine knows; each recorded, then removed, unless `deps` is absent (a dry run). Nothing that
 * answered is one sentence: nothing can be told garbage from a live session then.
 */
export async function collectGarbage(service: SessionService, deps: EndDeps | undefined, options: { stopped?: boolean }): Promise<Garbage> {
  const { sessions, directories, unreachable, reached } = await service.garbage({ stopped: options.stopped });
  if (reached === 0 && unreachable[0]) throw new PaudeError(unreachable[0], ExitCode.engine);
  const out: Garbage = { sessions: [], directories, unreachable };
  for (const s of sessions) {
    if (deps) await collectSession(deps, s);
    out.sessions.push({ id: s.id, why: s.status === 'stopped' ? `stopped${s.detail ? `, ${s.detail}` : ''}` : (s.detail ?? 'in error') });
  }
  if (deps) {
    for (const dir of directories) await rm(dir, { recursive: true, force: true });
    // Half-done writes of paude processes that were killed (never read; not worth a line).
    await removeStrayWrites(service.paths.dataDir);
  }
  return out;
}

/** The paths that never come back from a remote session (protected, isolated, .claude), per its project's configuration. */
export async function syncSkipFor(root: string, env: NodeJS.ProcessEnv, fallbackCwd = process.cwd()): Promise<string[]> {
  const { neverSyncedBack } = await import('../sync/session-sync.js');
  const resolved = await loadConfig({ cwd: root, env, trust: 'ignore' }).catch(() => loadConfig({ cwd: fallbackCwd, env, trust: 'ignore' }));
  return neverSyncedBack(resolved.config);
}

/** Records what the session did that is not recorded yet, and its end, before it goes. */
async function settle(deps: EndDeps, view: SessionView, how: string): Promise<void> {
  const info = view.backendHandle ? await view.backendHandle.inspect(view.id).catch(() => undefined) : undefined;
  await settleSession(
    deps.audit,
    deps.service.paths,
    view.id,
    { exitCode: info?.exitCode ?? view.exitCode ?? null, ...(view.started ? { startedAt: view.started } : {}), how },
    hookSpoolOf(view.backendHandle, view.id),
  ).catch(() => undefined);
}

/** Runs `work` holding the session's stopper owner file (the keeper then leaves the end to us). */
async function ending<T>(deps: EndDeps, view: SessionView, work: () => Promise<T>): Promise<T> {
  const dir = sessionDir(deps.service.paths.sessionsDir, view.id);
  const claimed = existsSync(dir);
  if (claimed) await claimOwner(dir, 'stopper');
  try {
    return await work();
  } finally {
    if (claimed) await releaseOwner(dir, 'stopper');
  }
}

function discardingStream(): NodeJS.WritableStream {
  return new Writable({ write: (_chunk, _encoding, done) => done() });
}
