/**
 * Sessions through the real binary in real terminals: detach, list, attach, resize, the detach
 * key, reattach to the same screen, stop and rm; paude killed mid-start and mid-attach; two
 * workspaces at once; the idle timeout.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { describeEngines, type EngineHandle } from '../support/engine-test.js';
import { runInPty, type PtyRun } from '../support/pty.js';
import { waitFor } from '../support/session-fixture.js';
import { testProject, type TestProject } from '../support/workspace.js';
import { connectEngine } from '../../src/backends/engine/engine.js';
import { LocalBackend } from '../../src/backends/local/local-backend.js';
import { SessionScreen } from '../../src/sessions/screen.js';

interface Row {
  id: string;
  status: string;
  backend: string;
  workspace?: string;
  network?: string;
  blocked: number;
  clients?: number;
  exitCode?: number;
  detail?: string;
}

async function rows(p: TestProject): Promise<Row[]> {
  const r = await p.paude(['sessions', '--all', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Row[];
}

async function row(p: TestProject, id: string): Promise<Row | undefined> {
  return (await rows(p)).find((r) => r.id === id);
}

async function startDetached(p: TestProject, args: string[] = ['--shell']): Promise<string> {
  const r = await p.paude(['--detach', ...args]);
  expect(r.code, r.stderr).toBe(0);
  const id = r.stdout.trim();
  expect(id).toMatch(/^paude-[a-z0-9]{6}$/);
  return id;
}

function attach(p: TestProject, ref: string, size = { cols: 100, rows: 30 }): PtyRun {
  return runInPty(['attach', ref], { cwd: p.ws, env: p.env, ...size });
}

async function resources(engine: EngineHandle, id: string): Promise<string[]> {
  const filters = JSON.stringify({ label: [`paude.session=${id}`] });
  const containers = await engine.docker.listContainers({ all: true, filters });
  const volumes = (await engine.docker.listVolumes({ filters })).Volumes ?? [];
  return [...containers.map((c) => `container ${c.Names[0] ?? c.Id}`), ...volumes.map((v) => `volume ${v.Name}`)];
}

/** The screen's new size reaches tmux through an API call: ask until it has landed. */
async function expectCols(run: PtyRun, cols: number): Promise<void> {
  for (let i = 0; ; i++) {
    run.write(`clear; tput cols\r`);
    try {
      await run.waitFor(new RegExp(`^${cols}$`, 'm'), 500);
      return;
    } catch (error) {
      if (i >= 20) throw error;
    }
  }
}

describeEngines('sessions: detach, attach, stop', (engine) => {
  it('detaches, lists, attaches with resize, detaches with the key, reattaches to the same screen, stops and removes', async () => {
    const p = await testProject(engine);
    const id = await startDetached(p);

    const table = await p.paude(['sessions']);
    expect(table.stdout).toMatch(new RegExp(`^${id}\\s+detached\\s+${engine.name}\\s+\\d+s ago\\s+${p.ws}\\s+restricted\\s+0\\s+-$`, 'm'));
    expect(await row(p, id)).toMatchObject({ status: 'detached', backend: engine.name, workspace: p.ws, network: 'restricted', blocked: 0, clients: 0 });

    // A unique prefix is enough.
    const first = attach(p, id.slice('paude-'.length, 'paude-'.length + 4));
    try {
      await first.waitFor(/[$#] $/m);
      first.write('echo hello-$((6*7))\r');
      await first.waitFor(/^hello-42$/m);
      expect(await row(p, id)).toMatchObject({ status: 'attached', clients: 1 });
      first.write('tput cols\r');
      await first.waitFor(/^100$/m);
      first.resize(123, 40);
      await expectCols(first, 123);
      first.write('echo before-detach\r');
      await first.waitFor(/^before-detach$/m);
      first.write('\x1d'); // ctrl-], the default detach key
      expect(await first.exit).toBe(0);
      expect(first.screen().join('\n')).toContain(`detached from ${id}, which goes on`);
    } finally {
      first.pty.kill();
    }
    expect(await row(p, id)).toMatchObject({ status: 'detached', clients: 0 });

    // Reattached, the screen is what it was: no blank screen, no lost output.
    const second = attach(p, id, { cols: 123, rows: 40 });
    try {
      await second.waitFor(/^before-detach$/m);
      second.write('\x1d');
      expect(await second.exit).toBe(0);
    } finally {
      second.pty.kill();
    }

    const stop = await p.paude(['stop', id]);
    expect(stop.code, stop.stderr).toBe(0);
    expect(stop.stdout).toBe(`stopped ${id}\n`);
    const active = JSON.parse((await p.paude(['sessions', '--json'])).stdout) as Row[];
    expect(active.map((r) => r.id)).not.toContain(id);
    expect(await row(p, id)).toMatchObject({ status: 'stopped' });
    expect(await resources(engine, id)).not.toHaveLength(0); // state kept

    const rm = await p.paude(['rm', id]);
    expect(rm.code, rm.stderr).toBe(0);
    expect(await row(p, id)).toBeUndefined();
    expect(await resources(engine, id)).toEqual([]);
    expect(await readdir(join(p.dataDir, 'sessions'))).not.toContain(id);
  });

  it('detaches a foreground session with the key; the command ends while reattached and its code comes back', async () => {
    const p = await testProject(engine);
    const fg = runInPty(['--shell'], { cwd: p.ws, env: p.env, cols: 100, rows: 30 });
    let id: string;
    try {
      await fg.waitFor(/[$#] $/m, 90_000);
      fg.write('echo $PAUDE_SESSION\r');
      await fg.waitFor(/^paude-[a-z0-9]{6}$/m);
      id = /^(paude-[a-z0-9]{6})$/m.exec(fg.screen().join('\n'))?.[1] ?? '';
      fg.write('\x1d');
      expect(await fg.exit).toBe(0);
    } finally {
      fg.pty.kill();
    }
    expect(await row(p, id)).toMatchObject({ status: 'detached' });
    // The session's own tmux is invisible: a stopped server is not mistaken for the command's end.
    const back = attach(p, id);
    try {
      await back.waitFor(/[$#] $/m);
      back.write('echo last-words; exit 5\r');
      expect(await back.exit).toBe(5);
      // What the command left on its screen is shown after tmux gives the terminal back (the
      // PTY may report the exit before its last output has been read).
      await back.waitFor(/last-words[\s\S]*has ended \(exit 5\)/, 3000);
    } finally {
      back.pty.kill();
    }
    expect(await row(p, id)).toMatchObject({ status: 'stopped', exitCode: 5 });
    expect((await p.paude(['rm', id])).code).toBe(0);
    expect(await resources(engine, id)).toEqual([]);
  });

  it('refuses to attach without a terminal and names the session it cannot find', async () => {
    const p = await testProject(engine);
    const noTty = await p.paude(['attach', 'zzzzzz']);
    expect(noTty.code).toBe(2);
    expect(noTty.stderr).toBe('paude: paude attach needs a terminal (stdin and stdout); use paude sessions to look at sessions from scripts\n');
    const missing = await p.paude(['stop', 'zzzzzz']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^paude: no session "zzzzzz" \(there are none\)\n$/);
    const running = await startDetached(p);
    const rm = await p.paude(['rm', running]);
    expect(rm.code).toBe(2);
    expect(rm.stderr).toContain(`${running} is still running; paude stop it first, or paude rm --force`);
    expect((await p.paude(['rm', '--force', running])).code).toBe(0);
    expect(await resources(engine, running)).toEqual([]);
  });

  it('leaves nothing unexplained when paude is killed mid-start or mid-attach; gc cleans up', async () => {
    const p = await testProject(engine);
    // Mid-start: as soon as the session has a directory, before it is up.
    const starting = runInPty(['--shell'], { cwd: p.ws, env: p.env });
    const dir = await waitFor(async () => (await readdir(join(p.dataDir, 'sessions')).catch(() => [] as string[]))[0], 60_000);
    process.kill(starting.pty.pid, 'SIGKILL');
    await starting.exit;
    // Whatever got created is listed as in error (or, if the start had finished, as a session).
    const after = await waitFor(async () => {
      const r = await row(p, dir);
      return r?.status === 'starting' ? undefined : (r ?? { id: dir, status: 'absent', backend: '', blocked: 0 });
    }, 30_000);
    expect(['error', 'detached', 'absent']).toContain(after.status);
    const gc = await p.paude(['gc']);
    expect(gc.code, gc.stderr).toBe(0);
    const left = await row(p, dir);
    if (left) expect(left.status).toBe('detached');
    else expect(await resources(engine, dir)).toEqual([]);
    if (left) expect((await p.paude(['rm', '--force', dir])).code).toBe(0);
    expect(await resources(engine, dir)).toEqual([]);
    expect(await readdir(join(p.dataDir, 'sessions')).catch(() => [])).toEqual([]);

    // Mid-attach: the session goes on and is seen as detached again.
    const id = await startDetached(p);
    const client = attach(p, id);
    await client.waitFor(/[$#] $/m);
    expect(await row(p, id)).toMatchObject({ status: 'attached' });
    process.kill(client.pty.pid, 'SIGKILL');
    await client.exit;
    const seen = await waitFor(async () => {
      const r = await row(p, id);
      return r?.status === 'attached' ? undefined : r;
    }, 20_000);
    expect(seen).toMatchObject({ status: 'detached' });
    const gc2 = await p.paude(['gc']);
    expect(gc2.stdout).toBe('nothing to remove\n');
    expect((await p.paude(['stop', '--rm', id])).code).toBe(0);
    expect(await resources(engine, id)).toEqual([]);
  });

  it('runs two sessions in two workspaces at once; attach without an id picks this workspace', async () => {
    const a = await testProject(engine);
    const b = await testProject(engine, { sharedWith: a });
    const [idA, idB] = await Promise.all([startDetached(a), startDetached(b)]);
    const listed = await rows(a);
    expect(listed.find((r) => r.id === idA)).toMatchObject({ status: 'detached', workspace: a.ws });
    expect(listed.find((r) => r.id === idB)).toMatchObject({ status: 'detached', workspace: b.ws });
    for (const [p, id] of [
      [a, idA],
      [b, idB],
    ] as const) {
      const run = runInPty(['attach'], { cwd: p.ws, env: p.env });
      try {
        await run.waitFor(/[$#] $/m);
        run.write('echo "in:$PAUDE_SESSION:$(pwd)"\r');
        await run.waitFor(new RegExp(`^in:${id}:${p.ws}$`, 'm'));
        run.write('\x1d');
        expect(await run.exit).toBe(0);
      } finally {
        run.pty.kill();
      }
    }
    const stop = await a.paude(['stop', '--rm', idA, idB]);
    expect(stop.code, stop.stderr).toBe(0);
    expect([...(await resources(engine, idA)), ...(await resources(engine, idB))]).toEqual([]);
  });

  it('stops a session nobody is attached to once it has been idle for sessions.idleTimeoutMinutes', async () => {
    const p = await testProject(engine, { config: { sessions: { idleTimeoutMinutes: 0.05 } } });
    p.env.PAUDE_IDLE_CHECK_SECONDS = '1';
    const id = await startDetached(p, ['--shell']);
    // Checked every second here (every 30 s by default); 3 s of silence ends it.
    const stopped = await waitFor(async () => {
      const r = await row(p, id);
      return r?.status === 'stopped' ? r : undefined;
    }, 30_000);
    expect(stopped).toMatchObject({ exitCode: 124, detail: 'idle timeout, exit 124' });
    expect(await resources(engine, id)).not.toHaveLength(0);
    expect((await p.paude(['rm', id])).code).toBe(0);
  });

  it('keeps a live copy of the screen for previews, without typing, resizing or staying attached', async () => {
    const p = await testProject(engine);
    const id = await startDetached(p);
    const writer = attach(p, id, { cols: 90, rows: 25 });
    await writer.waitFor(/[$#] $/m);
    writer.write('echo first-$((1+1))\r');
    await writer.waitFor(/^first-2$/m);

    const backend = new LocalBackend(await connectEngine(`unix://${engine.socketPath}`));
    const screen = await SessionScreen.open(backend, id, join(p.dataDir, 'sessions', id));
    try {
      expect([screen.rows, screen.cols]).toEqual([25, 90]);
      // At once the current screen, then what changes on it.
      await screen.waitFor(/^first-2$/m);
      writer.write('echo second-$((2+2))\r');
      await screen.waitFor(/^second-4$/m);
      expect(screen.snapshot().lines).toHaveLength(25);
      // The preview is not a writable client.
      expect(await row(p, id)).toMatchObject({ status: 'attached', clients: 1 });
    } finally {
      await screen.close();
    }
    writer.write('\x1d');
    expect(await writer.exit).toBe(0);
    const clients = await backend.exec(id, ['tmux', 'list-clients', '-t', 'paude']);
    expect(clients.stdout).toBe('');
    expect(await row(p, id)).toMatchObject({ status: 'detached', clients: 0 });
    expect((await p.paude(['stop', '--rm', id])).code).toBe(0);
  });
});
