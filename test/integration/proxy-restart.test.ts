/**
 * The session proxy dies and comes back: while it is down the agent has no network at all
 * (fail closed); the keeper of a detached session (or the attached paude) starts it again with
 * the same state, so policy changes made before still apply, and every request the proxy
 * served is in the audit log and the live events exactly once, before and after.
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { describeEngines, type EngineHandle } from '../support/engine-test.js';
import { execIn } from '../support/exec.js';
import { PAUDE_BIN, trustEnv } from '../support/run-cli.js';
import { waitFor } from '../support/session-fixture.js';
import { gatewayOf, testProject, type TestProject } from '../support/workspace.js';
import { LogFollower } from '../../src/policy/log-follower.js';
import { parseAccessLine, type ProxyEvent } from '../../src/policy/proxy-event.js';
import { liveOwner } from '../../src/sessions/owner.js';

interface AuditLine {
  id: string;
  event: string;
  data: { host?: string; port?: number; status?: number; decision?: string };
}

/** An HTTP server for the made-up hosts, on the engine's gateway and a port of its own. */
async function upstream(engine: EngineHandle): Promise<{ server: Server; port: number }> {
  const server = createServer((_req, res) => res.end('ok\n'));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    void gatewayOf(engine).then((gateway) => server.listen(0, gateway, resolve));
  });
  engine.defer(() => new Promise((resolve) => server.close(resolve)));
  return { server, port: (server.address() as AddressInfo).port };
}

/** curl in the agent through its proxy: the status, '000' when nothing answered. */
async function request(engine: EngineHandle, id: string, url: string): Promise<string> {
  const r = await execIn(engine.docker, id, ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '3', url]);
  return r.stdout.trim();
}

async function proxyRunning(engine: EngineHandle, id: string): Promise<boolean> {
  return (await engine.docker.getContainer(`${id}-proxy`).inspect()).State.Running;
}

async function status(p: TestProject, id: string): Promise<string | undefined> {
  const r = await p.paude(['sessions', '--json']);
  return (JSON.parse(r.stdout) as Array<{ id: string; status: string }>).find((s) => s.id === id)?.status;
}

/** The live events of the session (what the dashboard's feed shows), from the start of its access log. */
function followEvents(p: TestProject, id: string): { events: ProxyEvent[]; poll(): Promise<void> } {
  const events: ProxyEvent[] = [];
  const follower = new LogFollower(join(p.dataDir, 'sessions', id, 'proxy', 'log', 'access.log'), (lines) => {
    for (const l of lines) {
      const e = parseAccessLine(l.line, id, l.offset);
      if (e && e.host !== '-') events.push(e);
    }
  });
  return { events, poll: () => follower.poll() };
}

describeEngines('proxy killed and restarted', (engine) => {
  it('keeps a detached session fail-closed while its proxy is down; its keeper restarts it with the same policy, every request recorded once', async () => {
    const gateway = await gatewayOf(engine);
    const p = await testProject(engine, { config: { network: { hosts: { 'allowed.test': gateway, 'other.test': gateway } } } });
    const start = await p.paude(['--detach', '--shell']);
    expect(start.code, start.stderr).toBe(0);
    const id = start.stdout.trim();
    engine.defer(() => p.paude(['rm', '--force', id]));
    const { port } = await upstream(engine);
    const allowed = `http://allowed.test:${port}/`;
    const other = `http://other.test:${port}/`;
    // A policy change made before the proxy dies.
    const allow = await p.paude(['allow', `allowed.test:${port}`, '--session', id]);
    expect(allow.code, allow.stderr).toBe(0);
    expect(await request(engine, id, allowed)).toBe('200');
    expect(await request(engine, id, other)).toBe('403');
    const live = followEvents(p, id);
    await live.poll();

    const keeper = await liveOwner(join(p.dataDir, 'sessions', id), 'keeper');
    expect(keeper).toBeDefined();
    const kill = [
      // The container, as the engine (or a user, or the OOM killer) would stop it.
      async (): Promise<void> => void (await engine.docker.getContainer(`${id}-proxy`).kill()),
      // squid alone, killed inside the container.
      async (): Promise<void> => void (await execIn(engine.docker, `${id}-proxy`, ['sh', '-c', 'kill -9 "$(pidof squid)"'])),
    ];
    for (const [i, down] of kill.entries()) {
      // The supervisor is held (SIGSTOP) so that the time without a proxy is ours to look at.
      process.kill(keeper ?? 0, 'SIGSTOP');
      try {
        await down();
        await waitFor(async () => ((await proxyRunning(engine, id)) ? undefined : true), 10_000);
        expect(await request(engine, id, allowed), `kill ${i}: the agent reached the network without its proxy`).toBe('000');
        const direct = await execIn(engine.docker, id, ['curl', '-sS', '--noproxy', '*', '--max-time', '2', `http://${gateway}:${port}/`]);
        expect(direct.exitCode).not.toBe(0);
        expect(await status(p, id)).toBe('degraded');
      } finally {
        process.kill(keeper ?? 0, 'SIGCONT');
      }
      const downAt = Date.now();
      await waitFor(async () => ((await proxyRunning(engine, id)) && (await request(engine, id, allowed)) === '200' ? true : undefined), 20_000);
      process.stderr.write(`[${engine.name}] proxy back ${Date.now() - downAt} ms after the keeper resumed (kill ${i})\n`);
      expect(await request(engine, id, other)).toBe('403');
      expect(await status(p, id)).toBe('detached');
    }
    expect(await liveOwner(join(p.dataDir, 'sessions', id), 'keeper')).toBe(keeper);

    // Exactly once in the audit log and in the live events: two before, and after each restart
    // the 200 that showed it was back and one 403. What was asked while it was down reached no
    // proxy then (a forwarder may still hand it to the restarted one, which decides it by the
    // same policy: then it is there once too).
    const audit = await p.paude(['audit', id, '--json', '--event', 'network']);
    expect(audit.code, audit.stderr).toBe(0);
    const recorded = audit.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditLine);
    expect(new Set(recorded.map((e) => e.id)).size).toBe(recorded.length);
    const served = recorded.map((e) => `${e.data.host ?? ''} ${e.data.status ?? 0}`);
    expect(served.slice(0, 2)).toEqual(['allowed.test 200', 'other.test 403']);
    expect(served.filter((s) => s === 'other.test 403')).toHaveLength(3);
    expect(served.filter((s) => !s.startsWith('allowed.test ') && s !== 'other.test 403')).toEqual([]);
    await live.poll();
    expect(live.events.map((e) => `${e.host} ${e.status}`)).toEqual(served);
    expect(new Set(live.events.map((e) => e.offset)).size).toBe(live.events.length);
    // Each restart is in the audit log too.
    const restarts = (await p.paude(['audit', id, '--json', '--event', 'proxy.restart'])).stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditLine);
    expect(restarts.map((e) => e.data)).toEqual([
      { ok: true, restarts: 1 },
      { ok: true, restarts: 2 },
    ]);

    expect((await p.paude(['stop', '--rm', id])).code).toBe(0);
  });

  it('restarts the proxy of a session whose paude is attached, and says so when the session ends', async () => {
    const p = await testProject(engine);
    // Without a terminal: the command's stdio is connected directly and paude stays with it.
    const child = spawn(process.execPath, [PAUDE_BIN, '--shell', '--', 'sleep', '600'], { cwd: p.ws, env: { PATH: process.env.PATH, ...trustEnv(), ...p.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    engine.defer(async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    });
    const id = await waitFor(async () => {
      const running = await engine.docker.listContainers({ filters: JSON.stringify({ label: [`paude.workspace=${p.ws}`, 'paude.role=agent'] }) });
      return running[0]?.Labels['paude.session'];
    }, 60_000);
    await waitFor(async () => ((await request(engine, id, 'http://nowhere.test/')) === '403' ? true : undefined), 20_000);
    await execIn(engine.docker, `${id}-proxy`, ['sh', '-c', 'kill -9 "$(pidof squid)"']);
    await waitFor(async () => ((await proxyRunning(engine, id)) ? undefined : true), 10_000);
    await waitFor(async () => ((await request(engine, id, 'http://nowhere.test/')) === '403' ? true : undefined), 20_000);
    child.kill('SIGTERM');
    expect(await exited).toBe(143);
    expect(stderr).toContain("paude: the session's proxy stopped once and was started again (the agent had no network meanwhile)");
    const audit = await p.paude(['audit', id, '--event', 'proxy.restart']);
    expect(audit.stdout).toMatch(/proxy\.restart\s+host\s+the proxy had died under the running agent; started again \(restart 1\)/);
  });
});
