/**
 * `paude sync --git`: a remote session's commits and this host's branch exchanged as git
 * objects, never as files, so nothing is overwritten on either side:
 *   down  the agent's branches arrive here as refs/remotes/paude/<id>/<branch> (a bundle made in
 *         the session, fetched into the host's repository: fetch runs no hooks, and the
 *         agent's config is not read);
 *   up    the host's current branch arrives in the session's repository as host/<branch> (a
 *         bundle made here, copied in and fetched there), for the agent to merge or rebase.
 * Files that are not committed are not part of this; the file sync (paude sync) carries them.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PaudeError } from '../errors.js';
import { packTar, unpackToDirectory } from '../fs/tar.js';
import type { SessionBackend } from '../backends/session-backend.js';

const run = promisify(execFile);
const BUNDLE_DIR = '/tmp';

/** git on this host, in the workspace, with hooks off and no prompts. */
async function git(root: string, args: string[]): Promise<string> {
  try {
    // safe.directory: the workspace may belong to another uid than paude's (the agent's owner).
    const { stdout } = await run('git', ['-C', root, '-c', 'core.hooksPath=/dev/null', '-c', `safe.directory=${root}`, ...args], { env: { ...process.env, GIT_TERMINAL_PROMPT: '0' }, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new PaudeError(`git ${args[0] ?? ''} in ${root} failed: ${(e.stderr ?? e.message).trim().split('\n').pop() ?? ''}`);
  }
}

/** Runs in the session (its workspace), failing with git's own last line. */
async function gitThere(backend: SessionBackend, id: string, root: string, args: string[]): Promise<string> {
  // safe.directory: on a cluster the volume's root belongs to root (fsGroup gives the agent write access).
  const r = await backend.exec(id, ['git', '-C', root, '-c', 'core.hooksPath=/dev/null', '-c', `safe.directory=${root}`, ...args]);
  if (r.exitCode !== 0) throw new PaudeError(`git ${args[0] ?? ''} in session ${id} failed: ${r.stderr.trim().split('\n').pop() ?? `exit ${r.exitCode}`}`);
  return r.stdout;
}

export interface GitSyncReport {
  /** The refs that changed, as "ref old..new" or "ref (new)". */
  updated: string[];
}

/** The agent's branches as refs/remotes/paude/<id>/*. */
export async function gitPull(backend: SessionBackend, id: string, root: string): Promise<GitSyncReport> {
  await git(root, ['rev-parse', '--git-dir']).catch(() => {
    throw new PaudeError(`${root} is not a git repository: use paude sync without --git`);
  });
  const branches = (await gitThere(backend, id, root, ['for-each-ref', '--format=%(refname)', 'refs/heads/'])).split('\n').filter(Boolean);
  if (branches.length === 0) return { updated: [] };
  const bundle = `${BUNDLE_DIR}/paude-sync-${id}.bundle`;
  await gitThere(backend, id, root, ['bundle', 'create', bundle, ...branches]);
  const tmp = await mkdtemp(join(tmpdir(), 'paude-git-'));
  try {
    const [written] = await unpackToDirectory(await backend.copyFromAgent(id, bundle), tmp, (e) => e.type === 'file');
    if (written === undefined) throw new PaudeError(`session ${id} made no bundle of its branches`);
    const file = join(tmp, written);
    const before = await refs(root, `refs/remotes/paude/${id}/`);
    await git(root, ['bundle', 'verify', file]);
    await git(root, ['fetch', '--no-tags', '--force', file, `refs/heads/*:refs/remotes/paude/${id}/*`]);
    const after = await refs(root, `refs/remotes/paude/${id}/`);
    return { updated: changes(before, after) };
  } finally {
    await rm(tmp, { recursive: true, force: true });
    await backend.exec(id, ['rm', '-f', bundle]).catch(() => undefined);
  }
}

/** This host's current branch into the session as host/<branch>. */
export async function gitPush(backend: SessionBackend, id: string, root: string, owner: { uid: number; gid: number }): Promise<GitSyncReport> {
  const branch = (await git(root, ['symbolic-ref', '--short', 'HEAD']).catch(() => '')).trim();
  if (!branch) throw new PaudeError(`${root} has no current branch (a detached HEAD): check out the branch to send`);
  const tmp = await mkdtemp(join(tmpdir(), 'paude-git-'));
  const name = `paude-sync-host-${id}.bundle`;
  try {
    const file = join(tmp, name);
    await git(root, ['bundle', 'create', file, `refs/heads/${branch}`]);
    await backend.copyIntoAgent(id, BUNDLE_DIR, packTar([{ path: name, type: 'file', mode: 0o644, source: file, ...owner }]));
    const ref = `refs/heads/host/${branch}`;
    const before = await gitThere(backend, id, root, ['rev-parse', '--verify', '--quiet', ref]).catch(() => '');
    await gitThere(backend, id, root, ['fetch', '--no-tags', '--force', `${BUNDLE_DIR}/${name}`, `refs/heads/${branch}:${ref}`]);
    const after = await gitThere(backend, id, root, ['rev-parse', ref]);
    return { updated: before.trim() === after.trim() ? [] : [`host/${branch} ${before.trim() ? `${before.trim().slice(0, 7)}..` : '(new) '}${after.trim().slice(0, 7)}`] };
  } finally {
    await rm(tmp, { recursive: true, force: true });
    await backend.exec(id, ['rm', '-f', `${BUNDLE_DIR}/${name}`]).catch(() => undefined);
  }
}

async function refs(root: string, prefix: string): Promise<Map<string, string>> {
  const out = await git(root, ['for-each-ref', '--format=%(refname) %(objectname)', prefix]);
  return new Map(out.split('\n').filter(Boolean).map((l) => l.split(' ') as [string, string]));
}

function changes(before: Map<string, string>, after: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [ref, sha] of after) {
    const was = before.get(ref);
    const short = ref.replace(/^refs\/remotes\//, '');
    if (!was) out.push(`${short} (new) ${sha.slice(0, 7)}`);
    else if (was !== sha) out.push(`${short} ${was.slice(0, 7)}..${sha.slice(0, 7)}`);
  }
  return out;
}
