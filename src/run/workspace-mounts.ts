/**
 * How the workspace appears in the agent container: at the same path, read-write, except
 * - protected paths, which configure or execute things on the host later: existing ones are
 *   mounted read-only over themselves (.claude/ gets an ephemeral copy instead, see
 *   claude-config.ts), and ones that do not exist yet are checked after the session;
 * - isolated paths (.venv, node_modules): shadowed by container-local volumes.
 */
import { existsSync, lstatSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { Mount } from '../backends/session-backend.js';

export const PROTECTED_PATHS = ['.git/hooks', '.git/config', '.claude', '.mcp.json', 'paude.json', '.devcontainer', '.vscode', '.envrc'] as const;

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
  const mounts: Mount[] = [{ source: root, target: root, readOnly: false }];
  const watched: string[] = [];
  let claudeDir: string | undefined;
  const seen = new Set<string>();
  for (const rel of [...PROTECTED_PATHS, ...extraProtected]) {
    const path = join(root, rel);
    // `./.envrc` and `.envrc` are one mount point; engines refuse a duplicate.
    if (seen.has(path)) continue;
    seen.add(path);
    if (!inside(root, path)) continue;
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
  return { mounts, isolated, watched, ...(claudeDir ? { claudeDir } : {}) };
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !rel.startsWith(sep);
}

function isDirectory(path: string): boolean {
  try {
    return lstatSync(path).isDirectory();
  } catch {
    return false;
  }
}
