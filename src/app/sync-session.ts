/**
 * The sync use case (`paude sync`): a remote session's copy of the workspace and this host's,
 * either way, as files (with conflicts kept aside) or as git branches. A session on a local
 * engine works on the workspace itself: there is nothing to sync, which is said.
 */
import type { PaudePaths } from '../config/paths.js';
import { PaudeError, UsageError } from '../errors.js';
import type { SessionView } from '../sessions/session-service.js';
import { sessionDir } from '../sessions/session-record.js';
import { syncSkipFor } from './session-end.js';

export interface SyncOptions {
  /** Towards the session (--push / --up); else from it. */
  up: boolean;
  git: boolean;
  dryRun: boolean;
}

export interface SyncDeps {
  paths: PaudePaths;
  env: NodeJS.ProcessEnv;
  /** Where the configuration is read when the session's workspace has none. */
  cwd: string;
}

export async function syncSession(deps: SyncDeps, view: SessionView, opts: SyncOptions, out: NodeJS.WritableStream): Promise<void> {
  const backend = view.backendHandle;
  if (!backend) throw new PaudeError(`${view.id} is on ${view.endpoint}, which does not answer; start that engine and try again`);
  if (!backend.remote) {
    out.write(`${view.id} works on ${view.workspace ?? 'the workspace'} directly (a local engine mounts it): there is nothing to sync\n`);
    return;
  }
  const root = view.record?.projectRoot;
  if (!root) throw new PaudeError(`${view.id} has no record of its workspace; it cannot be synced`);
  const agentUser = async (): Promise<{ uid: number; gid: number }> => {
    const info = await backend.exec(view.id, ['id', '-u']).catch(() => undefined);
    const uid = Number(info?.stdout.trim() ?? '1000');
    return { uid, gid: uid };
  };
  if (opts.git) {
    if (opts.dryRun) throw new UsageError('--dry-run is for the file sync; --git only adds branches, it never overwrites');
    const { gitPull, gitPush } = await import('../sync/git-sync.js');
    const report = opts.up ? await gitPush(backend, view.id, root, await agentUser()) : await gitPull(backend, view.id, root);
    out.write(report.updated.length ? `${report.updated.map((u) => `  ${u}`).join('\n')}\n` : `nothing new ${opts.up ? 'to send' : 'from the session'}\n`);
    if (!opts.up && report.updated.length) out.write(`paude: the session's branches are under paude/${view.id}/ (git log paude/${view.id}/<branch>; merge what you want)\n`);
    return;
  }
  const { pullWorkspace, pushWorkspace } = await import('../sync/session-sync.js');
  const dir = sessionDir(deps.paths.sessionsDir, view.id);
  const skip = await syncSkipFor(root, deps.env, deps.cwd);
  if (opts.up) await pushWorkspace(backend, view.id, root, dir, skip, await agentUser(), out, { dryRun: opts.dryRun });
  else await pullWorkspace(backend, view.id, root, dir, deps.paths.dataDir, skip, out, { dryRun: opts.dryRun });
}
