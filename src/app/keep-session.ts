/**
 * The keeper use case (`paude _keeper ID`, started for a detached session): looks after the
 * session on this host through its session host (guard, proxy supervisor, relay, file watch,
 * client reaper) until its command ends, then settles it in the audit log, unless a paude stop
 * or rm is ending it (that one records the end itself, app/session-end.ts).
 */
import { join } from 'node:path';
import { flushSinks, hookSpoolOf, openAuditLog, recordProxyRestart, recordQuarantined, settleSession } from '../audit/audit-service.js';
import { BackendRegistry } from '../backends/registry.js';
import type { ResolvedConfig } from '../config/load-config.js';
import { PaudeError } from '../errors.js';
import { keepSession } from '../sessions/keeper.js';
import { liveOwner } from '../sessions/owner.js';
import { SessionHost } from '../sessions/session-host.js';
import { readSessionRecord, sessionDir } from '../sessions/session-record.js';
import { otelEnvironment } from '../telemetry/otel-env.js';

export async function keepDetachedSession(resolved: ResolvedConfig, id: string, env: NodeJS.ProcessEnv, report: (line: string) => void): Promise<void> {
  const record = await readSessionRecord(resolved.paths.sessionsDir, id);
  if (!record) throw new PaudeError(`no record of session ${id}`);
  const backend = await new BackendRegistry({ config: resolved.config.backend, env }).connect(record.endpoint, record.backend);
  const audit = openAuditLog(resolved);
  const dir = sessionDir(resolved.paths.sessionsDir, id);
  // A local session's telemetry relay lives here while the session is detached.
  const forward = otelEnvironment(resolved.config, env, { id, workspace: record.projectRoot, backend: record.backend, networkMode: record.policy.mode }, true).forward;
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
  await keepSession(host, backend, record, dir, async (code) => {
    if ((await liveOwner(dir, 'stopper')) !== undefined) return;
    await settleSession(audit, resolved.paths, id, { exitCode: code, startedAt: record.startedAt, how: code === 124 ? 'idle timeout' : 'exited' }, hookSpoolOf(backend, id));
  });
  // What its guard moved at the very end (after the settling above).
  await recordQuarantined(audit, resolved.paths, id).catch(() => undefined);
  await flushSinks(audit, 10_000);
}
