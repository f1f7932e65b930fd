/**
 * How the workspace appears in the agent container: at the same path, read-write, except
 * - protected paths, which configure or execute things on the host later: existing ones are
 *   mounted read-only over themselves (.claude/ gets an ephemeral copy instead, see
 *   claude-config.ts), and ones that do not exist yet are checked after the session;
 * - the directories between the workspace and a protected path (`.git` for `.git/hooks`),
 *   mounted read-write over themselves: a mount point cannot be renamed or removed, so the agent
 *   cannot move `.git` aside and make a new `.git/hooks` that the host would run;
 * - isolated paths (.venv, node_modules): shadowed by container-local volumes.
 * The protected paths are the fixed list below, git's other control files in this workspace
 * (submodules, linked worktrees: gitControlPaths) and the user's `protect` entries.
 */
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { Mount } from '../backends/session-backend.js';

/**
 * `.git/commondir` names another directory as the repository's common directory, whose config
 * and hooks git then uses instead of `.git/config` and `.git/hooks`.
 */
export const PROTECTED_PATHS = ['.git/hooks', '.git/config', '.git/commondir', '.git/config.worktree', '.claude', '.mcp.json', 'paude.json', '.devcontainer', '.vscode', '.envrc'] as const;

/**
 * The other files through which git runs commands on the host, found in this workspace: git
 * reads them when the user runs git here (`git status` enters every submodule) or in a linked
 * worktree of this repository elsewhere.
 * - `.git` when it is a file (this workspace is a linked worktree or a submodule checkout): it
 *   names the repository git uses, which could be one the agent made;
 * - each submodule's repository under `.git/modules`: its config, config.worktree, commondir
 *   and hooks, and the `.git` file of its checkout; `.git/modules` itself while there is none
 *   (a repository the agent adds there is moved out; see `modules`);
 * - each linked worktree's commondir and config.worktree under `.git/worktrees`.
 */
export function gitControlPaths(root: string): { protect: string[]; modules: ModuleTree } {
  const git = join(root, '.git');
  const none = { modules: [], dirs: [] };
  if (isFile(git)) return { protect: ['.git'], modules: none };
  if (!isDirectory(git)) return { protect: [], modules: none };
  const protect: string[] = [];
  const tree = moduleTree(root);
  if (!isDirectory(join(git, 'modules'))) protect.push('.git/modules');
  for (const m of tree.modules) {
    protect.push(...REPOSITORY_CONTROL.map((f) => `${m}/${f}`));
    const checkout = moduleCheckout(root, m);
    if (checkout) protect.push(checkout);
  }
  // A directory on the way to a module (libs/ of libs/foo) must not become a repository itself.
  for (const d of tree.dirs) protect.push(...REPOSITORY_CONTROL.map((f) => `${d}/${f}`));
  for (const w of subdirectories(join(git, 'worktrees'))) protect.push(`.git/worktrees/${w}/commondir`, `.git/worktrees/${w}/config.worktree`);
  return { protect, modules: tree };
}

/** What in a repository directory runs commands, or says where the ones that do are. */
const REPOSITORY_CONTROL = ['config', 'config.worktree', 'commondir', 'hooks'];

/** Whether a relative path is one of those files, wherever it is (for a remote session's sync). */
export function isGitControl(rel: string, directory: boolean): boolean {
  if (/(?:^|\/)\.git$/.test(rel)) return !directory;
  return /(?:^|\/)\.git\/(?:config\.worktree|(?:modules\/.+|worktrees\/[^/]+)\/(?:config|config\.worktree|commondir|hooks))(?:\/|$)/.test(rel);
}

/** What is under `.git/modules`: the submodule repositories, and the other directories there. */
export interface ModuleTree {
  modules: string[];
  dirs: string[];
}

/**
 * The submodule repositories under `.git/modules` (relative paths), nested ones included: a
 * directory with a HEAD or a config is one, and its `modules` is looked into; any other
 * directory (libs/ of a module named libs/foo) is looked into.
 */
export function moduleTree(root: string): ModuleTree {
  const tree: ModuleTree = { modules: [], dirs: [] };
  const walk = (rel: string, depth: number): void => {
    if (depth > 8) return;
    for (const name of subdirectories(join(root, rel))) {
      const sub = `${rel}/${name}`;
      if (existsSync(join(root, sub, 'HEAD')) || existsSync(join(root, sub, 'config'))) {
        tree.modules.push(sub);
        walk(`${sub}/modules`, depth + 1);
      } else {
        tree.dirs.push(sub);
        walk(sub, depth + 1);
      }
    }
  };
  walk('.git/modules', 0);
  tree.modules.sort();
  tree.dirs.sort();
  return tree;
}

/**
 * The directories under `.git/modules` that were not there (`before`): each appeared since.
 * Any directory counts, so one is seen as soon as it is made, before git (or the agent) has
 * written a HEAD or config into it.
 */
export function newModuleDirs(root: string, before: ModuleTree): string[] {
  const modules = new Set(before.modules);
  const dirs = new Set(before.dirs);
  const out: string[] = [];
  const walk = (rel: string, depth: number): void => {
    if (depth > 8) return;
    for (const name of subdirectories(join(root, rel))) {
      const sub = `${rel}/${name}`;
      if (modules.has(sub)) walk(`${sub}/modules`, depth + 1);
      else if (dirs.has(sub)) walk(sub, depth + 1);
      else out.push(sub);
    }
  };
  walk('.git/modules', 0);
  return out;
}

/** The `.git` file of a submodule's checkout (core.worktree in its config), when in the workspace. */
function moduleCheckout(root: string, module: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(join(root, module, 'config'), 'utf8');
  } catch {
    return undefined;
  }
  const worktree = /^\s*worktree\s*=\s*(.+?)\s*$/m.exec(text)?.[1]?.replace(/^"(.*)"$/, '$1');
  if (!worktree) return undefined;
  const gitfile = join(root, module, worktree, '.git');
  return inside(root, gitfile) && isFile(gitfile) ? relative(root, gitfile) : undefined;
}

function subdirectories(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}

export interface WorkspaceLayout {
  mounts: Mount[];
  /** Container-local volumes: name suffix -> path in the container. */
  isolated: Array<{ suffix: string; target: string }>;
  /** Protected paths that do not exist on the host: anything there after the session is reported. */
  watched: string[];
  /** The project's .claude directory, when it exists (copied, not mounted). */
  claudeDir?: string;
  /** What was under .git/modules (gitControlPaths): a directory that appears there is moved out. */
  gitModules: ModuleTree;
}

export function workspaceLayout(root: string, extraProtected: readonly string[], isolate: readonly string[]): WorkspaceLayout {
  const mounts: Mount[] = [];
  const anchors = new Set<string>();
  const watched: string[] = [];
  let claudeDir: string | undefined;
  const seen = new Set<string>();
  const git = gitControlPaths(root);
  for (const rel of [...PROTECTED_PATHS, ...git.protect, ...extraProtected]) {
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
    // A .git file (a linked worktree, a submodule checkout) is a protected path itself
    // (gitControlPaths): bound like any other file.
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
    gitModules: git.modules,
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

function isFile(path: string): boolean {
  try {
    return lstatSync(path).isFile();
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
