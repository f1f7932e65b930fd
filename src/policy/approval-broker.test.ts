import { mkdir, mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { presentEverywhere, relayWatchers, WATCHER_FRESH_MS } from './approval-broker.js';
import { ProxyStateDir } from './proxy-state.js';

describe('watchers of every session', () => {
  let dir: string;
  let everywhere: string;
  let state: ProxyStateDir;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'paude-watchers-'));
    everywhere = join(dir, 'watchers');
    state = new ProxyStateDir(join(dir, 'session', 'proxy'));
    await state.prepare();
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('are present in DATA/watchers until they leave', async () => {
    const leave = await presentEverywhere(everywhere, 'dash-1');
    const st = await stat(join(everywhere, 'dash-1'));
    expect(Date.now() - st.mtimeMs).toBeLessThan(WATCHER_FRESH_MS);
    await leave();
    expect(await readdir(everywhere)).toEqual([]);
  });

  it('are relayed into a session with their own time, and only while fresh', async () => {
    const now = Date.now();
    await mkdir(everywhere);
    await writeFile(join(everywhere, 'fresh'), '');
    const freshAt = new Date(now - 2000);
    await utimes(join(everywhere, 'fresh'), freshAt, freshAt);
    await writeFile(join(everywhere, 'stale'), '');
    const staleAt = new Date(now - WATCHER_FRESH_MS - 1000);
    await utimes(join(everywhere, 'stale'), staleAt, staleAt);
    // The session's own watcher (a paude attached to it) is not the relay's to touch.
    await state.heartbeat('own');

    await relayWatchers(everywhere, state, now);
    expect((await readdir(state.watchersDir)).sort()).toEqual(['all-fresh', 'own']);
    expect((await stat(join(state.watchersDir, 'all-fresh'))).mtimeMs).toBe(freshAt.getTime());
  });

  it('are taken back from a session once they left or went stale', async () => {
    const leave = await presentEverywhere(everywhere, 'dash-2');
    await relayWatchers(everywhere, state);
    expect(await readdir(state.watchersDir)).toEqual(['all-dash-2']);
    await leave();
    await relayWatchers(everywhere, state);
    expect(await readdir(state.watchersDir)).toEqual([]);

    await presentEverywhere(everywhere, 'dash-3').then(async (l) => {
      await relayWatchers(everywhere, state);
      await relayWatchers(everywhere, state, Date.now() + WATCHER_FRESH_MS + 1000);
      expect(await readdir(state.watchersDir)).toEqual([]);
      await l();
    });
  });

  it('relay nothing, and fail nothing, when nobody watches every session', async () => {
    await relayWatchers(everywhere, state);
    expect(await readdir(state.watchersDir)).toEqual([]);
  });
});
