/**
 * One remove for both front ends: a running session removed with `paude rm --force` and one
 * removed from the dashboard leave the same audit trail (the session's end with how and its
 * exit code, the protected path it created moved to the quarantine) and nothing on the engine
 * or in paude's data.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { liveServices } from '../../src/ui/live-services.js';
import { describeEngines } from '../support/engine-test.js';
import { waitFor } from '../support/session-fixture.js';
import { testProject, type TestProject } from '../support/workspace.js';

interface Event {
  event: string;
  session_id: string;
  data: Record<string, unknown>;
}

async function eventsOf(dataDir: string, id: string): Promise<Event[]> {
  const dir = join(dataDir, 'audit');
  const lines: string[] = [];
  for (const f of (await readdir(dir)).sort()) lines.push(...(await readFile(join(dir, f), 'utf8')).split('\n').filter(Boolean));
  return lines.map((l) => JSON.parse(l) as Event).filter((e) => e.session_id === id);
}

/** What a user reads in the trail, with what differs by nature (ids, paths, durations) made generic. */
function trail(events: Event[], id: string, ws: string): unknown[] {
  return events
    .filter((e) => e.event === 'session.end' || e.event === 'quarantine')
    .map((e) => {
      const { duration_ms: _d, ...data } = e.data;
      return { event: e.event, data: JSON.parse(JSON.stringify(data).replaceAll(id, 'ID').replaceAll(ws, 'WS')) as unknown };
    });
}

describeEngines('remove: paude rm and the dashboard leave the same trail', (engine) => {
  it('records the end and the quarantine alike, and leaves nothing behind, from either front end', async () => {
    const cli = await testProject(engine);
    const ui = await testProject(engine, { sharedWith: cli });
    const start = async (p: TestProject): Promise<string> => {
      // The session makes a protected path (.envrc, which direnv would run on the host), then waits.
      const r = await p.paude(['--detach', '--shell', '--', 'sh', '-c', 'echo "eval evil" > .envrc; exec sleep 600']);
      expect(r.code, r.stderr).toBe(0);
      return r.stdout.trim();
    };
    const [cliId, uiId] = await Promise.all([start(cli), start(ui)]);

    const rm = await cli.paude(['rm', '--force', cliId]);
    expect(rm.code, rm.stderr).toBe(0);
    expect(rm.stdout.trim()).toBe(`removed ${cliId}`);

    const services = liveServices(await loadConfig({ cwd: ui.ws, env: ui.env, trust: 'ignore' }), ui.env, process, ui.ws);
    await waitFor(async () => ((await services.listSessions()).rows.some((r) => r.id === uiId) ? true : undefined), 20_000);
    expect(await services.remove(uiId)).toBe(`removed ${uiId}`);

    const cliTrail = trail(await eventsOf(cli.dataDir, cliId), cliId, cli.ws);
    const uiTrail = trail(await eventsOf(ui.dataDir, uiId), uiId, ui.ws);
    // Not vacuous: the trail has the quarantine and the end, in that order.
    expect(cliTrail.map((e) => (e as Event).event)).toEqual(['quarantine', 'session.end']);
    expect(cliTrail[1]).toMatchObject({ data: { how: 'removed' } });
    expect(uiTrail).toEqual(cliTrail);

    for (const id of [cliId, uiId]) {
      const label = JSON.stringify({ label: [`paude.session=${id}`] });
      expect(await engine.docker.listContainers({ all: true, filters: label })).toEqual([]);
      expect((await engine.docker.listVolumes({ filters: label })).Volumes ?? []).toEqual([]);
    }
    expect(await readdir(join(cli.dataDir, 'sessions'))).toEqual([]);
    // The protected path left both workspaces.
    for (const p of [cli, ui]) await expect(readFile(join(p.ws, '.envrc'))).rejects.toThrow(/ENOENT/);
  });
});
