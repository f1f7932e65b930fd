/**
 * paude killed with SIGKILL at every step of start, attach, detach, stop, rm and gc, and its
 * keeper killed in its own steps (src/faults.ts, PAUDE_FAULT_POINT). After each kill: `paude
 * sessions` tells the truth (never "starting" for a dead starter), every session record on disk
 * is whole and belongs to something the engine has, `paude gc` leaves nothing of a broken start
 * (containers, volumes, networks, metadata), a session that survived can be attached again and
 * removed, and the audit log has one end for every start.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { it, type ExpectStatic } from 'vitest';
import { describeEngines, type EngineHandle } from '../support/engine-test.js';
import { execIn } from '../support/exec.js';
import { runInPty, type PtyRun } from '../support/pty.js';
import { runPaude, type CliResult } from '../support/run-cli.js';
import { waitFor } from '../support/session-fixture.js';
import { testProject, type TestProject } from '../support/workspace.js';
import { AuditEventSchema } from '../../src/audit/audit-event.js';
import { FAULT_ENV, FAULT_POINTS, type FaultPoint } from '../../src/faults.js';
import { strayWrites } from '../../src/fs/stray-writes.js';
import { liveOwner } from '../../src/sessions/owner.js';
import { SessionRecordSchema } from '../../src/sessions/session-record.js';

/** How paude is brought to the point. */
type Flow =
  | 'start' // paude --detach --shell
  | 'foreground-detach' // paude --shell in a terminal, then the detach key
  | 'attach' // paude attach to a detached session
  | 'attach-detach' // paude attach, then the detach key
  | 'stop' // paude stop
  | 'stop-rm' // paude stop --rm
  | 'rm-force' // paude rm --force of a running session
  | 'gc' // paude gc of an interrupted start
  | 'keeper' // the keeper that paude --detach starts
  | 'proxy'; // the keeper, when the proxy it supervises has died

/** What the session is after the kill: gone once gc ran, still running, stopped, or running without its proxy. */
type Left = 'gone' | 'running' | 'stopped' | 'degraded';

const SCENARIOS: Record<FaultPoint, { flow: Flow; left: Left }> = {
  'start.dir-created': { flow: 'start', left: 'gone' },
  'start.owner-claimed': { flow: 'start', left: 'gone' },
  'start.state-written': { flow: 'start', left: 'gone' },
  'start.link-created': { flow: 'start', left: 'gone' },
  'start.volumes-created': { flow: 'start', left: 'gone' },
  'start.containers-created': { flow: 'start', left: 'gone' },
  'start.proxy-started': { flow: 'start', left: 'gone' },
  'start.record-written': { flow: 'start', left: 'gone' },
  'start.audit-recorded': { flow: 'start', left: 'gone' },
  'start.config-copied': { flow: 'start', left: 'gone' },
  // The agent runs: a detached session without a keeper (attach starts one).
  'start.agent-started': { flow: 'start', left: 'running' },
  'start.secrets-written': { flow: 'start', left: 'running' },
  'detach.keeper-started': { flow: 'foreground-detach', left: 'running' },
  'detach.handed-over': { flow: 'foreground-detach', left: 'running' },
  'attach.keeper-ensured': { flow: 'attach', left: 'running' },
  'attach.lease-claimed': { flow: 'attach', left: 'running' },
  'attach.terminal-opened': { flow: 'attach', left: 'running' },
  'attach.detached': { flow: 'attach-detach', left: 'running' },
  'stop.agent-stopped': { flow: 'stop', left: 'stopped' },
  'stop.proxy-stopped': { flow: 'stop', left: 'stopped' },
  'stop.settled': { flow: 'stop', left: 'stopped' },
  // Its command was ended before its end was recorded: a stopped session, never a running one.
  'rm.settled': { flow: 'stop-rm', left: 'stopped' },
  'rm.containers-removed': { flow: 'rm-force', left: 'gone' },
  'rm.engine-cleared': { flow: 'stop-rm', left: 'gone' },
  'gc.settled': { flow: 'gc', left: 'gone' },
  'keeper.claimed': { flow: 'keeper', left: 'running' },
  'proxy.restarting': { flow: 'proxy', left: 'degraded' },
};

interface Row {
  id: string;
  status: string;
  detail?: string;
}

/**
 * Points with the same outcome share a project (and so one `paude sessions`, one `paude gc` and
 * one clean-up for all of them); the groups run at the same time.
 */
const GROUPS: Array<{ name: string; points: FaultPoint[] }> = [
  { name: 'interrupted starts', points: FAULT_POINTS.filter((p) => SCENARIOS[p].flow === 'start' && SCENARIOS[p].left === 'gone') },
  { name: 'interrupted removals', points: FAULT_POINTS.filter((p) => SCENARIOS[p].flow !== 'start' && SCENARIOS[p].left === 'gone') },
  { name: 'sessions that started or were handed over', points: FAULT_POINTS.filter((p) => SCENARIOS[p].left === 'running' && !SCENARIOS[p].flow.startsWith('attach')) },
  { name: 'attaches', points: FAULT_POINTS.filter((p) => SCENARIOS[p].left === 'running' && SCENARIOS[p].flow.startsWith('attach')) },
  { name: 'stops', points: FAULT_POINTS.filter((p) => SCENARIOS[p].left === 'stopped') },
  { name: 'the proxy supervisor', points: FAULT_POINTS.filter((p) => SCENARIOS[p].left === 'degraded') },
];

describeEngines('faults: paude killed at every step', (engine) => {
  it('has a scenario for every fault point in the product, each in one group', ({ expect }) => {
    expect(Object.keys(SCENARIOS).sort()).toEqual([...FAULT_POINTS].sort());
    expect(GROUPS.flatMap((g) => g.points).sort()).toEqual([...FAULT_POINTS].sort());
  });

  it.concurrent.for(GROUPS)('$name', async ({ points }, { expect }) => {
    const p = await testProject(engine);
    const killed: Array<{ point: FaultPoint; id: string }> = [];
    for (const point of points) killed.push({ point, id: await killAt(engine, p, point, SCENARIOS[point].flow, expect) });
    const left = SCENARIOS[points[0] ?? 'start.dir-created'].left;
    expect(points.every((point) => SCENARIOS[point].left === left)).toBe(true);
    await expectConsistent(engine, p, killed, left, expect);
  });
});

/** Brings paude to the point with the fault armed; returns the session's id. */
async function killAt(engine: EngineHandle, p: TestProject, point: FaultPoint, flow: Flow, expect: ExpectStatic): Promise<string> {
  const armed = { ...p.env, [FAULT_ENV]: point };
  const armedPaude = (args: string[]): Promise<CliResult> => runPaude(args, { cwd: p.ws, env: armed });
  const killed = (r: CliResult): void => expect(r.signal, `${point}: ${r.stderr}`).toBe('SIGKILL');
  const before = new Set(await readdir(join(p.dataDir, 'sessions')).catch(() => [] as string[]));
  // The first step of a start makes the session's directory: its name is the id.
  const newSession = async (): Promise<string> => {
    const added = (await readdir(join(p.dataDir, 'sessions'))).filter((n) => !before.has(n));
    if (added.length !== 1 || !added[0]) throw new Error(`${point}: expected one new session directory, found ${added.join(', ') || 'none'}`);
    return added[0];
  };
  switch (flow) {
    case 'start': {
      killed(await armedPaude(['--detach', '--shell']));
      return newSession();
    }
    case 'foreground-detach': {
      const run = runInPty(['--shell'], { cwd: p.ws, env: armed });
      try {
        await run.waitFor(/[$#] $/m, 60_000);
        run.write('\x1d');
        expect(await run.signal, point).toBe(9);
      } finally {
        run.pty.kill();
      }
      return newSession();
    }
    case 'attach':
    case 'attach-detach': {
      const id = await startDetached(p, expect);
      const run = runInPty(['attach', id], { cwd: p.ws, env: armed });
      try {
        if (flow === 'attach-detach') {
          await run.waitFor(/[$#] $/m);
          run.write('\x1d');
        }
        expect(await run.signal, point).toBe(9);
      } finally {
        run.pty.kill();
      }
      return id;
    }
    case 'stop':
    case 'stop-rm':
    case 'rm-force': {
      const id = await startDetached(p, expect);
      killed(await armedPaude(flow === 'stop' ? ['stop', id] : flow === 'stop-rm' ? ['stop', '--rm', id] : ['rm', '--force', id]));
      return id;
    }
    case 'gc': {
      killed(await runPaude(['--detach', '--shell'], { cwd: p.ws, env: { ...p.env, [FAULT_ENV]: 'start.config-copied' } }));
      const id = await newSession();
      killed(await armedPaude(['gc']));
      return id;
    }
    case 'keeper': {
      // Only the keeper meets this point: paude itself hands over and exits 0.
      const r = await armedPaude(['--detach', '--shell']);
      expect(r.code, r.stderr).toBe(0);
      const id = r.stdout.trim();
      await waitFor(async () => ((await liveOwner(join(p.dataDir, 'sessions', id), 'keeper')) === undefined ? true : undefined), 20_000);
      return id;
    }
    case 'proxy': {
      const r = await armedPaude(['--detach', '--shell']);
      expect(r.code, r.stderr).toBe(0);
      const id = r.stdout.trim();
      const dir = join(p.dataDir, 'sessions', id);
      await waitFor(async () => ((await liveOwner(dir, 'keeper')) !== undefined ? true : undefined), 20_000);
      // The keeper sees the dead proxy and dies as it is about to start it again.
      await engine.docker.getContainer(`${id}-proxy`).kill();
      await waitFor(async () => ((await liveOwner(dir, 'keeper')) === undefined ? true : undefined), 20_000);
      return id;
    }
  }
}

async function expectConsistent(engine: EngineHandle, p: TestProject, killed: Array<{ point: FaultPoint; id: string }>, left: Left, expect: ExpectStatic): Promise<void> {
  // What paude sessions says after the kills: the truth, and never "starting" for a dead starter.
  const listed = await rows(p, expect);
  const expected = { gone: ['error', undefined], running: ['detached'], stopped: ['stopped'], degraded: ['degraded'] }[left];
  for (const { point, id } of killed) {
    expect(id).toMatch(/^paude-[a-z0-9]+$/);
    const row = listed.find((r) => r.id === id);
    expect(expected, `${point}: ${id} is listed as ${JSON.stringify(row)}`).toContain(row?.status);
  }
  await expectRecordsWhole(p, expect);

  const gc = await p.paude(['gc']);
  expect(gc.code, gc.stderr).toBe(0);
  // Writes cut short by the kill are gone too (a live keeper's write in progress may be there).
  expect(await strayWrites(p.dataDir)).toEqual([]);
  const ids = killed.map((k) => k.id);
  if (left === 'gone') {
    expect(await leftovers(engine, p)).toEqual([]);
    expect(await readdir(join(p.dataDir, 'sessions')).catch(() => [])).toEqual([]);
  } else expect(gc.stdout).toBe('nothing to remove\n');

  if (left === 'running' || left === 'degraded') {
    for (const { id } of killed) await expectAttachable(p, id, expect);
    if (left === 'degraded') {
      // The keeper that attach started again brings the proxy back: the agent's requests are answered.
      for (const id of ids) {
        await waitFor(async () => ((await rows(p, expect)).find((r) => r.id === id)?.status === 'detached' ? true : undefined), 30_000);
        const r = await execIn(engine.docker, id, ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '5', 'http://nowhere.test/']);
        expect(r.stdout).toBe('403');
      }
    }
    const rm = await p.paude(['stop', '--rm', ...ids]);
    expect(rm.code, rm.stderr).toBe(0);
  } else if (left === 'stopped') {
    const rm = await p.paude(['rm', ...ids]);
    expect(rm.code, rm.stderr).toBe(0);
  }
  expect(await leftovers(engine, p)).toEqual([]);
  expect(await readdir(join(p.dataDir, 'sessions')).catch(() => [])).toEqual([]);
  for (const id of ids) await expectAuditWhole(p, id, expect);
}

async function rows(p: TestProject, expect: ExpectStatic): Promise<Row[]> {
  const r = await p.paude(['sessions', '--all', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Row[];
}

async function startDetached(p: TestProject, expect: ExpectStatic): Promise<string> {
  const r = await p.paude(['--detach', '--shell']);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim();
}

/** Every session directory holds a whole record (or, before gc, none yet). */
async function expectRecordsWhole(p: TestProject, expect: ExpectStatic): Promise<void> {
  for (const name of await readdir(join(p.dataDir, 'sessions')).catch(() => [] as string[])) {
    const files = await readdir(join(p.dataDir, 'sessions', name));
    if (!files.includes('session.json')) continue;
    const parsed = SessionRecordSchema.safeParse(JSON.parse(await readFile(join(p.dataDir, 'sessions', name, 'session.json'), 'utf8')));
    expect(parsed.success).toBe(true);
  }
}

/** Every audit line is an event, each id once, and a session that started has exactly one end. */
async function expectAuditWhole(p: TestProject, id: string, expect: ExpectStatic): Promise<void> {
  const text = await readFile(join(p.dataDir, 'audit', `${id}.jsonl`), 'utf8').catch(() => '');
  const events = text
    .split('\n')
    .filter(Boolean)
    .map((l) => AuditEventSchema.parse(JSON.parse(l)));
  expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  const starts = events.filter((e) => e.event === 'session.start').length;
  expect(events.filter((e) => e.event === 'session.end')).toHaveLength(starts);
}

/** The attached terminal works: a command runs and the detach key leaves it running. */
async function expectAttachable(p: TestProject, id: string, expect: ExpectStatic): Promise<void> {
  const run: PtyRun = runInPty(['attach', id], { cwd: p.ws, env: p.env });
  try {
    await run.waitFor(/[$#] $/m);
    run.write('echo back-$((40+2))\r');
    await run.waitFor(/^back-42$/m);
    run.write('\x1d');
    expect(await run.exit).toBe(0);
  } finally {
    run.pty.kill();
  }
}

/** Containers, volumes and networks paude made for this workspace that are still there. */
async function leftovers(engine: EngineHandle, p: TestProject): Promise<string[]> {
  const filters = JSON.stringify({ label: [`paude.workspace=${p.ws}`] });
  const [containers, volumes, networks] = await Promise.all([engine.docker.listContainers({ all: true, filters }), engine.docker.listVolumes({ filters }), engine.docker.listNetworks({ filters })]);
  return [...containers.map((c) => `container ${c.Names[0] ?? c.Id}`), ...(volumes.Volumes ?? []).map((v) => `volume ${v.Name}`), ...networks.map((n) => `network ${n.Name}`)];
}
