import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ProxyStateDir } from '../policy/proxy-state.js';
import { sessionDir } from '../sessions/session-record.js';
import { watchHeldRequests, type HeldRequest } from './held-requests.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function sessionsDir(...ids: string[]): Promise<{ root: string; state: (id: string) => ProxyStateDir }> {
  const root = await mkdtemp(join(tmpdir(), 'paude-held-'));
  dirs.push(root);
  const state = (id: string): ProxyStateDir => new ProxyStateDir(join(sessionDir(root, id), 'proxy'));
  for (const id of ids) await state(id).prepare();
  return { root, state };
}

/** A request the proxy's helper holds: STATE/pending/<id> = "host port method client epoch-seconds". */
const hold = (state: ProxyStateDir, id: string, host: string, epoch: number): Promise<void> => writeFile(join(state.pendingDir, id), `${host} 443 CONNECT 10.0.0.2 ${epoch}`);

const until = async (check: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 20));
  expect(check()).toBe(true);
};

describe('watching held requests', () => {
  it('is present for each watched session while it watches, and reports all held requests oldest first', async () => {
    const { root, state } = await sessionsDir('paude-a', 'paude-b');
    await hold(state('paude-b'), '1-1-1', 'later.test', 2000);
    await hold(state('paude-a'), '2-2-2', 'sooner.test', 1000);
    const seen: HeldRequest[][] = [];
    const watch = watchHeldRequests(root, () => ['paude-a', 'paude-b'], (held) => seen.push(held), { everyMs: 20 });
    await watch.ready;
    // Present: the proxy's helper finds a fresh watcher file and holds instead of refusing.
    expect(await readdir(state('paude-a').watchersDir)).toHaveLength(1);
    expect(await readdir(state('paude-b').watchersDir)).toHaveLength(1);
    await until(() => seen.at(-1)?.length === 2);
    expect(seen.at(-1)?.map((h) => `${h.session} ${h.host}`)).toEqual(['paude-a sooner.test', 'paude-b later.test']);
    await watch.stop();
    expect(await readdir(state('paude-a').watchersDir)).toHaveLength(0);
    expect(await readdir(state('paude-b').watchersDir)).toHaveLength(0);
  });

  it('follows the set of sessions: a new one is watched, one no longer named is left', async () => {
    const { root, state } = await sessionsDir('paude-a', 'paude-b');
    let named = ['paude-a'];
    const seen: HeldRequest[][] = [];
    const watch = watchHeldRequests(root, () => named, (held) => seen.push(held), { everyMs: 20 });
    await watch.ready;
    expect(await readdir(state('paude-b').watchersDir)).toHaveLength(0);
    await hold(state('paude-b'), '3-3-3', 'new.test', 3000);
    named = ['paude-b'];
    await until(() => seen.at(-1)?.[0]?.host === 'new.test');
    expect(await readdir(state('paude-b').watchersDir)).toHaveLength(1);
    // paude-a was left: its watcher file goes (the proxy refuses in ask mode without a watcher).
    for (let i = 0; i < 100 && (await readdir(state('paude-a').watchersDir)).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await readdir(state('paude-a').watchersDir)).toHaveLength(0);
    await watch.stop();
  });
});
