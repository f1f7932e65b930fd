/**
 * One proxy-event stream per session, seen from outside: the dashboard's BLOCKED column counts
 * exactly the refused requests its feed shows, for a real session behind a real squid (the
 * agent's readiness probe, which squid logs too, in neither), and `paude blocked` and
 * `paude sessions` in fresh processes count the same.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { parseAccessLine } from '../../src/policy/proxy-event.js';
import { liveServices } from '../../src/ui/live-services.js';
import type { DashboardServices } from '../../src/ui/services.js';
import type { FeedEvent } from '../../src/ui/store.js';
import { describeEngines } from '../support/engine-test.js';
import { runPaude } from '../support/run-cli.js';
import { startLiveSession, waitFor, type LiveSession } from '../support/session-fixture.js';

/** The session's BLOCKED cell, as the dashboard's session list has it. */
async function blockedCell(services: DashboardServices, id: string): Promise<number | undefined> {
  return (await services.listSessions()).rows.find((r) => r.id === id)?.blocked;
}

const refusedIn = (feed: readonly FeedEvent[]): number => feed.filter((e) => e.decision === 'deny').length;

/** What the CLI counts in a fresh process: paude blocked's rows and paude sessions' column. */
async function cliCounts(s: LiveSession): Promise<{ blocked: number; sessions: unknown }> {
  const b = await runPaude(['blocked', s.id, '--json'], { cwd: s.ws, env: s.env });
  expect(b.code, b.stderr).toBe(0);
  const rows = JSON.parse(b.stdout) as Array<{ count: number }>;
  const l = await runPaude(['sessions', '--json'], { cwd: s.ws, env: s.env });
  expect(l.code, l.stderr).toBe(0);
  const listed = (JSON.parse(l.stdout) as Array<{ id: string; blocked: number }>).find((r) => r.id === s.id);
  return { blocked: rows.reduce((n, r) => n + r.count, 0), sessions: listed?.blocked };
}

describeEngines('one proxy-event stream per session', (engine) => {
  it("the dashboard's BLOCKED count is the number of refused requests in its feed, and moves with it", async () => {
    const s = await startLiveSession(engine, { mode: 'restricted', allowlist: ['allowed.test'] }, ['allowed.test', 'refused.test', 'other.test']);
    engine.defer(async () => void (await s.stop()));
    for (const [url, status] of [
      ['http://allowed.test/', '200'],
      ['http://refused.test/', '403'],
      ['http://allowed.test/again', '200'],
      ['http://other.test/', '403'],
      ['http://refused.test/again', '403'],
    ] as const) {
      expect((await s.curl([url])).status, url).toBe(status);
    }
    // The readiness probe a Kubernetes agent makes (a request to the proxy itself), made here by
    // hand: squid logs it without a host, and it is not the agent's traffic.
    await s.curl(['--noproxy', '*', '--max-time', '2', 'http://127.0.0.1:3128/']);
    const log = await readFile(join(s.dataDir, 'sessions', s.id, 'proxy', 'log', 'access.log'), 'utf8');
    const probes = log.split('\n').filter((l) => l.split(' ')[3] === '-');
    expect(probes.map((l) => parseAccessLine(l, s.id, 0)?.host), log).toEqual(['-']);

    // As the dashboard does it: the list first (it counts), then the feed of the listed session.
    const services = liveServices(await loadConfig({ cwd: s.ws, env: s.env, trust: 'ignore' }), s.env, process);
    const first = await blockedCell(services, s.id);
    const feed: FeedEvent[] = [];
    const unfollow = services.followEvents(() => [s.id], (events) => feed.push(...events));
    engine.defer(() => Promise.resolve(unfollow()));
    await waitFor(() => Promise.resolve(feed.length >= 5 ? true : undefined), 30_000);
    expect(feed.map((e) => `${e.decision} ${e.host}`)).toEqual(['allow allowed.test', 'deny refused.test', 'allow allowed.test', 'deny other.test', 'deny refused.test']);
    expect(first).toBe(3);
    expect(await blockedCell(services, s.id)).toBe(refusedIn(feed));
    expect(await cliCounts(s)).toEqual({ blocked: 3, sessions: 3 });

    // One more refused request: the feed shows it, and the column follows.
    expect((await s.curl(['http://other.test/more'])).status).toBe('403');
    await waitFor(() => Promise.resolve(feed.length >= 6 ? true : undefined), 30_000);
    expect(feed.slice(5).map((e) => `${e.decision} ${e.host}`)).toEqual(['deny other.test']);
    expect(refusedIn(feed)).toBe(4);
    expect(await blockedCell(services, s.id)).toBe(refusedIn(feed));
    expect(await cliCounts(s)).toEqual({ blocked: 4, sessions: 4 });
    // Each request once in the feed.
    expect(new Set(feed.map((e) => e.key)).size).toBe(feed.length);
  });
});
