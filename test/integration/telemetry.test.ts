/**
 * The agent's telemetry through paude's relay: the real Claude Code behind the real proxy,
 * against a stub Messages API that reports known token usage. paude sessions and the audit log
 * show exactly those tokens; the user's collector (a test OTLP receiver) receives the same data
 * with the paude.* attributes; the collector's address and headers never enter the agent.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { expect, it } from 'vitest';
import { startAnthropicStub } from '../support/anthropic-stub.js';
import { describeEngines } from '../support/engine-test.js';
import { waitFor } from '../support/session-fixture.js';
import { gatewayOf } from '../support/workspace.js';
import { testProject } from '../support/workspace.js';
import { runInPty } from '../support/pty.js';

async function collector(): Promise<{ url: string; received: Array<{ path: string; auth: string | undefined; body: string }>; server: Server }> {
  const received: Array<{ path: string; auth: string | undefined; body: string }> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      received.push({ path: req.url ?? '', auth: req.headers.authorization, body });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received, server };
}

interface Row {
  id: string;
  status: string;
  tokens?: { input: number; output: number; cacheRead: number; cacheCreation: number; costUsd: number };
}

describeEngines('telemetry relay', (engine) => {
  it('counts the real Claude Code’s tokens for paude sessions, the dashboard and the audit log, and forwards them to the collector', async () => {
    const stub = await startAnthropicStub('hello from the stub model');
    engine.defer(() => stub.close());
    const otlp = await collector();
    engine.defer(() => new Promise((r) => otlp.server.close(r)));
    const gateway = await gatewayOf(engine);
    const p = await testProject(engine, { config: { network: { hosts: { 'stub.test': gateway } }, telemetry: { otel: { enabled: true, endpoint: otlp.url, protocol: 'http/json', traces: true } } } });
    Object.assign(p.env, { ANTHROPIC_API_KEY: 'sk-fake-for-stub', ANTHROPIC_BASE_URL: `http://stub.test:${stub.port}`, OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20collector-secret' });

    // Claude Code runs detached (its session stays for paude sessions to show), then ends.
    const start = await p.paude(['--detach', '-p', 'say hello']);
    expect(start.code, start.stderr).toBe(0);
    const id = start.stdout.trim();
    const done = await waitFor(async () => {
      const rows = JSON.parse((await p.paude(['sessions', '--all', '--json'])).stdout) as Row[];
      const row = rows.find((r) => r.id === id);
      return row?.status === 'stopped' && row.tokens ? row : undefined;
    }, 90_000);
    const calls = stub.requests.filter((q) => q.path.startsWith('/v1/messages') && !q.path.includes('count_tokens')).length;
    expect(calls).toBeGreaterThan(0);
    // The stub reports 12 input and 5 output tokens per call.
    expect(done.tokens).toMatchObject({ input: 12 * calls, output: 5 * calls });

    // The collector got the exports, with the session's attributes and its own header.
    const metrics = otlp.received.filter((r) => r.path === '/v1/metrics');
    expect(metrics.length).toBeGreaterThan(0);
    expect(metrics.some((m) => m.body.includes('claude_code.token.usage'))).toBe(true);
    expect(metrics[0]?.body).toContain(`"paude.session_id","value":{"stringValue":"${id}"}`);
    expect(metrics[0]?.auth).toBe('Bearer collector-secret');
    // With traces on, Claude Code's spans come the same way (what MLflow ingests).
    const traces = otlp.received.filter((r) => r.path === '/v1/traces');
    expect(traces.length).toBeGreaterThan(0);
    expect(traces.some((t) => t.body.includes(`"paude.session_id","value":{"stringValue":"${id}"}`))).toBe(true);

    // The dashboard's Tokens view shows them too.
    const ui = runInPty(['ui', '--session', id], { cwd: p.ws, env: p.env, cols: 110, rows: 30 });
    try {
      await ui.waitFor(new RegExp(`${id}\\s+stopped`), 30_000);
      ui.write('4');
      await ui.waitFor(new RegExp(`${id}\\s+${12 * calls}\\s+${5 * calls}\\s`));
      ui.write('q');
      expect(await ui.exit).toBe(0);
    } finally {
      ui.pty.kill();
    }

    // The session's end in the audit log carries the same tokens.
    expect((await p.paude(['rm', id])).code).toBe(0);
    const ends = (await p.paude(['audit', id, '--event', 'session.end', '--json'])).stdout.trim().split('\n').map((l) => JSON.parse(l) as { data: { tokens?: Record<string, number> } });
    expect(ends[0]?.data.tokens).toMatchObject({ input: 12 * calls, output: 5 * calls });
  });

  it('counts protobuf exports and forwards them to a gRPC collector', async () => {
    const stub = await startAnthropicStub('hello over grpc');
    engine.defer(() => stub.close());
    const got: Array<{ service: string; auth: string | undefined; body: Buffer }> = [];
    const server = new grpc.Server();
    const identity = (b: Buffer): Buffer => b;
    for (const service of ['metrics.v1.MetricsService', 'logs.v1.LogsService']) {
      server.register(
        `/opentelemetry.proto.collector.${service}/Export`,
        (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
          got.push({ service, auth: call.metadata.get('authorization')[0]?.toString(), body: call.request });
          callback(null, Buffer.alloc(0));
        },
        identity,
        identity,
        'unary',
      );
    }
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
    engine.defer(() => new Promise<void>((r) => server.tryShutdown(() => r())));
    const gateway = await gatewayOf(engine);
    const p = await testProject(engine, { config: { network: { hosts: { 'stub.test': gateway } }, telemetry: { otel: { enabled: true, endpoint: `http://127.0.0.1:${port}`, protocol: 'grpc' } } } });
    Object.assign(p.env, { ANTHROPIC_API_KEY: 'sk-fake-for-stub', ANTHROPIC_BASE_URL: `http://stub.test:${stub.port}`, OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20grpc-secret' });

    const run = await p.paude(['-p', 'say hello']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('hello over grpc');
    const calls = stub.requests.filter((q) => q.path.startsWith('/v1/messages') && !q.path.includes('count_tokens')).length;
    // A foreground session is gone when it ends; its end in the audit log has the tokens.
    const ends = (await p.paude(['audit', '--event', 'session.end', '--json'])).stdout.trim().split('\n').map((l) => JSON.parse(l) as { session_id: string; data: { tokens?: Record<string, number> } });
    expect(ends).toHaveLength(1);
    expect(ends[0]?.data.tokens).toMatchObject({ input: 12 * calls, output: 5 * calls });
    const metrics = got.filter((g) => g.service.startsWith('metrics'));
    expect(metrics.length).toBeGreaterThan(0);
    expect(metrics[0]?.auth).toBe('Bearer grpc-secret');
    // Protobuf carries strings as they are: the session's attribute is in the bytes.
    expect(metrics.some((m) => m.body.includes('claude_code.token.usage') && m.body.includes('paude.session_id') && m.body.includes(ends[0]?.session_id ?? '?'))).toBe(true);
  });

  it('keeps the collector’s address and headers out of the agent', async () => {
    const p = await testProject(engine, { config: { telemetry: { otel: { enabled: true, endpoint: 'http://collector.test:4318' } } } });
    Object.assign(p.env, { OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20collector-secret' });
    const r = await p.paude(['--shell', '--', 'sh', '-c', 'env | grep -E "^(OTEL_|CLAUDE_CODE_ENABLE_TELEMETRY)" | sort']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('CLAUDE_CODE_ENABLE_TELEMETRY=1');
    expect(r.stdout).toContain('OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318');
    expect(r.stdout).toMatch(/OTEL_RESOURCE_ATTRIBUTES=paude\.session_id=paude-[a-z0-9]{6},paude\.workspace=\S+,paude\.backend=(podman|docker),paude\.network_mode=restricted/);
    expect(r.stdout).not.toContain('collector.test');
    expect(r.stdout).not.toContain('collector-secret');
  });
});
