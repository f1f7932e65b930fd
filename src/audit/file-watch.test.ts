import { writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditEvent } from './audit-event.js';
import { AuditLog } from './audit-log.js';
import { catchUpFiles, FILE_MANIFEST, WorkspaceWatch } from './file-watch.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function setup(): Promise<{ ws: string; session: string; log: AuditLog }> {
  const base = await mkdtemp(join(tmpdir(), 'paude-files-'));
  dirs.push(base);
  const ws = join(base, 'ws');
  const session = join(base, 'session');
  await mkdir(join(ws, 'src'), { recursive: true });
  await mkdir(join(ws, '.git'), { recursive: true });
  await mkdir(session);
  await writeFile(join(ws, 'src', 'a.ts'), 'a');
  await writeFile(join(ws, 'keep.txt'), 'k');
  await writeFile(join(ws, 'gone.txt'), 'g');
  return { ws, session, log: new AuditLog(join(base, 'audit')) };
}

type FileEvent = Extract<AuditEvent, { event: 'file' }>;
const changes = async (log: AuditLog): Promise<Array<[string, string, boolean]>> =>
  (await log.read({ session: 's1' })).events.filter((e): e is FileEvent => e.event === 'file').map((e) => [e.data.change, e.data.path, e.data.unwatched ?? false]);

const until = async (check: () => Promise<boolean>): Promise<void> => {
  for (let i = 0; i < 100 && !(await check()); i++) await new Promise((r) => setTimeout(r, 50));
};

describe('WorkspaceWatch', () => {
  it('records live changes, then what changed while nobody watched, each once', async () => {
    const { ws, session, log } = await setup();
    const watch = new WorkspaceWatch(log, 's1', ws, ['cache'], session);
    watch.start();
    await until(async () => (await readFile(join(session, FILE_MANIFEST), 'utf8').catch(() => '')).includes('keep.txt'));
    await writeFile(join(ws, 'src', 'new.ts'), 'n');
    await writeFile(join(ws, '.git', 'HEAD'), 'x'); // never recorded
    await until(async () => (await changes(log)).length > 0);
    await watch.stop();
    expect(await changes(log)).toEqual([['created', 'src/new.ts', false]]);

    // The keeper is gone: changes happen unseen, then the session is settled.
    await new Promise((r) => setTimeout(r, 20)); // a different mtime from the live write
    await writeFile(join(ws, 'keep.txt'), 'changed');
    await rm(join(ws, 'gone.txt'));
    await mkdir(join(ws, 'cache'));
    await writeFile(join(ws, 'cache', 'ignored'), 'i');
    await writeFile(join(ws, 'late.txt'), 'l');
    expect(await catchUpFiles(log, 's1', session)).toBe(3);
    expect(await catchUpFiles(log, 's1', session)).toBe(0); // once
    expect((await changes(log)).slice(1).sort()).toEqual([
      ['created', 'late.txt', true],
      ['deleted', 'gone.txt', true],
      ['modified', 'keep.txt', true],
    ]);
  });

  it('a new watch of the same session catches up before it goes on live, and a crash between looks repeats nothing', async () => {
    const { ws, session, log } = await setup();
    const first = new WorkspaceWatch(log, 's1', ws, [], session);
    first.start();
    await first.stop();
    await writeFile(join(ws, 'while-away.txt'), 'w');
    const second = new WorkspaceWatch(log, 's1', ws, [], session);
    second.start();
    await until(async () => (await changes(log)).length > 0);
    // The same unseen change recorded again by anyone (say, a settle racing the keeper) is one event.
    await writeFile(join(session, FILE_MANIFEST), JSON.stringify({ version: 1, root: ws, skip: [], files: {} }));
    await catchUpFiles(log, 's1', session);
    await second.stop();
    const all = await changes(log);
    expect(all.filter(([, p]) => p === 'while-away.txt')).toEqual([['created', 'while-away.txt', true]]);
  });

  it('records a file written as the watch begins, whichever of the first look and the watcher sees it first', async () => {
    for (let round = 0; round < 5; round++) {
      const { ws, session, log } = await setup();
      const watch = new WorkspaceWatch(log, 's1', ws, [], session);
      watch.start();
      writeFileSync(join(ws, `quick-${round}.txt`), 'q');
      await until(async () => (await changes(log)).length > 0);
      await watch.stop();
      // keep.txt and the others were there before: no event for them.
      expect(await changes(log)).toEqual([['created', `quick-${round}.txt`, false]]);
    }
  });

  it('ignores a manifest that is not its own shape', async () => {
    const { session, log } = await setup();
    await writeFile(join(session, FILE_MANIFEST), '{"version":2}');
    expect(await catchUpFiles(log, 's1', session)).toBe(0);
  });
});
