/**
 * The real `paude ui` in a real terminal against real engines: two sessions listed; attach,
 * type, see the echo; a request made while attached is held (the paused dashboard is still a
 * watcher of held requests) and announced on the session's screen; detach back to the
 * dashboard, approve it there, and it goes through; an entry added in the allowlist editor lets
 * a refused host pass.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, it } from 'vitest';
import { describeEngines } from '../support/engine-test.js';
import { execIn } from '../support/exec.js';
import { runInPty } from '../support/pty.js';
import { gatewayOf, testProject, WORKSPACE_UID } from '../support/workspace.js';

/** An upstream on the engine network's gateway, on a port of its own (no clash with other suites). */
async function upstream(address: string): Promise<{ port: number; seen: string[]; server: Server }> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.headers.host ?? '?'} ${req.url ?? ''}`);
    res.end('upstream says hi\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, address, resolve);
  });
  return { port: (server.address() as AddressInfo).port, seen, server };
}

async function typed(ui: { write(text: string): void }, key: string): Promise<void> {
  ui.write(key);
  await new Promise((r) => setTimeout(r, 80));
}

describeEngines('paude ui', (engine) => {
  it('lists sessions, attaches and detaches, approves a held request, and allows a host from the editor', async () => {
    // The proxy's hosts file is written at start: the made-up hosts point at the gateway, where
    // the upstream listens once the engine's bridge is up (after the first container).
    const gateway = await gatewayOf(engine);
    const a = await testProject(engine, { config: { network: { mode: 'ask', approvalTimeoutSeconds: 60, hosts: { 'held.test': gateway, 'later.test': gateway } } } });
    const b = await testProject(engine, { sharedWith: a });
    const [idA = '', idB = ''] = await Promise.all(
      [a, b].map(async (p) => {
        const r = await p.paude(['--detach', '--shell']);
        expect(r.code, r.stderr).toBe(0);
        return r.stdout.trim();
      }),
    );
    const up = await upstream(gateway);
    engine.defer(() => new Promise((r) => up.server.close(r)));
    const port = up.port;

    const ui = runInPty(['ui', '--session', idA], { cwd: a.ws, env: a.env, cols: 110, rows: 32 });
    try {
      await ui.waitFor(new RegExp(`${idA}\\s+detached`), 30_000);
      await ui.waitFor(new RegExp(`${idB}\\s+detached`));
      // Attach to A, type, see the echo. While attached the dashboard is paused, but still a
      // watcher of held requests: one made now is held, and A's screen announces it; detach.
      ui.write('\r');
      await ui.waitFor(/[$#] $/m);
      ui.write('echo hi-$((2+3))\r');
      await ui.waitFor(/^hi-5$/m);
      ui.write(`curl -s -o /dev/null -w 'got=%{http_code}\\n' -x http://127.0.0.1:3128 http://held.test:${port}/ &\r`);
      await ui.waitFor(new RegExp(`GET held\\.test:${port} from ${idA} is waiting for approval`), 20_000);
      ui.write('\x1d');
      await ui.waitFor(new RegExp(`detached from ${idA}`));
      await ui.waitFor(new RegExp(`held: GET held\\.test:${port}`), 20_000);
      ui.write('o');
      // The preview of A shows curl's answer: the held request went through.
      await ui.waitFor(/got=200/, 20_000);
      expect(up.seen).toContain(`held.test:${port} /`);

      // B asks for another host: held (the dashboard watches every session), denied from here.
      const before = execIn(engine.docker, idB, ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '-x', 'http://127.0.0.1:3128', `http://later.test:${port}/`]);
      await ui.waitFor(new RegExp(`held: GET later\\.test:${port}`), 20_000);
      ui.write('d');
      expect((await before).stdout).toBe('403');
      // Select B (filter by its id), open the allowlist, add the host for B's session. Keys are
      // typed one at a time, as a person does (keys that arrive together are one input).
      for (const key of ['1', '/', idB, '\r', 'k', '3']) await typed(ui, key);
      await ui.waitFor(new RegExp(`policy of ${idB}`));
      for (const key of ['a', `later.test:${port}`, '\r']) await typed(ui, key);
      await ui.waitFor(new RegExp(`allowed later\\.test:${port} for the session; in effect now in ${idB}`));
      await ui.waitFor(new RegExp(`allow\\s+later\\.test:${port}\\s+session`));
      const after = await execIn(engine.docker, idB, ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '-x', 'http://127.0.0.1:3128', `http://later.test:${port}/`]);
      expect(after.stdout).toBe('200');
      ui.write('q');
      expect(await ui.exit).toBe(0);
    } finally {
      ui.pty.kill();
      await a.paude(['rm', '--force', idA, idB]);
    }
  });

  it("starts a session from the dashboard (the start use case in the dashboard's process) that is listed and runs", async () => {
    const a = await testProject(engine);
    const ui = runInPty(['ui'], { cwd: a.ws, env: a.env, cols: 110, rows: 32 });
    let id = '';
    try {
      await ui.waitFor(/sessions/i, 30_000);
      ui.write('n');
      await ui.waitFor(/new session: a shell on auto/);
      ui.write('\r');
      await ui.waitFor(/started paude-[a-z0-9]+/, 120_000);
      id = /started (paude-[a-z0-9]+)/.exec(ui.screen().join('\n'))?.[1] ?? '';
      await ui.waitFor(new RegExp(`${id}\\s+detached`), 30_000);
      // A real session: its command runs, as the workspace's owner, behind its proxy.
      const who = await execIn(engine.docker, id, ['sh', '-c', 'id -u; echo $HTTP_PROXY']);
      expect(who.stdout).toBe(`${WORKSPACE_UID}\nhttp://127.0.0.1:3128\n`);
      ui.write('q');
      expect(await ui.exit).toBe(0);
    } finally {
      ui.pty.kill();
      if (id) expect((await a.paude(['rm', '--force', id])).code).toBe(0);
    }
  });
});
