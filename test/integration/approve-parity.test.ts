/**
 * One approve for both front ends: a request held in ask mode, answered once or stored at the
 * session, project or global scope, leaves the same stored policy and the same audit events
 * whether `paude approve` or the dashboard's services answered it. The requests go to a port
 * other than 80/443, which a stored answer must name (host:port): the next request to it is
 * not held again. A request answered once is held again (the control: nothing was stored).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { projectRulesFile, readScopedRules, sessionRulesFile } from '../../src/policy/policy-stores.js';
import { liveServices } from '../../src/ui/live-services.js';
import type { HeldApproval } from '../../src/ui/store.js';
import { describeEngines } from '../support/engine-test.js';
import { runPaude } from '../support/run-cli.js';
import { startLiveSession, waitFor, type LiveSession } from '../support/session-fixture.js';

const FRONTS = ['cli', 'ui'] as const;
const SCOPES = ['once', 'session', 'project', 'global'] as const;
type Front = (typeof FRONTS)[number];
type Scope = (typeof SCOPES)[number];

const hostOf = (front: Front, scope: Scope): string => `${front}-${scope}.test`;

describeEngines('approve: the same answer from paude approve and from the dashboard', (engine) => {
  let s: LiveSession;
  let held: HeldApproval[] = [];
  let unfollow: (() => void) | undefined;
  let services: ReturnType<typeof liveServices>;

  beforeAll(async () => {
    const hosts = FRONTS.flatMap((f) => SCOPES.map((sc) => hostOf(f, sc)));
    s = await startLiveSession(engine, { mode: 'ask', approvalTimeoutSeconds: 60 }, hosts);
    services = liveServices(await loadConfig({ cwd: s.ws, env: s.env, trust: 'ignore' }), s.env, process, s.ws);
    // The dashboard lists sessions before it answers (it answers for the sessions it shows).
    await services.listSessions();
    // The dashboard is the watcher for both: it is what makes the proxy hold requests.
    unfollow = services.followApprovals(() => [s.id], (h) => (held = h));
  });
  afterAll(async () => {
    unfollow?.();
    await s.stop();
  });

  // Each held request once: the list may still show one that was just answered.
  const answered = new Set<string>();
  const heldFor = async (host: string): Promise<HeldApproval> => {
    const h = await waitFor(() => Promise.resolve(held.find((x) => x.host === host && !answered.has(x.id))), 20_000);
    answered.add(h.id);
    return h;
  };

  async function answer(front: Front, h: HeldApproval, scope: Scope | 'deny'): Promise<void> {
    if (front === 'ui') {
      await services.decide(h, scope);
      return;
    }
    const args = scope === 'deny' ? ['approve', h.id, '--deny'] : ['approve', h.id, '--scope', scope];
    const r = await runPaude(args, { cwd: s.ws, env: s.env });
    expect(r.code, r.stderr).toBe(0);
  }

  /** Where each scope stores an answer, with this front's host made generic. */
  async function stored(front: Front, scope: Scope): Promise<unknown> {
    const generic = (entries: readonly string[]): string[] => entries.filter((e) => e.startsWith(`${front}-`)).map((e) => e.replace(`${front}-`, 'X-'));
    const session = await readScopedRules(sessionRulesFile(s.dataDir, s.id));
    const project = await readScopedRules(projectRulesFile(s.dataDir, s.ws));
    const global = JSON.parse(await readFile(join(s.env.PAUDE_CONFIG_DIR ?? '', 'paude.json'), 'utf8')) as { network?: { allowlist?: string[] } };
    const onlyScope = (e: string): boolean => e.startsWith(`${hostOf(front, scope)}`);
    return {
      session: generic(session.allow.filter(onlyScope)),
      project: generic(project.allow.filter(onlyScope)),
      global: generic((global.network?.allowlist ?? []).filter(onlyScope)),
    };
  }

  /** The audit events about this front's host, without what differs by nature (ids, times, who answered). */
  async function audited(front: Front, scope: Scope): Promise<unknown[]> {
    const dir = join(s.dataDir, 'audit');
    const lines: string[] = [];
    for (const f of (await readdir(dir)).sort()) lines.push(...(await readFile(join(dir, f), 'utf8')).split('\n').filter(Boolean));
    const host = hostOf(front, scope);
    return lines
      .map((l) => JSON.parse(l) as { event: string; ts: string; session_id: string; data: Record<string, unknown> })
      // By kind, then time: a change and its approval can share a millisecond.
      .sort((a, b) => a.event.localeCompare(b.event) || a.ts.localeCompare(b.ts))
      .filter((e) => (e.event === 'approval' || e.event === 'policy.change') && JSON.stringify(e.data).includes(host))
      .map((e) => {
        const { request: _r, who: _w, from, ...data } = e.data;
        expect(from).toBe(front === 'cli' ? 'cli' : 'dashboard');
        return { event: e.event, session_id: e.session_id, data: JSON.parse(JSON.stringify(data).replaceAll(`${front}-`, 'X-')) as unknown };
      });
  }

  it.each(SCOPES)('answers a request held for host:port at %s scope alike from both, and the next request follows', async (scope) => {
    const port = s.upstream.extraPort;
    const seen: Record<Front, { stored: unknown; audit: unknown[] }> = { cli: { stored: {}, audit: [] }, ui: { stored: {}, audit: [] } };
    for (const front of FRONTS) {
      const url = `http://${hostOf(front, scope)}:${port}/`;
      const request = s.curl([url]);
      await answer(front, await heldFor(hostOf(front, scope)), scope);
      expect((await request).status).toBe('200');

      const again = s.curl([url]);
      if (scope === 'once') {
        // Nothing was stored: the next request is held again, and a deny refuses it.
        const h = await heldFor(hostOf(front, scope));
        await answer(front, h, 'deny');
        expect((await again).status).toBe('403');
      } else {
        // Stored as host:port: decided by the policy at once, never held (nobody would answer it).
        expect((await again).status).toBe('200');
      }
      seen[front] = { stored: await stored(front, scope), audit: await audited(front, scope) };
    }
    const entry = `X-${scope}.test:${port}`;
    // A global change also reaches the running sessions as a session change (they read no config files).
    const expectStored = { session: scope === 'session' || scope === 'global' ? [entry] : [], project: scope === 'project' ? [entry] : [], global: scope === 'global' ? [entry] : [] };
    expect(seen.cli.stored).toEqual(expectStored);
    expect(seen.ui.stored).toEqual(expectStored);
    expect(seen.ui.audit).toEqual(seen.cli.audit);
    expect(seen.cli.audit.map((e) => (e as { event: string }).event)).toEqual(scope === 'once' ? ['approval', 'approval'] : ['approval', 'policy.change']);
  });
});
