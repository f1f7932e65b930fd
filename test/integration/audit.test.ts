/**
 * The audit log with real sessions: start, the proxy's requests and the end of a session, each
 * once; a detached session's requests recorded while no paude runs, back-filled exactly once;
 * policy changes with who and from where.
 */
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { describeEngines } from '../support/engine-test.js';
import { execIn } from '../support/exec.js';
import { gatewayOf } from '../support/workspace.js';
import { testProject } from '../support/workspace.js';
import { startAnthropicStub } from '../support/anthropic-stub.js';
import { waitFor } from '../support/session-fixture.js';
import { liveOwner } from '../../src/sessions/owner.js';

interface Line {
  id: string;
  event: string;
  source: string;
  session_id: string;
  data: Record<string, unknown>;
}

const parse = (text: string): Line[] =>
  text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Line);

describeEngines('audit log', (engine) => {
  it('records a session’s start, its refused request and its end with the exit code, once each', async () => {
    const p = await testProject(engine);
    const script = 'curl -s -o /dev/null -x http://127.0.0.1:3128 http://nowhere.test/; echo made > made.txt; exit 3';
    const r = await p.paude(['--shell', '--', 'sh', '-c', script]);
    expect(r.code, r.stderr).toBe(3);
    const a = await p.paude(['audit', '--json']);
    expect(a.code, a.stderr).toBe(0);
    const events = parse(a.stdout);
    const id = events.find((e) => e.event === 'session.start')?.session_id ?? '';
    expect(id).toMatch(/^paude-/);
    const mine = events.filter((e) => e.session_id === id);
    expect(mine.map((e) => e.event)).toEqual(['session.start', 'network', 'file', 'session.end']);
    expect(mine[0]).toMatchObject({ source: 'host', data: { command: ['sh', '-c', script], network_mode: 'restricted', backend: engine.name } });
    expect(mine[1]).toMatchObject({ source: 'proxy', data: { host: 'nowhere.test', decision: 'deny', rule: 'not-allowed', status: 403 } });
    expect(mine[2]).toMatchObject({ source: 'host', data: { path: 'made.txt', change: 'created', size: 5 } });
    expect(mine[3]).toMatchObject({ source: 'host', data: { exit_code: 3, how: 'exited' } });
    const text = await p.paude(['audit', id.slice(6), '--event', 'network']);
    expect(text.stdout).toMatch(/network\s+proxy\s+DENY GET nowhere\.test:80 \(not-allowed\) 403/);
  });

  it('back-fills a detached session’s requests exactly once, and records policy changes with who and from where', async () => {
    const p = await testProject(engine);
    const start = await p.paude(['--detach', '--shell']);
    expect(start.code, start.stderr).toBe(0);
    const id = start.stdout.trim();
    // No paude runs a foreground session now; the requests happen all the same.
    for (const host of ['one.test', 'two.test']) await execIn(engine.docker, id, ['curl', '-s', '-o', '/dev/null', '-x', 'http://127.0.0.1:3128', `http://${host}/`]);
    const first = parse((await p.paude(['audit', id, '--event', 'network', '--json'])).stdout);
    expect(first.map((e) => e.data.host)).toEqual(['one.test', 'two.test']);
    await execIn(engine.docker, id, ['curl', '-s', '-o', '/dev/null', '-x', 'http://127.0.0.1:3128', 'http://three.test/']);
    const second = parse((await p.paude(['audit', id, '--event', 'network', '--json'])).stdout);
    expect(second.map((e) => e.data.host)).toEqual(['one.test', 'two.test', 'three.test']);

    const allow = await p.paude(['allow', 'three.test', '--session', id]);
    expect(allow.code, allow.stderr).toBe(0);
    expect((await p.paude(['stop', '--rm', id])).code).toBe(0);
    const file = parse(await readFile(join(p.dataDir, 'audit', `${id}.jsonl`), 'utf8'));
    expect(file.filter((e) => e.event === 'network')).toHaveLength(3);
    expect(new Set(file.map((e) => e.id)).size).toBe(file.length);
    expect(file.find((e) => e.event === 'policy.change')).toMatchObject({ data: { effect: 'allow', entry: 'three.test', scope: 'session', from: 'cli', sessions: [id] } });
    expect(String(file.find((e) => e.event === 'policy.change')?.data.who)).toMatch(/@/);
    expect(file.filter((e) => e.event === 'session.end')).toEqual([expect.objectContaining({ data: expect.objectContaining({ how: 'stopped and removed' }) as unknown })]);
  });

  it('records workspace changes made while the session’s keeper was dead, once, when the session is settled', async () => {
    const p = await testProject(engine);
    const start = await p.paude(['--detach', '--shell']);
    expect(start.code, start.stderr).toBe(0);
    const id = start.stdout.trim();
    const dir = join(p.dataDir, 'sessions', id);
    // The keeper has looked at the workspace once it wrote its manifest.
    await waitFor(async () => (await readFile(join(dir, 'files.json'), 'utf8').catch(() => '')).includes('"files"') || undefined, 20_000);
    const keeper = await liveOwner(dir, 'keeper');
    expect(keeper).toBeDefined();
    process.kill(keeper ?? 0, 'SIGKILL');
    await waitFor(async () => ((await liveOwner(dir, 'keeper')) === undefined) || undefined, 10_000);
    await execIn(engine.docker, id, ['sh', '-c', 'echo unseen > unseen.txt']);
    expect((await p.paude(['stop', '--rm', id])).code).toBe(0);
    const files = parse((await p.paude(['audit', id, '--event', 'file', '--json'])).stdout);
    expect(files.map((e) => [e.data.path, e.data.change, e.data.unwatched])).toEqual([['unseen.txt', 'created', true]]);
    const text = await p.paude(['audit', id, '--event', 'file']);
    expect(text.stdout).toMatch(/created unseen\.txt \(7 B\) \[while unwatched, at \d{4}-/);
  });

  it('delivers to a webhook that was down during the session, every event once, when it is back; and to syslog', async () => {
    let up = false;
    const received: Line[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        if (!up) return void res.writeHead(503).end();
        received.push(...(JSON.parse(body) as Line[]));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    engine.defer(() => new Promise((r) => server.close(r)));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/audit`;
    // And a syslog collector (TCP), which is up all along.
    let syslog = '';
    const collector = createNetServer((sock) => sock.on('data', (d: Buffer) => (syslog += d.toString())));
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    engine.defer(() => new Promise((r) => collector.close(r)));
    const syslogAt = `tcp://127.0.0.1:${(collector.address() as AddressInfo).port}`;
    const p = await testProject(engine, { config: { audit: { sinks: [{ type: 'file' }, { type: 'webhook', url }, { type: 'syslog', address: syslogAt, facility: 'auth' }] } } });
    const r = await p.paude(['--shell', '--', 'sh', '-c', 'curl -s -o /dev/null -x http://127.0.0.1:3128 http://nowhere.test/; exit 0']);
    expect(r.code, r.stderr).toBe(0);
    expect(received).toEqual([]);
    up = true;
    // The next paude that runs delivers what waited.
    await p.paude(['audit']);
    expect(received.map((e) => e.event)).toEqual(['session.start', 'network', 'session.end']);
    await p.paude(['audit']);
    expect(new Set(received.map((e) => e.id)).size).toBe(received.length);
    expect(received).toHaveLength(3);
    // syslog got the same three, as RFC 5424 messages with the event type as MSGID. The bytes
    // can reach this process's socket after it saw paude exit, so they are waited for.
    const messages = (): string[] => [...syslog.matchAll(/<38>1 \S+ \S+ paude \d+ (session\.start|network|session\.end) - /g)].map((m) => m[1] ?? '');
    await waitFor(() => Promise.resolve(messages().length >= 3 ? true : undefined), 5000).catch(() => undefined);
    expect(messages()).toEqual(['session.start', 'network', 'session.end']);
  });

  it('records the commands the real Claude Code ran, reported by its hooks (agent-hook), each once', async () => {
    const stub = await startAnthropicStub('done', '0.0.0.0', { toolUse: { name: 'Bash', input: { command: 'echo paude-hook-test > hook.txt', description: 'write a file' } } });
    engine.defer(() => stub.close());
    const gateway = await gatewayOf(engine);
    const p = await testProject(engine, { config: { network: { hosts: { 'stub.test': gateway } } } });
    Object.assign(p.env, { ANTHROPIC_API_KEY: 'sk-fake-for-stub', ANTHROPIC_BASE_URL: `http://stub.test:${stub.port}` });
    const r = await p.paude(['-p', 'write the file', '--', '--allowedTools', 'Bash']);
    expect(r.code, r.stderr).toBe(0);
    expect(await readFile(join(p.ws, 'hook.txt'), 'utf8')).toBe('paude-hook-test\n');
    const commands = parse((await p.paude(['audit', '--event', 'command', '--json'])).stdout);
    expect(commands.map((c) => [c.source, c.data.phase, c.data.tool, c.data.what])).toEqual([
      ['agent-hook', 'pre', 'Bash', 'echo paude-hook-test > hook.txt'],
      ['agent-hook', 'post', 'Bash', 'echo paude-hook-test > hook.txt'],
    ]);
    expect(typeof commands[1]?.data.duration_ms).toBe('number');
  });
});
