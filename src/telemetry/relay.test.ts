import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TokenCounter } from './otlp-metrics.js';
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

describe('OtlpRelay', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  const post = (socket: string, path: string, body: string): Promise<number> =>
    new Promise((resolve, reject) => {
      const req = request({ socketPath: socket, path, method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end(body);
    });

  it('counts tokens into telemetry.json, forwards every export unchanged, and keeps what the collector did not take', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'paude-relay-'));
    dirs.push(dir);
    const sent: Array<[string, string]> = [];
    let up = false;
    const relay = new OtlpRelay(dir, dir, {
      forwardTo: 'http://collector.test:4318/',
      post: (url, body) => {
        if (!up) return Promise.resolve(503);
        sent.push([url, body.toString()]);
        return Promise.resolve(200);
      },
    });
    await relay.start();
    const body = JSON.stringify(tokens([['input', 12], ['output', 5]], 2, 0.001));
    expect(await post(relay.socket, '/v1/metrics', body)).toBe(200);
    expect(await post(relay.socket, '/v1/logs', '{"resourceLogs":[]}')).toBe(200);
    expect(await post(relay.socket, '/v1/other', '{}')).toBe(404);
    await new Promise((r) => setTimeout(r, 50));
    expect(await readTokenTotals(dir)).toEqual({ input: 12, output: 5, cacheRead: 0, cacheCreation: 0, costUsd: 0.001 });
    expect(sent).toEqual([]); // the collector is down: kept
    up = true;
    await relay.stop(); // stopping delivers what is kept
    expect(sent).toEqual([
      ['http://collector.test:4318/v1/metrics', body],
      ['http://collector.test:4318/v1/logs', '{"resourceLogs":[]}'],
    ]);
    // A relay started later (the keeper after the foreground paude) goes on from the same totals.
    const next = new OtlpRelay(dir, dir);
    await next.start();
    expect(next.totals()).toMatchObject({ input: 12, output: 5 });
    await next.stop();
  });
});
