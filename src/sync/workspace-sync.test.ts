import { createHash } from 'node:crypto';
import { mkdtemp, mkdir, readFile, rm, writeFile, symlink, readlink, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { applyToHost, planSync, readBase, scanHost, skipUnder, writeBase, type FileState, type Manifest, type Side } from './workspace-sync.js';

const f = (label: string, mode = 0o644): FileState => ({ kind: 'file', hash: createHash('sha256').update(label).digest('hex'), mode });

describe('planSync', () => {
  it('carries one-sided changes, leaves the receiver’s own changes, and reports both-sided ones', () => {
    const base: Manifest = new Map([
      ['same', f('a')],
      ['theirs', f('a')],
      ['ours', f('a')],
      ['both', f('a')],
      ['gone-there', f('a')],
      ['agreed', f('a')],
    ]);
    const from: Manifest = new Map([
      ['same', f('a')],
      ['theirs', f('b')],
      ['ours', f('a')],
      ['both', f('b')],
      ['new-there', f('n')],
      ['agreed', f('z')],
    ]);
    const to: Manifest = new Map([
      ['same', f('a')],
      ['theirs', f('a')],
      ['ours', f('c')],
      ['both', f('c')],
      ['gone-there', f('a')],
      ['agreed', f('z')],
    ]);
    const plan = planSync(base, from, to);
    expect(plan.changes).toEqual([
      { path: 'gone-there', action: 'delete' },
      { path: 'new-there', action: 'write' },
      { path: 'theirs', action: 'write' },
    ]);
    expect(plan.conflicts).toEqual(['both']);
    expect(plan.nextBase.get('theirs')).toEqual(f('b'));
    expect(plan.nextBase.get('agreed')).toEqual(f('z'));
    expect(plan.nextBase.has('gone-there')).toBe(false);
    expect(plan.nextBase.get('both')).toEqual(f('a')); // a conflict stays one
    expect(plan.nextBase.get('ours')).toEqual(f('a')); // the other direction will carry it
  });

  it('a mode change (the executable bit) is a change', () => {
    const base: Manifest = new Map([['run.sh', f('a')]]);
    const plan = planSync(base, new Map([['run.sh', f('a', 0o755)]]), base);
    expect(plan.changes).toEqual([{ path: 'run.sh', action: 'write' }]);
  });

  it('after a pull and a push, both sides agree on everything but the conflicts (property)', () => {
    const state = fc.option(fc.constantFrom('a', 'b', 'c'), { nil: undefined });
    const files = fc.dictionary(fc.constantFrom('x', 'y', 'z', 'd/w'), fc.tuple(state, state, state));
    fc.assert(
      fc.property(files, (spec) => {
        const base: Manifest = new Map();
        const agent: Manifest = new Map();
        const host: Manifest = new Map();
        for (const [path, [b, a, h]] of Object.entries(spec)) {
          if (b) base.set(path, f(b));
          if (a) agent.set(path, f(a));
          if (h) host.set(path, f(h));
        }
        const pull = planSync(base, agent, host);
        const hostAfter = new Map(host);
        for (const c of pull.changes) {
          const v = agent.get(c.path);
          if (c.action === 'write' && v) hostAfter.set(c.path, v);
          else hostAfter.delete(c.path);
        }
        const push = planSync(pull.nextBase, hostAfter, agent);
        const agentAfter = new Map(agent);
        for (const c of push.changes) {
          const v = hostAfter.get(c.path);
          if (c.action === 'write' && v) agentAfter.set(c.path, v);
          else agentAfter.delete(c.path);
        }
        const conflicts = new Set([...pull.conflicts, ...push.conflicts]);
        for (const path of new Set([...agentAfter.keys(), ...hostAfter.keys()])) {
          if (conflicts.has(path)) continue;
          expect(agentAfter.get(path), path).toEqual(hostAfter.get(path));
        }
        // Nothing the host changed on its own is ever overwritten by a pull.
        for (const c of pull.changes) expect(JSON.stringify(host.get(c.path))).toBe(JSON.stringify(base.get(c.path)));
      }),
    );
  });
});

describe('the host side', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  it('scans files, symlinks and directories, skipping what it is told to, and applies a pull with conflicts kept aside', async () => {
    const root = await mkdtemp(join(tmpdir(), 'paude-sync-'));
    dirs.push(root);
    await mkdir(join(root, 'src'));
    await mkdir(join(root, 'empty'));
    await mkdir(join(root, 'node_modules'));
    await writeFile(join(root, 'src', 'a.txt'), 'a\n');
    await writeFile(join(root, 'node_modules', 'big.js'), 'x');
    await writeFile(join(root, '.envrc'), 'host\n');
    await symlink('src/a.txt', join(root, 'link'));
    const host = await scanHost(root, skipUnder(['node_modules', '.envrc']));
    expect([...host.manifest.keys()].sort()).toEqual(['link', 'src/a.txt']);
    expect(host.directories).toEqual(['empty', 'src']);

    const staged = await mkdtemp(join(tmpdir(), 'paude-sync-staged-'));
    dirs.push(staged);
    await writeFile(join(staged, 'a'), 'from agent\n');
    await writeFile(join(staged, 'b'), '#!/bin/sh\n');
    const agent: Side = {
      manifest: new Map([
        ['src/a.txt', f('agent-a')],
        ['new/b.sh', f('b', 0o755)],
      ]),
      file: (p) => join(staged, p === 'src/a.txt' ? 'a' : 'b'),
      linkTarget: () => Promise.reject(new Error('no links')),
    };
    const base: Manifest = new Map([['src/a.txt', f('agent-a')], ['link', host.manifest.get('link') as FileState]]);
    // The host changed src/a.txt too: a conflict. new/b.sh is new there: written. link was deleted there: deleted.
    const plan = planSync(base, agent.manifest, host.manifest);
    expect(plan.conflicts).toEqual([]);
    const conflictDir = join(root, '..', `${root.split('/').pop() ?? 'x'}-conflicts`);
    dirs.push(conflictDir);
    const base2: Manifest = new Map([['src/a.txt', f('older')], ['link', host.manifest.get('link') as FileState]]);
    const plan2 = planSync(base2, agent.manifest, host.manifest);
    expect(plan2.conflicts).toEqual(['src/a.txt']);
    await applyToHost(root, plan2, agent, conflictDir);
    expect(await readFile(join(root, 'src', 'a.txt'), 'utf8')).toBe('a\n');
    expect(await readFile(join(conflictDir, 'src', 'a.txt'), 'utf8')).toBe('from agent\n');
    expect(await readFile(join(root, 'new', 'b.sh'), 'utf8')).toBe('#!/bin/sh\n');
    expect((await stat(join(root, 'new', 'b.sh'))).mode & 0o777).toBe(0o755);
    await expect(readlink(join(root, 'link'))).rejects.toThrow();

    const file = join(root, '..', `${root.split('/').pop() ?? 'x'}-base.json`);
    dirs.push(file);
    await writeBase(file, plan2.nextBase);
    expect(await readBase(file)).toEqual(plan2.nextBase);
    await writeFile(file, '{"version":2}');
    await expect(readBase(file)).rejects.toThrow(/not a valid sync base/);
  });
});
