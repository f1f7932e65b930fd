import type { Mount } from '../backends/session-backend.js';
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isGitControl, moduleTree, newModuleDirs, PROTECTED_PATHS, workspaceLayout } from './workspace-mounts.js';

/** The engine's bind notation, for readable expectations. */
const toBind = (m: Mount): string => `${m.source}:${m.target}:${m.readOnly ? 'ro' : 'rw'}`;

let base: string;
let root: string;

beforeEach(async () => {
  base = await realpath(await mkdtemp(join(tmpdir(), 'paude-workspace-')));
  root = join(base, 'project');
  await mkdir(root);
});

afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

async function dir(rel: string): Promise<void> {
  await mkdir(join(root, rel), { recursive: true });
}

async function file(rel: string, text = ''): Promise<void> {
  await mkdir(join(root, rel, '..'), { recursive: true });
  await writeFile(join(root, rel), text);
}

const ro = (rel: string): string => `${join(root, rel)}:${join(root, rel)}:ro`;
const rw = (rel: string): string => `${join(root, rel)}:${join(root, rel)}:rw`;
/** Container-side targets of binds (host:container[:mode]). */
const targets = (binds: readonly string[]): string[] => binds.map((b) => b.split(':')[1] ?? '');

describe('workspaceLayout: the workspace itself', () => {
  it('binds the workspace read-write at the same path, and nothing else for an empty workspace', () => {
    const layout = workspaceLayout(root, [], []);
    expect(layout.mounts.map(toBind)).toEqual([`${root}:${root}:rw`]);
    expect(layout.isolated).toEqual([]);
    expect(layout.claudeDir).toBeUndefined();
    // Every protected path except .claude is watched for appearing during the session.
    expect(layout.watched).toEqual([...PROTECTED_PATHS]);
  });
});

describe('workspaceLayout: protected paths', () => {
  it('binds every existing protected path read-only over itself', async () => {
    await dir('.git/hooks');
    await file('.git/config', '[core]\n');
    await file('.mcp.json', '{}');
    await file('paude.json', '{}');
    await dir('.devcontainer');
    await dir('.vscode');
    await file('.envrc', 'export X=1\n');
    const layout = workspaceLayout(root, [], []);
    expect(layout.mounts.map(toBind)).toEqual([
      `${root}:${root}:rw`,
      rw('.git'),
      ro('.git/hooks'),
      ro('.git/config'),
      ro('.mcp.json'),
      ro('paude.json'),
      ro('.devcontainer'),
      ro('.vscode'),
      ro('.envrc'),
    ]);
    // .git/modules: a submodule repository the agent would add is moved out (gitControlPaths).
    expect(layout.watched).toEqual(['.git/commondir', '.git/config.worktree', '.claude', '.git/modules']);
  });

  it('lists missing protected paths in watched, and binds only the existing ones', async () => {
    await dir('.git/hooks');
    await file('.envrc');
    const layout = workspaceLayout(root, [], []);
    expect(layout.mounts.map(toBind)).toEqual([`${root}:${root}:rw`, rw('.git'), ro('.git/hooks'), ro('.envrc')]);
    expect(layout.watched).toEqual(['.git/config', '.git/commondir', '.git/config.worktree', '.claude', '.mcp.json', 'paude.json', '.devcontainer', '.vscode', '.git/modules']);
  });

  it('binds the directories that hold protected paths over themselves, outer first, so none can be moved aside and remade', async () => {
    await dir('.git');
    await dir('deploy/keys');
    await file('deploy/keys/ci.pem');
    const layout = workspaceLayout(root, ['deploy/keys/ci.pem', 'missing/dir/x'], []);
    // .git holds .git/config and .git/commondir even while they do not exist (they are watched).
    expect(layout.mounts.map(toBind)).toEqual([`${root}:${root}:rw`, rw('.git'), rw('deploy'), rw('deploy/keys'), ro('deploy/keys/ci.pem')]);
    expect(layout.watched).toContain('missing/dir/x');
  });

  it('binds nothing below a symlinked directory, neither the directories on the way nor the protected path', async () => {
    await mkdir(join(base, 'outside', 'x'), { recursive: true });
    await writeFile(join(base, 'outside', 'x', 'y'), 'host file');
    await symlink(join(base, 'outside'), join(root, 'evil'));
    const layout = workspaceLayout(root, ['evil/x/y'], []);
    expect(layout.mounts.map(toBind).filter((b) => b.includes('evil') || b.includes('outside'))).toEqual([]);
    expect(layout.watched).not.toContain('evil/x/y');
  });

  it('binds no directory that is a symlink (the bind would follow it out of the workspace)', async () => {
    await mkdir(join(base, 'elsewhere', 'hooks'), { recursive: true });
    await symlink(join(base, 'elsewhere'), join(root, '.git'));
    const layout = workspaceLayout(root, [], []);
    expect(layout.mounts.map(toBind).filter((b) => b.includes('elsewhere') || b.startsWith(`${join(root, '.git')}:`))).toEqual([]);
  });

  it('protects extra `protect` entries the same way: existing ones bound, missing ones watched', async () => {
    await file('Makefile');
    await dir('scripts/ci');
    const layout = workspaceLayout(root, ['Makefile', 'scripts/ci', '.tool-versions'], []);
    expect(layout.mounts.map(toBind)).toContain(ro('Makefile'));
    expect(layout.mounts.map(toBind)).toContain(ro('scripts/ci'));
    expect(layout.watched).toContain('.tool-versions');
  });

  it('ignores protect entries that point outside the workspace or at the workspace itself', async () => {
    await mkdir(join(base, 'outside'));
    const layout = workspaceLayout(root, ['../outside', '/etc', '.', ''], []);
    expect(layout.mounts.map(toBind).filter((b) => b.includes('outside'))).toEqual([]);
    expect(layout.watched).not.toContain('../outside');
    expect(layout.mounts.map(toBind)[0]).toBe(`${root}:${root}:rw`);
    expect(layout.mounts.map(toBind).filter((b) => b.startsWith(`${root}:`))).toHaveLength(1);
  });

  it('offers .claude as claudeDir when it is a directory, and never bind-mounts it', async () => {
    await dir('.claude/commands');
    const layout = workspaceLayout(root, [], []);
    expect(layout.claudeDir).toBe(join(root, '.claude'));
    expect(layout.mounts.map(toBind).some((b) => b.includes('.claude'))).toBe(false);
    expect(layout.watched).not.toContain('.claude');
  });

  it('watches .claude when it is a file rather than a directory', async () => {
    await file('.claude', 'not a directory');
    const layout = workspaceLayout(root, [], []);
    expect(layout.claudeDir).toBeUndefined();
    expect(layout.watched).toContain('.claude');
    expect(layout.mounts.map(toBind).some((b) => b.includes('.claude'))).toBe(false);
  });

  it('binds a .git FILE (a linked worktree) read-only over itself: it names the repository whose config git runs', async () => {
    await file('.git', 'gitdir: /elsewhere/.git/worktrees/feature\n');
    const layout = workspaceLayout(root, [], []);
    expect(layout.mounts.map(toBind)).toEqual([`${root}:${root}:rw`, ro('.git')]);
    expect(layout.gitModules).toEqual({ modules: [], dirs: [] });
  });

  it('does not bind symlinked protected paths (a bind would follow the link out of the workspace), nor watch them', async () => {
    await mkdir(join(base, 'dotfiles'));
    await writeFile(join(base, 'dotfiles', 'envrc'), 'export SECRET=1\n');
    await symlink(join(base, 'dotfiles', 'envrc'), join(root, '.envrc'));
    await symlink(join(base, 'dotfiles'), join(root, '.vscode'));
    await file('config/mcp.json', '{}');
    await symlink('config/mcp.json', join(root, '.mcp.json'));
    const layout = workspaceLayout(root, [], []);
    expect(layout.mounts.map(toBind)).toEqual([`${root}:${root}:rw`]);
    // Neither bound nor watched: the link (and an in-workspace target such as config/mcp.json)
    // stays writable through the workspace bind, and nothing reports a change afterwards.
    expect(layout.watched).not.toContain('.envrc');
    expect(layout.watched).not.toContain('.vscode');
    expect(layout.watched).not.toContain('.mcp.json');
  });

  it('watches a dangling symlink at a protected path as if it were missing', async () => {
    await symlink(join(base, 'nowhere'), join(root, '.mcp.json'));
    const layout = workspaceLayout(root, [], []);
    expect(layout.mounts.map(toBind)).toEqual([`${root}:${root}:rw`]);
    expect(layout.watched).toContain('.mcp.json');
  });

  // BUG: a `protect` entry that repeats a built-in protected path (".vscode", or "./.envrc")
  // produces the same read-only bind twice. Docker refuses such a container ("Duplicate mount
  // point"), Podman too ("duplicate mount destination"), so every session of that project fails
  // to start. Input: .vscode exists, protect: [".vscode", "./.envrc"], .envrc exists.
  // Expected: each container path bound once. Actual: ro binds for .vscode and .envrc appear twice.
  it('binds each path at most once, even when `protect` repeats a built-in entry', async () => {
    await dir('.vscode');
    await file('.envrc');
    const layout = workspaceLayout(root, ['.vscode', './.envrc'], []);
    const t = targets(layout.mounts.map(toBind));
    expect(t).toEqual([...new Set(t)]);
  });

  // BUG: `inside()` treats any relative path starting with ".." as outside the workspace, so a
  // protect entry whose name merely begins with two dots (the config schema accepts "..env")
  // is silently dropped: neither bound read-only nor watched. Input: protect: ["..env"], file
  // <root>/..env exists. Expected: bound read-only. Actual: not in binds, not in watched.
  it('protects a path whose name starts with two dots (e.g. "..env")', async () => {
    await file('..env', 'TOKEN=1\n');
    const layout = workspaceLayout(root, ['..env'], []);
    expect(layout.mounts.map(toBind)).toContain(ro('..env'));
  });
});

describe('workspaceLayout: isolated paths', () => {
  it('shadows existing isolate directories with container-local volumes, keeping each entry its own suffix', async () => {
    await dir('.venv');
    await dir('node_modules');
    await dir('packages/web/node_modules');
    const layout = workspaceLayout(root, [], ['.venv', 'node_modules', 'packages/web/node_modules']);
    expect(layout.isolated).toEqual([
      { suffix: 'iso0', target: join(root, '.venv') },
      { suffix: 'iso1', target: join(root, 'node_modules') },
      { suffix: 'iso2', target: join(root, 'packages/web/node_modules') },
    ]);
    // Isolation is by volume, never by bind.
    expect(layout.mounts.map(toBind).some((b) => b.includes('node_modules') || b.includes('.venv'))).toBe(false);
  });

  it('leaves out isolate entries that do not exist or are not directories', async () => {
    await file('node_modules', 'a file');
    await dir('target');
    const layout = workspaceLayout(root, [], ['.venv', 'node_modules', 'target']);
    expect(layout.isolated.map((v) => v.target)).toEqual([join(root, 'target')]);
    // Suffixes follow the configured list, so they stay stable as directories come and go.
    expect(layout.isolated[0]?.suffix).toBe('iso2');
  });

  it('leaves out an isolate entry that is a symlink to a directory', async () => {
    await mkdir(join(base, 'cache'));
    await symlink(join(base, 'cache'), join(root, '.venv'));
    expect(workspaceLayout(root, [], ['.venv']).isolated).toEqual([]);
  });

  it('never isolates anything outside the workspace ("../x", "a/../../x", absolute paths) or the workspace itself', async () => {
    await mkdir(join(base, 'x'));
    await dir('a');
    const layout = workspaceLayout(root, [], ['../x', 'a/../../x', join(base, 'x'), '.', '', 'a/..']);
    expect(layout.isolated).toEqual([]);
  });

  it('reads an absolute isolate entry inside the workspace (never as a host path)', async () => {
    // The config schema refuses a leading "/"; should one get through, it cannot name a host path.
    await dir('build');
    const layout = workspaceLayout(root, [], ['/build']);
    expect(layout.isolated).toEqual([{ suffix: 'iso0', target: join(root, 'build') }]);
  });
});

describe('workspaceLayout: submodules and linked worktrees', () => {
  /** A submodule repository as git makes it: .git/modules/<name> and the checkout's .git file. */
  async function submodule(name: string, checkout: string): Promise<void> {
    const gitdir = `.git/modules/${name}`;
    await file(`${gitdir}/HEAD`, 'ref: refs/heads/main\n');
    const up = gitdir.split('/').map(() => '..').join('/');
    await file(`${gitdir}/config`, `[core]\n\trepositoryformatversion = 0\n\tworktree = ${up}/${checkout}\n`);
    await dir(`${gitdir}/hooks`);
    await file(`${checkout}/.git`, `gitdir: ${checkout.split('/').map(() => '..').join('/')}/${gitdir}\n`);
  }

  it('binds each submodule repository’s config and hooks and its checkout’s .git file read-only, the directories on the way over themselves', async () => {
    await dir('.git/hooks');
    await submodule('sub', 'sub');
    const layout = workspaceLayout(root, [], []);
    const binds = layout.mounts.map(toBind);
    expect(binds).toEqual(expect.arrayContaining([rw('.git/modules'), rw('.git/modules/sub'), rw('sub'), ro('.git/modules/sub/config'), ro('.git/modules/sub/hooks'), ro('sub/.git')]));
    // Outer directories before inner ones, directories before the files they hold.
    expect(binds.indexOf(rw('.git/modules'))).toBeLessThan(binds.indexOf(rw('.git/modules/sub')));
    expect(binds.indexOf(rw('.git/modules/sub'))).toBeLessThan(binds.indexOf(ro('.git/modules/sub/config')));
    expect(layout.watched).toEqual(expect.arrayContaining(['.git/modules/sub/commondir', '.git/modules/sub/config.worktree']));
    expect(layout.watched).not.toContain('.git/modules');
    expect(layout.gitModules).toEqual({ modules: ['.git/modules/sub'], dirs: [] });
  });

  it('finds modules with a slash in their name and modules of modules', async () => {
    await submodule('libs/foo', 'libs/foo');
    await submodule('sub', 'sub');
    await file('.git/modules/sub/modules/inner/HEAD', 'ref: refs/heads/main\n');
    expect(moduleTree(root)).toEqual({ modules: ['.git/modules/libs/foo', '.git/modules/sub', '.git/modules/sub/modules/inner'], dirs: ['.git/modules/libs'] });
    const layout = workspaceLayout(root, [], []);
    expect(layout.mounts.map(toBind)).toEqual(expect.arrayContaining([ro('.git/modules/libs/foo/config'), ro('libs/foo/.git')]));
    // libs/ on the way must not become a repository itself.
    expect(layout.watched).toEqual(expect.arrayContaining(['.git/modules/libs/config', '.git/modules/libs/hooks']));
  });

  it('names every directory under .git/modules that is neither a known module nor on the way to one', async () => {
    await submodule('libs/foo', 'libs/foo');
    await dir('.git/modules/libs/foo/modules/fresh');
    await dir('.git/modules/libs/bar');
    await dir('.git/modules/empty');
    expect(newModuleDirs(root, { modules: ['.git/modules/libs/foo'], dirs: ['.git/modules/libs'] }).sort()).toEqual(['.git/modules/empty', '.git/modules/libs/bar', '.git/modules/libs/foo/modules/fresh']);
    // What was there at start is not new, repository or not.
    expect(newModuleDirs(root, moduleTree(root))).toEqual([]);
  });

  it('leaves alone a submodule checkout outside the workspace, and a core.worktree that is no .git file', async () => {
    await file('.git/modules/out/HEAD', 'ref: refs/heads/main\n');
    await file('.git/modules/out/config', '[core]\n\tworktree = ../../../../elsewhere\n');
    await file('.git/modules/nofile/HEAD', 'ref: refs/heads/main\n');
    await file('.git/modules/nofile/config', '[core]\n\tworktree = ../../../nofile\n');
    await dir('nofile/.git');
    const binds = workspaceLayout(root, [], []).mounts.map(toBind);
    expect(binds).toContain(ro('.git/modules/out/config'));
    expect(binds.some((b) => b.includes('elsewhere') || b.includes('nofile/.git'))).toBe(false);
  });

  it('binds each linked worktree’s commondir read-only (it says whose config and hooks git uses there)', async () => {
    await file('.git/worktrees/feature/commondir', '../..\n');
    await file('.git/worktrees/feature/gitdir', '/elsewhere/feature/.git\n');
    const layout = workspaceLayout(root, [], []);
    expect(layout.mounts.map(toBind)).toEqual(expect.arrayContaining([rw('.git/worktrees'), rw('.git/worktrees/feature'), ro('.git/worktrees/feature/commondir')]));
    expect(layout.watched).toContain('.git/worktrees/feature/config.worktree');
  });
});

describe('isGitControl (what a remote session’s sync never brings back)', () => {
  it('matches .git files, and submodule and worktree control files at any depth', () => {
    for (const rel of ['.git', 'sub/.git', '.git/config.worktree', '.git/modules/sub/config', '.git/modules/a/b/hooks/pre-commit', '.git/modules/sub/modules/x/commondir', '.git/worktrees/w/commondir', 'vendor/x/.git/modules/y/config']) {
      expect(isGitControl(rel, false), rel).toBe(true);
    }
  });

  it('leaves a .git directory, objects, refs and ordinary files alone', () => {
    expect(isGitControl('.git', true)).toBe(false);
    expect(isGitControl('sub/.git', true)).toBe(false);
    for (const rel of ['.git/modules/sub/objects/ab/cdef', '.git/modules/sub/HEAD', '.git/index', 'src/config', 'hooks/pre-commit', '.gitmodules', 'x.git']) {
      expect(isGitControl(rel, false), rel).toBe(false);
    }
  });
});
