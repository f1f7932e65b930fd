import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TokenCounter } from './otlp-metrics.js';
import { decodeMetricsRequest, encodeMetricsRequest } from './otlp-proto.js';
import { OtlpRelay, readTokenTotals } from './relay.js';

function tokens(points: Array<[string, number]>, temporality = 2, cost?: number): unknown {
  const attrs = (type: string) => [
    { key: 'session.id', value: { stringValue: 's1' } },
    { key: 'type', value: { stringValue: type } },
    { key: 'model', value: { stringValue: 'claude-x' } },
  ];
  return {
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'paude.session_id', value: { stringValue: 'paude-abc123' } }] },
        scopeMetrics: [
          {
            metrics: [
              { name: 'claude_code.session.count', sum: { aggregationTemporality: 2, dataPoints: [{ asDouble: 1 }] } },
              { name: 'claude_code.token.usage', sum: { aggregationTemporality: temporality, dataPoints: points.map(([type, v]) => ({ attributes: attrs(type), asDouble: v })) } },
              ...(cost === undefined ? [] : [{ name: 'claude_code.cost.usage', sum: { aggregationTemporality: temporality, dataPoints: [{ attributes: attrs('x'), asDouble: cost }] } }]),
            ],
          },
        ],
      },
    ],
  };
}

describe('TokenCounter', () => {
  it('takes the latest cumulative value of each series and adds deltas', () => {
    const c = new TokenCounter();
    c.add(tokens([['input', 10], ['output', 2]], 2, 0.01));
    c.add(tokens([['input', 12], ['output', 5]], 2, 0.02)); // cumulative: replaces
    expect(c.totals()).toEqual({ input: 12, output: 5, cacheRead: 0, cacheCreation: 0, costUsd: 0.02 });
    const d = new TokenCounter();
    d.add(tokens([['input', 10], ['cacheRead', 100]], 1));
    d.add(tokens([['input', 5]], 1)); // delta: adds
    expect(d.totals()).toMatchObject({ input: 15, cacheRead: 100 });
    expect(TokenCounter.from(d.toJSON()).totals()).toEqual(d.totals());
  });

  it('refuses what is not OTLP metrics and ignores negative or unknown values', () => {
    const c = new TokenCounter();
    expect(c.add({ resourceMetrics: 'nope' })).toBe(false);
    expect(c.add(tokens([['input', -5], ['bogus', 7]]))).toBe(true);
    expect(c.totals().input).toBe(0);
  });
});

describe('OTLP protobuf', () => {
  it('reads a real Claude Code export (2.1.332, http/protobuf) into the same counts as its JSON', async () => {
    const bytes = await readFile(fileURLToPath(new URL('../../test/fixtures/claude-code-metrics.pb', import.meta.url)));
    const c = new TokenCounter();
    expect(c.add(await decodeMetricsRequest(bytes))).toBe(true);
    // The fixture's run: one call to the stub model, 12 input and 5 output tokens.
    expect(c.totals()).toMatchObject({ input: 12, output: 5, cacheRead: 0, cacheCreation: 0 });
    expect(c.totals().costUsd).toBeGreaterThan(0);
  });

  it('round-trips the JSON shape and refuses bytes that are not a message', async () => {
    const payload = tokens([['input', 7], ['cacheRead', 3]], 1, 0.5);
    const c = new TokenCounter();
    c.add(await decodeMetricsRequest(await encodeMetricsRequest(payload as object)));
    expect(c.totals()).toEqual({ input: 7, output: 0, cacheRead: 3, cacheCreation: 0, costUsd: 0.5 });
    expect(await decodeMetricsRequest(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f]))).toBeUndefined();
  });
});

describe('OtlpRelay', () => {
  const dirs: string[] = [];
  const cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0)) await c();
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  const tmp = async (): Promise<string> => {
    const dir = await mkdtemp(join(tmpdir(), 'paude-relay-'));
    dirs.push(dir);
    return dir;
  };

  const post = (socket: string, path: string, body: string | Buffer, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<number> =>
    new Promise((resolve, reject) => {
      const req = request({ socketPath: socket, path, method: 'POST', headers }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end(body);
    });

  it('counts tokens into telemetry.json, forwards every export unchanged, and keeps what the collector did not take', async () => {
    const dir = await tmp();
    const sent: Array<[string, string]> = [];
    let up = false;
    const relay = new OtlpRelay(dir, dir, {
      send: (e) => {
        if (!up) return Promise.resolve('retry');
        sent.push([e.signal, e.body.toString()]);
        return Promise.resolve('delivered');
      },
    });
    await relay.start();
    const body = JSON.stringify(tokens([['input', 12], ['output', 5]], 2, 0.001));
    expect(await post(relay.socket, '/v1/metrics', body)).toBe(200);
    expect(await post(relay.socket, '/v1/logs', '{"resourceLogs":[]}')).toBe(200);
    expect(await post(relay.socket, '/v1/other', '{}')).toBe(404);
    // The totals are written in the background: looked at until they are there (a loaded machine
    // took longer than a fixed 50 ms).
    await expect.poll(() => readTokenTotals(dir), { timeout: 5000, interval: 20 }).toEqual({ input: 12, output: 5, cacheRead: 0, cacheCreation: 0, costUsd: 0.001 });
    expect(sent).toEqual([]); // the collector is down: kept
    up = true;
    await relay.stop(); // stopping delivers what is kept
    expect(sent).toEqual([
      ['metrics', body],
      ['logs', '{"resourceLogs":[]}'],
    ]);
    // A relay started later (the keeper after the foreground paude) goes on from the same totals.
    const next = new OtlpRelay(dir, dir);
    await next.start();
    expect(next.totals()).toMatchObject({ input: 12, output: 5 });
    await next.stop();
  });

  it('keeps what the collector had not taken when the relay stops, and the next relay for that collector sends it first', async () => {
    const dir = await tmp();
    const spoolDir = join(dir, 'spool');
    const sent: string[] = [];
    let up = false;
    const send = (e: { body: Buffer }) => {
      if (!up) return Promise.resolve('retry' as const);
      sent.push(e.body.toString());
      return Promise.resolve('delivered' as const);
    };
    const first = new OtlpRelay(dir, dir, { forwardTo: 'http://collector.test:4318', spoolDir, send });
    await first.start();
    expect(await post(first.socket, '/v1/logs', '{"n":1}')).toBe(200);
    expect(await post(first.socket, '/v1/logs', '{"n":2}')).toBe(200);
    await first.stop();
    expect(sent).toEqual([]);
    // A relay for another collector leaves it alone.
    const other = new OtlpRelay(dir, dir, { forwardTo: 'http://elsewhere.test:4318', spoolDir, send: () => Promise.resolve('delivered') });
    await other.start();
    await other.stop();
    up = true;
    const second = new OtlpRelay(dir, dir, { forwardTo: 'http://collector.test:4318', spoolDir, send });
    await second.start();
    expect(await post(second.socket, '/v1/logs', '{"n":3}')).toBe(200);
    await second.stop();
    expect(sent).toEqual(['{"n":1}', '{"n":2}', '{"n":3}']);
    expect(await readdir(spoolDir)).toEqual([]);
  });

  it('counts gzip-encoded protobuf and forwards it over OTLP/HTTP as it came; a refused export does not hold up the rest', async () => {
    const dir = await tmp();
    const received: Array<{ path: string; type: string | undefined; encoding: string | undefined; body: Buffer }> = [];
    let refuse = true;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => {
        received.push({ path: req.url ?? '', type: req.headers['content-type'], encoding: req.headers['content-encoding'], body: Buffer.concat(chunks) });
        res.writeHead(refuse ? 400 : 200).end();
        refuse = false;
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise((r) => server.close(r)));
    const relay = new OtlpRelay(dir, dir, { forwardTo: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, protocol: 'http/protobuf', headers: { 'x-team': 'infra' } });
    await relay.start();
    const bad = gzipSync(Buffer.from('not protobuf at all'));
    const good = gzipSync(await encodeMetricsRequest(tokens([['output', 9]]) as object));
    const headers = { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' };
    expect(await post(relay.socket, '/v1/metrics', bad, headers)).toBe(200);
    expect(await post(relay.socket, '/v1/metrics', good, headers)).toBe(200);
    expect(await post(relay.socket, '/v1/metrics', Buffer.from('x'), { ...headers, 'content-encoding': 'br' })).toBe(415);
    // Media types and codings are case-insensitive.
    const loud = gzipSync(await encodeMetricsRequest(tokens([['input', 4]]) as object));
    expect(await post(relay.socket, '/v1/metrics', loud, { 'content-type': 'Application/X-Protobuf', 'content-encoding': 'GZIP' })).toBe(200);
    await relay.stop();
    expect(relay.totals()).toMatchObject({ input: 4, output: 9 });
    expect(received.map((r) => [r.path, r.type, r.encoding])).toEqual([
      ['/v1/metrics', 'application/x-protobuf', 'gzip'],
      ['/v1/metrics', 'application/x-protobuf', 'gzip'],
      ['/v1/metrics', 'Application/X-Protobuf', 'gzip'],
    ]);
    expect(received[1]?.body.equals(good)).toBe(true);
  });

  it('forwards protobuf to a gRPC collector with its headers as metadata, and retries while it is unavailable', async () => {
    const dir = await tmp();
    const got: Array<{ path: string; auth: string | undefined; body: Buffer }> = [];
    // A collector taking the raw bytes of each Export call.
    const collector = (): grpc.Server => {
      const server = new grpc.Server();
      const identity = (b: Buffer): Buffer => b;
      for (const path of ['/opentelemetry.proto.collector.metrics.v1.MetricsService/Export', '/opentelemetry.proto.collector.logs.v1.LogsService/Export']) {
        server.register(
          path,
          (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
            got.push({ path, auth: call.metadata.get('authorization')[0]?.toString(), body: call.request });
            callback(null, Buffer.alloc(0));
          },
          identity,
          identity,
          'unary',
        );
      }
      return server;
    };
    const server = collector();
    // Reserve a port, then let the relay find the collector down before it starts.
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
    await new Promise<void>((r) => server.tryShutdown(() => r()));
    const relay = new OtlpRelay(dir, dir, { forwardTo: `http://127.0.0.1:${port}`, protocol: 'grpc', headers: { authorization: 'Bearer t0ken' } });
    await relay.start();
    const metrics = await encodeMetricsRequest(tokens([['input', 4]]) as object);
    expect(await post(relay.socket, '/v1/metrics', Buffer.from(metrics), { 'content-type': 'application/x-protobuf' })).toBe(200);
    expect(await post(relay.socket, '/v1/logs', Buffer.from([0x0a, 0x00]), { 'content-type': 'application/x-protobuf' })).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    expect(got).toEqual([]);
    const again = collector();
    await new Promise<void>((resolve, reject) => again.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));
    cleanup.push(() => new Promise<void>((r) => again.tryShutdown(() => r())));
    for (let i = 0; i < 100 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 100));
    await relay.stop();
    expect(got.map((g) => [g.path.split('/')[1], g.auth])).toEqual([
      ['opentelemetry.proto.collector.metrics.v1.MetricsService', 'Bearer t0ken'],
      ['opentelemetry.proto.collector.logs.v1.LogsService', 'Bearer t0ken'],
    ]);
    expect(got[0]?.body.equals(Buffer.from(metrics))).toBe(true);
    expect(relay.totals().input).toBe(4);
  }, 20_000);
});
