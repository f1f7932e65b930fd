/** paude allow / deny / blocked / approvals / approve against a running session, through the real binary. */
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEngines } from '../support/engine-test.js';
import { PAUDE_BIN, runPaude } from '../support/run-cli.js';
import { startLiveSession, waitFor, type LiveSession } from '../support/session-fixture.js';

describeEngines('policy commands on a running session', (engine) => {
  describe('restricted mode', () => {
    let s: LiveSession;
    beforeAll(async () => {
      s = await startLiveSession(engine, { mode: 'restricted' }, ['allowed.test', 'other.test', 'last.test']);
    });
    afterAll(async () => void (await s.stop()));

    it('allows and denies a host for the session, in effect on the next request', async () => {
      expect((await s.curl(['http://allowed.test/'])).status).toBe('403');
      const allow = await runPaude(['allow', 'allowed.test'], { cwd: s.ws, env: s.env });
      expect(allow.stderr).toBe('');
      expect(allow.stdout.trim()).toBe(`allowed allowed.test for ${s.id}; in effect now in ${s.id}`);
      expect((await s.curl(['http://allowed.test/'])).status).toBe('200');
      const deny = await runPaude(['deny', 'allowed.test', '--session', s.id.slice('paude-'.length, 'paude-'.length + 4)], { cwd: '/', env: s.env });
      expect(deny.code).toBe(0);
      expect((await s.curl(['http://allowed.test/'])).status).toBe('403');
    });

    it('is listed by paude sessions with its status, workspace, network mode and blocked count', async () => {
      const r = await runPaude(['sessions', '--json'], { cwd: s.ws, env: s.env });
      expect(r.code, r.stderr).toBe(0);
      const rows = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
      expect(rows.find((x) => x.id === s.id)).toMatchObject({ status: 'running', backend: engine.name, workspace: s.ws, network: 'restricted' });
      const table = await runPaude(['sessions'], { cwd: s.ws, env: s.env });
      expect(table.stdout).toMatch(/^ID\s+STATUS\s+BACKEND\s+STARTED\s+WORKSPACE\s+NETWORK\s+BLOCKED\s+TOKENS$/m);
      expect(table.stdout).toMatch(new RegExp(`^${s.id}\\s+running\\s+${engine.name}\\s`, 'm'));
    });

    it('lists what was blocked, with counts', async () => {
      await s.curl(['http://other.test/']);
      await s.curl(['http://other.test/']);
      const r = await runPaude(['blocked', '--json'], { cwd: s.ws, env: s.env });
      const rows = JSON.parse(r.stdout) as Array<{ host: string; count: number; session: string; rule: string }>;
      expect(rows.find((x) => x.host === 'other.test')).toMatchObject({ count: 2, session: s.id, rule: 'not-allowed' });
      const human = await runPaude(['blocked'], { cwd: s.ws, env: s.env });
      expect(human.stdout).toMatch(/^SESSION\s+HOST\s+PORT\s+COUNT\s+LAST\s+WHY$/m);
    });

    it('allows what the proxy refused last with allow --last, its port included when not 80 or 443', async () => {
      const port = s.upstream.extraPort;
      expect((await s.curl([`http://last.test:${port}/`])).status).toBe('403');
      const r = await runPaude(['allow', '--last'], { cwd: s.ws, env: s.env });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe(`allowed last.test:${port} for ${s.id}; in effect now in ${s.id}`);
      expect((await s.curl([`http://last.test:${port}/`])).status).toBe('200');
      // That port only: the web port is refused, and is then the latest refusal (named by session).
      expect((await s.curl(['http://last.test/'])).status).toBe('403');
      const web = await runPaude(['allow', '--last', s.id.slice(0, 'paude-'.length + 3)], { cwd: '/', env: s.env });
      expect(web.stdout.trim()).toBe(`allowed last.test for ${s.id}; in effect now in ${s.id}`);
      expect((await s.curl(['http://last.test/'])).status).toBe('200');
    });

    it('says why allow --last cannot help (a deny entry), or cannot be meant (--once, no host at all)', async () => {
      const denied = await runPaude(['deny', 'last.test'], { cwd: s.ws, env: s.env });
      expect(denied.code, denied.stderr).toBe(0);
      expect((await s.curl(['http://last.test/'])).status).toBe('403');
      const r = await runPaude(['allow', '--last'], { cwd: s.ws, env: s.env });
      expect(r.code).toBe(2);
      expect(r.stderr.trim()).toBe(`paude: the latest request ${s.id} made that was refused, to last.test, matched the deny entry "last.test", which beats any allow; take it out of the denylist where it was set`);
      const once = await runPaude(['allow', '--last', '--once'], { cwd: s.ws, env: s.env });
      expect(once.stderr.trim()).toBe('paude: --last allows a host the proxy already refused, so nothing of it waits: leave out --once');
      const none = await runPaude(['allow'], { cwd: s.ws, env: s.env });
      expect(none.code).toBe(2);
      expect(none.stderr.trim()).toBe('paude: paude allow needs a host (an allowlist entry), or --last for the host the proxy refused last');
    });

    it('keeps project approvals out of the repository', async () => {
      const before = await readdir(s.ws);
      const r = await runPaude(['allow', 'other.test', '--project'], { cwd: s.ws, env: s.env });
      expect(r.code).toBe(0);
      expect((await s.curl(['http://other.test/'])).status).toBe('200');
      expect(await readdir(s.ws)).toEqual(before);
      expect(await readdir(join(s.dataDir, 'projects'))).toHaveLength(1);
    });

    it('refuses a malformed host before changing anything', async () => {
      const r = await runPaude(['allow', 'http://evil.example/x'], { cwd: s.ws, env: s.env });
      expect(r.code).toBe(3);
      expect(r.stderr).toContain('"http://evil.example/x" is not a domain');
    });

    it('removes the whole session when paude is stopped', async () => {
      expect(await s.stop()).toBe(143);
      const left = await engine.docker.listContainers({ all: true, filters: JSON.stringify({ label: [`paude.session=${s.id}`] }) });
      expect(left).toEqual([]);
    });
  });

  describe('ask mode', () => {
    let s: LiveSession;
    beforeAll(async () => {
      s = await startLiveSession(engine, { mode: 'ask', approvalTimeoutSeconds: 20 }, ['held.test']);
    });
    afterAll(async () => void (await s.stop()));

    it('holds a request while someone watches and releases it on approve --scope session', async () => {
      const watcher = spawn(process.execPath, [PAUDE_BIN, 'approvals', '--watch', '--json'], { cwd: s.ws, env: s.env, stdio: ['ignore', 'pipe', 'pipe'] });
      engine.defer(() => Promise.resolve(watcher.kill('SIGTERM')));
      let out = '';
      watcher.stdout.on('data', (d: Buffer) => (out += d.toString()));
      await waitFor(async () => ((await readdir(join(s.dataDir, 'sessions', s.id, 'proxy', 'watchers'))).length > 0 ? true : undefined), 10_000);

      const request = s.curl(['http://held.test/waiting']);
      const held = await waitFor(async () => Promise.resolve(out.split('\n').find((l) => l.includes('held.test'))), 10_000);
      const { id } = JSON.parse(held) as { id: string };
      const listed = await runPaude(['approvals', '--json'], { cwd: s.ws, env: s.env });
      expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ id, host: 'held.test', port: 80, method: 'GET', session: s.id })]);

      const approved = await runPaude(['approve', id, '--scope', 'session'], { cwd: s.ws, env: s.env });
      expect(approved.stdout.trim()).toBe(`allowed held.test:80 for ${s.id} (session: held.test)`);
      expect((await request).status).toBe('200');
      // The session now allows it outright: nothing is held.
      const started = Date.now();
      expect((await s.curl(['http://held.test/again'])).status).toBe('200');
      expect(Date.now() - started).toBeLessThan(2000);
      watcher.kill('SIGTERM');
    });

    it('holds the very first request of a session that starts while approvals --watch runs, and refuses it at once without a watcher', async () => {
      const first = (): Promise<{ code: number | null; stdout: string; stderr: string }> =>
        runPaude(['--shell', '--', 'sh', '-c', 'curl -s -o /dev/null -w "%{http_code} %header{x-paude-denied}" --max-time 60 -x http://127.0.0.1:3128 http://held.test/first'], { cwd: s.ws, env: s.env });
      const watcher = spawn(process.execPath, [PAUDE_BIN, 'approvals', '--watch', '--json'], { cwd: s.ws, env: s.env, stdio: ['ignore', 'pipe', 'pipe'] });
      const gone = new Promise((resolve) => watcher.once('exit', resolve));
      engine.defer(() => Promise.resolve(watcher.kill('SIGTERM')));
      let out = '';
      let err = '';
      watcher.stdout.on('data', (d: Buffer) => (out += d.toString()));
      watcher.stderr.on('data', (d: Buffer) => (err += d.toString()));
      await waitFor(async () => Promise.resolve(err.includes('every session that starts') ? true : undefined), 10_000);

      // Started after the watcher, and asking at once: held, listed, then approved.
      const run = first();
      const line = await waitFor(async () => Promise.resolve(out.split('\n').find((l) => l.includes('held.test') && !l.includes(s.id))), 30_000);
      const held = JSON.parse(line) as { id: string; session: string };
      expect(held.session).toMatch(/^paude-/);
      const approved = await runPaude(['approve', held.id], { cwd: s.ws, env: s.env });
      expect(approved.code, approved.stderr).toBe(0);
      const r = await run;
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe('200');

      // The control: once the watcher has left, the same first request is refused at once.
      watcher.kill('SIGTERM');
      await gone;
      expect(await readdir(join(s.dataDir, 'watchers'))).toEqual([]);
      const refused = await first();
      expect(refused.code, refused.stderr).toBe(0);
      // The proxy's own refusal (its X-Paude-Denied header), at once: nobody was there to approve.
      expect(refused.stdout).toBe('403 held.test');
    });
  });
});
