/**
 * How the workspace appears in the agent container: at the same path, read-write, except
 * - protected paths, which configure or execute things on the host later: existing ones are
 *   mounted read-only over themselves (.claude/ gets an ephemeral copy instead, see
 *   claude-config.ts), and ones that do not exist yet are checked after the session;
 * - the directories between the workspace and a protected path (`.git` for `.git/hooks`),
 *   mounted read-write over themselves: a mount point cannot be renamed or removed, so the agent
 *   cannot move `.git` aside and make a new `.git/hooks` that the host would run;
 * - isolated paths (.venv, node_modules): shadowed by container-local volumes.
 */
import { existsSync, lstatSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { Mount } from '../backends/session-backend.js';

/**
 * `.git/commondir` names another directory as the repository's common directory, whose config
 * and hooks git then uses instead of `.git/config` and `.git/hooks`.
 */
export const PROTECTED_PATHS = ['.git/hooks', '.git/config', '.git/commondir', '.claude', '.mcp.json', 'paude.json', '.devcontainer', '.vscode', '.envrc'] as const;

export interface WorkspaceLayout {
  mounts: Mount[];
  /** Container-local volumes: name suffix -> path in the container. */
  isolated: Array<{ suffix: string; target: string }>;
  /** Protected paths that do not exist on the host: anything there after the session is reported. */
  watched: string[];
  /** The project's .claude directory, when it exists (copied, not mounted). */
  claudeDir?: string;
}

export function workspaceLayout(root: string, extraProtected: readonly string[], isolate: readonly string[]): WorkspaceLayout {
  const mounts: Mount[] = [];
  const anchors = new Set<string>();
  const watched: string[] = [];
  let claudeDir: string | undefined;
  const seen = new Set<string>();
  for (const rel of [...PROTECTED_PATHS, ...extraProtected]) {
    const path = join(root, rel);
    // `./.envrc` and `.envrc` are one mount point; engines refuse a duplicate.
    if (seen.has(path)) continue;
    seen.add(path);
    if (!inside(root, path)) continue;
    // The directories on the way, up to the first that is not a real one: a bind through a
    // symlink would mount (read-write, for these) whatever it points at outside the workspace.
    const dirs = between(root, path);
    const firstOther = dirs.findIndex((d) => !isDirectory(d));
    const real = firstOther === -1 ? dirs : dirs.slice(0, firstOther);
    for (const dir of real) anchors.add(dir);
    if (dirs.slice(real.length).some(isSymlink)) continue;
    if (rel === '.claude') {
      if (isDirectory(path)) claudeDir = path;
      else watched.push(rel);
      continue;
    }
    // .git may be a file (worktrees); then hooks and config live elsewhere and are not ours to mount.
    if (existsSync(path) && !lstatSync(path).isSymbolicLink()) mounts.push({ source: path, target: path, readOnly: true });
    else if (!existsSync(path)) watched.push(rel);
  }
  const isolated = isolate
    .map((rel, i) => ({ rel, suffix: `iso${i}`, target: join(root, rel) }))
    .filter((x) => inside(root, x.target) && isDirectory(x.target))
    .map(({ suffix, target }) => ({ suffix, target }));
  // The workspace first, then the directories that hold protected paths (outer before inner),
  // then the protected paths: a mount covers what was mounted below it before.
  const byDepth = [...anchors].sort((a, b) => a.split(sep).length - b.split(sep).length || a.localeCompare(b));
  return {
    mounts: [{ source: root, target: root, readOnly: false }, ...byDepth.map((dir) => ({ source: dir, target: dir, readOnly: false })), ...mounts],
    isolated,
    watched,
    ...(claudeDir ? { claudeDir } : {}),
  };
}

/** The directories strictly between root and path: `.git` for `.git/hooks`, none for `.envrc`. */
function between(root: string, path: string): string[] {
  const parts = relative(root, path).split(sep).slice(0, -1);
  return parts.map((_, i) => join(root, ...parts.slice(0, i + 1)));
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !rel.startsWith(sep);
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

function isDirectory(path: string): boolean {
  try {
    return lstatSync(path).isDirectory();
  } catch {
    return false;
  }
}
