/**
 * Workspace sync for one session on a remote backend: the copy at start, `paude sync`
 * (pull: session -> host, the default; push: host -> session), and the pull when a foreground
 * session ends. The rules are workspace-sync.ts's; this is the plumbing through the backend.
 */
import { lstat, mkdtemp, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Mount, SessionBackend } from '../backends/session-backend.js';
import { directoryEntries, packTar, type PackEntry } from '../fs/tar.js';
import { agentSide } from './agent-side.js';
import { applyToHost, planSync, pushEntries, readBase, same, scanHost, skipUnder, writeBase, type FileState, type Manifest, type Side, type Skip, type SyncPlan } from './workspace-sync.js';
import { isGitControl, PROTECTED_PATHS } from '../workspace/workspace-mounts.js';

export const baseFile = (sessionDir: string): string => join(sessionDir, 'sync-base.json');

/**
 * What never comes back from a session's copy of the workspace: protected and isolated paths,
 * .claude/ (and git's control files, wherever they are: syncSkip).
 */
export function neverSyncedBack(config: { protect: readonly string[]; isolate: readonly string[] }): string[] {
  return [...PROTECTED_PATHS, ...config.protect, ...config.isolate, '.claude'];
}

/** `skip`, and git's control files wherever they are (submodules, `.git` files: gitControlPaths). */
function syncSkip(skip: readonly string[]): Skip {
  const under = skipUnder(skip);
  return (rel, directory) => under(rel, directory) || isGitControl(rel, directory);
}

interface Sides {
  base: Manifest;
  agent: Side;
  host: Side;
}

/**
 * The three states a sync compares: the last agreed base, the agent's copy, the host's. With
 * `fromAgent`, the agent's files a pull may write here are set aside in the session's directory
 * while `use` runs (the agent's archive streams through: never the whole workspace in memory).
 */
async function withSides<T>(backend: SessionBackend, id: string, root: string, sessionDir: string, skip: readonly string[], fromAgent: boolean, use: (s: Sides) => Promise<T>): Promise<T> {
  const skipper = syncSkip(skip);
  const base = await readBase(baseFile(sessionDir));
  const host = await scanHost(root, skipper);
  const stageDir = await mkdtemp(join(sessionDir, 'sync-stage-'));
  try {
    const keep = (rel: string, state: FileState): boolean => fromAgent && !same(state, host.manifest.get(rel)) && !same(state, base.get(rel));
    const agent = await agentSide(await backend.copyFromAgent(id, root), skipper, keep, stageDir);
    return await use({ base, agent, host });
  } finally {
    await rm(stageDir, { recursive: true, force: true });
  }
}
export const conflictDir = (dataDir: string, id: string): string => join(dataDir, 'sync-conflicts', id);

/** Copies the workspace (less `skip`) and the credential files into a remote agent before it starts. */
export async function copyWorkspaceIn(
  backend: SessionBackend,
  id: string,
  root: string,
  sessionDir: string,
  skip: readonly string[],
  owner: { uid: number; gid: number },
  credentialMounts: readonly Mount[],
  out: NodeJS.WritableStream,
): Promise<void> {
  const host = await scanHost(root, syncSkip(skip));
  const plan = planSync(new Map(), host.manifest, new Map());
  // The '.' entry gives the (fresh, root-owned) workspace volume to the agent's user.
  const dirs: PackEntry[] = (host.directories ?? []).map((d) => ({ path: `./${d}`, type: 'directory', mode: 0o755, content: Buffer.alloc(0), ...owner }));
  const entries: PackEntry[] = [{ path: '.', type: 'directory', mode: 0o755, content: Buffer.alloc(0), ...owner }, ...dirs, ...(await pushEntries(plan, host, '.', owner))];
  await backend.copyIntoAgent(id, root, packTar(entries));
  await writeBase(baseFile(sessionDir), plan.nextBase);
  out.write(`paude: copied ${host.manifest.size} files of ${root} to the remote engine; paude sync brings changes back (and does when the session ends)\n`);
  // Read-only mounts cannot reach another machine: the files are copied (the agent may change its copies).
  for (const m of credentialMounts) {
    const home = '/home/paude/';
    if (!m.target.startsWith(home)) continue;
    const rel = m.target.slice(home.length);
    const st = await lstat(m.source).catch(() => undefined);
    if (!st) continue;
    const parents = rel.split('/').slice(0, -1);
    const dirs: PackEntry[] = parents.map((_, i) => ({ path: parents.slice(0, i + 1).join('/'), type: 'directory', mode: 0o700, content: Buffer.alloc(0), ...owner }));
    const body: PackEntry[] = st.isDirectory() ? await directoryEntries(m.source, rel, owner) : [{ path: rel, type: 'file', mode: 0o600, source: m.source, ...owner }];
    await backend.copyIntoAgent(id, home, packTar([...dirs, ...body]));
  }
}

export interface SyncReport {
  plan: SyncPlan;
  direction: 'pull' | 'push';
  conflictsAt?: string;
}

/** Session -> host: what the agent changed, where the host did not change it too. */
export async function pullWorkspace(
  backend: SessionBackend,
  id: string,
  root: string,
  sessionDir: string,
  dataDir: string,
  skip: readonly string[],
  out: NodeJS.WritableStream,
  options: { dryRun?: boolean } = {},
): Promise<SyncReport> {
  const conflictsAt = conflictDir(dataDir, id);
  const plan = await withSides(backend, id, root, sessionDir, skip, !options.dryRun, async ({ base, agent, host }) => {
    const plan = planSync(base, agent.manifest, host.manifest);
    if (!options.dryRun) {
      await applyToHost(root, plan, agent, conflictsAt);
      await writeBase(baseFile(sessionDir), plan.nextBase);
    }
    return plan;
  });
  report(out, { plan, direction: 'pull', conflictsAt }, options.dryRun === true, root);
  return { plan, direction: 'pull', conflictsAt };
}

/** Host -> session: what the host changed, where the agent did not change it too. */
export async function pushWorkspace(
  backend: SessionBackend,
  id: string,
  root: string,
  sessionDir: string,
  skip: readonly string[],
  owner: { uid: number; gid: number },
  out: NodeJS.WritableStream,
  options: { dryRun?: boolean } = {},
): Promise<SyncReport> {
  const plan = await withSides(backend, id, root, sessionDir, skip, false, async ({ base, agent, host }) => {
    const plan = planSync(base, host.manifest, agent.manifest);
    if (!options.dryRun) {
      const writes = await pushEntries(plan, host, '.', owner);
      if (writes.length) await backend.copyIntoAgent(id, root, packTar(writes));
      const deletes = plan.changes.filter((c) => c.action === 'delete').map((c) => join(root, c.path));
      if (deletes.length) await backend.exec(id, ['rm', '-f', '--', ...deletes]);
      await writeBase(baseFile(sessionDir), plan.nextBase);
    }
    return plan;
  });
  report(out, { plan, direction: 'push' }, options.dryRun === true, root);
  return { plan, direction: 'push' };
}

function report(out: NodeJS.WritableStream, r: SyncReport, dryRun: boolean, root: string): void {
  const verb = dryRun ? 'would ' : '';
  const where = r.direction === 'pull' ? `from the session to ${basename(root)}/` : `from ${basename(root)}/ to the session`;
  for (const c of r.plan.changes) out.write(`  ${c.action === 'write' ? 'M' : 'D'} ${c.path}\n`);
  out.write(`paude: ${verb}${r.direction === 'pull' ? 'bring' : 'send'} ${r.plan.changes.length} change${r.plan.changes.length === 1 ? '' : 's'} ${where}\n`);
  if (r.plan.conflicts.length) {
    const aside = r.direction === 'pull' ? `; the session's versions are in ${r.conflictsAt ?? '?'}` : "; the session's versions were kept";
    out.write(`paude: ${r.plan.conflicts.length} changed on both sides, left as they are here: ${r.plan.conflicts.join(', ')}${aside}\n`);
  }
}
