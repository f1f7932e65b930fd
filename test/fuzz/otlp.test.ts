/**
 * Fuzz: the OTLP exports the agent sends to its session's relay, which counts tokens and cost
 * from them. The agent is not trusted, so its bytes can be anything: protobuf that is cut off or
 * corrupted, JSON of any shape, gzip of garbage. The relay answers each request with a status
 * that says what it did (counted or passed on, or refused: 404 wrong endpoint, 415 unknown
 * encoding, 400 broken gzip), and never fails or counts something that is not a valid number.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EMPTY_TOTALS, TokenCounter, type TokenTotals } from '../../src/telemetry/otlp-metrics.js';
import { decodeMetricsRequest, encodeMetricsRequest } from '../../src/telemetry/otlp-proto.js';
import { OtlpRelay } from '../../src/telemetry/relay.js';
import { RUNS, TIMEOUT, anyText, outcomes } from './arbitraries.js';
import { mutateText, mutateValue } from './jsonc-text.js';

// The relay saves its totals after every counted export; relay.test.ts checks that file. Here the
// writes would only make 10,000 requests slower, so they go nowhere.
vi.mock('../../src/fs/atomic-write.js', () => ({ writeFileAtomic: () => Promise.resolve() }));

const FIXTURE = readFileSync(new URL('../fixtures/claude-code-metrics.pb', import.meta.url));

// ---- What an exporter sends: ExportMetricsServiceRequest in the JSON shape. ----

const attribute = fc.oneof(
  fc.record({ key: fc.constantFrom('type', 'model', 'session.id', 'user.id'), value: fc.record({ stringValue: fc.constantFrom('input', 'output', 'cacheRead', 'cacheCreation', 'claude-x', 's1', '') }) }),
  fc.record({ key: fc.constantFrom('type', 'attempt'), value: fc.oneof(fc.record({ intValue: fc.integer({ min: -1000, max: 1000 }).map(String) }), fc.record({ boolValue: fc.boolean() }), fc.record({ doubleValue: fc.double({ min: -10, max: 10, noNaN: true }) })) }),
);
/** A point's value: a double, or an int64 as a string (as OTLP JSON writes it). */
const pointValue = fc.oneof(
  fc.record({ asDouble: fc.oneof(fc.double({ min: -1e6, max: 1e12, noNaN: true }), fc.constantFrom(0, 1, 0.5, 1e308)) }),
  fc.record({ asInt: fc.integer({ min: -1e6, max: Number.MAX_SAFE_INTEGER }).map(String) }),
);
const point = fc.tuple(fc.array(attribute, { maxLength: 3 }), pointValue).map(([attributes, value]) => ({ attributes, ...value }));
const metric = fc.record({
  name: fc.constantFrom('claude_code.token.usage', 'claude_code.token.usage', 'claude_code.cost.usage', 'claude_code.session.count', 'other'),
  sum: fc.record({ aggregationTemporality: fc.constantFrom(0, 1, 2), dataPoints: fc.array(point, { maxLength: 3 }) }),
});
const metricsPayload = fc.record({
  resourceMetrics: fc.array(
    fc.record({
      resource: fc.record({ attributes: fc.array(attribute, { maxLength: 2 }) }),
      scopeMetrics: fc.array(fc.record({ metrics: fc.array(metric, { maxLength: 3 }) }), { maxLength: 2 }),
    }),
    { maxLength: 2 },
  ),
});

// ---- Bytes that are almost protobuf, or not at all. ----

const varint = (n: bigint): number[] => {
  const out: number[] = [];
  let v = BigInt.asUintN(64, n);
  do {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v > 0n ? byte | 0x80 : byte);
  } while (v > 0n);
  return out;
};

/** Protobuf wire format of random fields (numbers 1 to 8, so most meet the schema's), nested up to `depth`. */
const wire = fc.letrec<{ message: number[] }>((tie) => ({
  message: fc
    .array(
      fc.oneof(
        fc.tuple(fc.integer({ min: 1, max: 8 }), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n })).map(([field, n]) => [...varint(BigInt(field << 3)), ...varint(n)]),
        fc.tuple(fc.integer({ min: 1, max: 8 }), fc.uint8Array({ minLength: 8, maxLength: 8 })).map(([field, bytes]) => [...varint(BigInt((field << 3) | 1)), ...bytes]),
        fc.tuple(fc.integer({ min: 1, max: 8 }), fc.uint8Array({ minLength: 4, maxLength: 4 })).map(([field, bytes]) => [...varint(BigInt((field << 3) | 5)), ...bytes]),
        fc
          .tuple(fc.integer({ min: 1, max: 8 }), fc.oneof({ maxDepth: 3 }, fc.uint8Array({ maxLength: 12 }).map((b) => [...b]), tie('message')), fc.integer({ min: -2, max: 2 }))
          .map(([field, body, lie]) => [...varint(BigInt((field << 3) | 2)), ...varint(BigInt(Math.max(0, body.length + lie))), ...body]),
      ),
      { maxLength: 5 },
    )
    .map((fields) => fields.flat()),
})).message.map((bytes) => Uint8Array.from(bytes));

/** The real export from Claude Code, broken: cut off, bytes changed, bytes inserted, a span cut out. */
const brokenFixture = fc.oneof(
  fc.nat().map((n) => FIXTURE.subarray(0, n % (FIXTURE.length + 1))),
  fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }).map((changes) => {
    const copy = Buffer.from(FIXTURE);
    for (const [at, byte] of changes) copy[at % copy.length] = byte;
    return copy;
  }),
  fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 16 })).map(([at, bytes]) => {
    const i = at % (FIXTURE.length + 1);
    return Buffer.concat([FIXTURE.subarray(0, i), bytes, FIXTURE.subarray(i)]);
  }),
  fc.tuple(fc.nat(), fc.nat({ max: 64 })).map(([at, length]) => {
    const i = at % (FIXTURE.length + 1);
    return Buffer.concat([FIXTURE.subarray(0, i), FIXTURE.subarray(i + length)]);
  }),
);

/** Anything that could arrive where protobuf is expected. */
const protobufBytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  wire,
  brokenFixture,
  fc.constant(FIXTURE),
  fc.constantFrom(Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), Uint8Array.from([0x0a, 0x80]), Uint8Array.from([0xff])),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => gzipSync(bytes)),
);

/** Anything that could arrive where JSON is expected: any JSON, a payload broken somewhere, a payload's text broken (even buried in nesting). */
const jsonText: fc.Arbitrary<string> = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  metricsPayload.map((p) => JSON.stringify(p)),
  metricsPayload.chain((p) => mutateValue(p, ['resourceMetrics', 'scopeMetrics', 'metrics', 'dataPoints', 'asInt', 'asDouble', 'attributes', '__proto__'])).map((v) => JSON.stringify(v)),
  metricsPayload.chain((p) => mutateText(JSON.stringify(p))),
);

/** The same, as the relay reads it. */
const jsonValue: fc.Arbitrary<unknown> = jsonText.map((text) => {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
});

function gunzipOrUndefined(body: Uint8Array): Buffer | undefined {
  try {
    return gunzipSync(body);
  } catch {
    return undefined;
  }
}

function expectSaneTotals(totals: TokenTotals): void {
  for (const value of Object.values(totals)) expect(Number.isFinite(value) && value >= 0, JSON.stringify(totals)).toBe(true);
}

describe('OTLP exports: fuzz', () => {
  it('decoding any bytes as protobuf gives an export or nothing, never an error, and counting what it gives keeps every total a finite number', async () => {
    const seen = outcomes();
    await fc.assert(
      fc.asyncProperty(protobufBytes, async (bytes) => {
        const decoded = await decodeMetricsRequest(bytes);
        if (decoded === undefined) {
          seen.count('not a message');
          return;
        }
        const counter = new TokenCounter();
        expect(typeof counter.add(decoded)).toBe('boolean');
        expectSaneTotals(counter.totals());
        seen.count(JSON.stringify(counter.totals()) === JSON.stringify(EMPTY_TOTALS) ? 'nothing counted' : 'counted');
      }),
      { numRuns: RUNS },
    );
    seen.expectEach(100, 'not a message', 'nothing counted', 'counted');
  }, TIMEOUT);

  it('counting any JSON either refuses it and changes nothing, or counts it and keeps every total a finite number', () => {
    const seen = outcomes();
    fc.assert(
      fc.property(fc.array(jsonValue, { minLength: 1, maxLength: 3 }), (payloads) => {
        const counter = new TokenCounter();
        for (const payload of payloads) {
          const before = JSON.stringify(counter.toJSON());
          const taken = counter.add(payload);
          if (!taken) expect(JSON.stringify(counter.toJSON())).toBe(before);
          expectSaneTotals(counter.totals());
          seen.count(taken ? 'taken' : 'refused');
        }
        // What is kept for the next process (the keeper) gives the same totals there.
        expect(TokenCounter.from(counter.toJSON()).totals()).toEqual(counter.totals());
      }),
      { numRuns: RUNS },
    );
    seen.expectEach(100, 'taken', 'refused');
  }, TIMEOUT);

  it('an export encoded as protobuf and decoded again gives the same token and cost totals as its JSON', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(metricsPayload, { minLength: 1, maxLength: 3 }), async (exports) => {
        const fromJson = new TokenCounter();
        const fromProtobuf = new TokenCounter();
        for (const payload of exports) {
          expect(fromJson.add(payload)).toBe(true);
          expect(fromProtobuf.add(await decodeMetricsRequest(await encodeMetricsRequest(payload)))).toBe(true);
        }
        expect(fromProtobuf.totals()).toEqual(fromJson.totals());
      }),
      { numRuns: RUNS },
    );
  }, TIMEOUT);

  describe('through the relay', () => {
    let dir: string;
    let relay: OtlpRelay;
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'paude-fuzz-otlp-'));
      relay = new OtlpRelay(dir, dir);
      await relay.start();
    });
    afterAll(async () => {
      agent.destroy();
      await relay.stop();
      await rm(dir, { recursive: true, force: true });
    });

    const post = (method: string, path: string, headers: Record<string, string>, body: Uint8Array): Promise<number> =>
      new Promise((resolve, reject) => {
        const req = request({ socketPath: relay.socket, agent, path, method, headers: { ...headers, 'content-length': String(body.length) } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end(body);
      });

    const exportRequest = fc.record({
      method: fc.constantFrom('POST', 'POST', 'POST', 'POST', 'GET', 'PUT'),
      path: fc.constantFrom('/v1/metrics', '/v1/metrics', '/v1/metrics', '/v1/logs', '/v1/traces', '/v1/other', '/', '/v1/metrics/', '/v1/metrics?x=1'),
      contentType: fc.constantFrom(undefined, 'application/json', 'application/json; charset=utf-8', 'application/x-protobuf', 'application/protobuf', 'text/plain', 'application/grpc'),
      encoding: fc.constantFrom(undefined, undefined, 'gzip', 'gzip', 'identity', 'br', 'deflate'),
      body: fc.oneof(
        protobufBytes,
        jsonText.map((t) => Buffer.from(t)),
        anyText(200).map((t) => Buffer.from(t)),
      ),
      gzipped: fc.boolean(),
    });

    it('answers every request: counts what decodes as OTLP metrics, passes on what does not, refuses wrong endpoints, unknown encodings and broken gzip', async () => {
      const model = new TokenCounter();
      const seen = outcomes();
      await fc.assert(
        fc.asyncProperty(exportRequest, async (r) => {
          const body = r.encoding === 'gzip' && r.gzipped ? gzipSync(r.body) : r.body;
          const headers: Record<string, string> = { ...(r.contentType ? { 'content-type': r.contentType } : {}), ...(r.encoding ? { 'content-encoding': r.encoding } : {}) };
          const status = await post(r.method, r.path, headers, body);

          const signal = /^\/v1\/(metrics|logs|traces)$/.exec(r.path)?.[1];
          const raw = r.encoding === 'gzip' ? gunzipOrUndefined(body) : Buffer.from(body);
          const expected = r.method !== 'POST' || !signal ? 404 : r.encoding && r.encoding !== 'gzip' && r.encoding !== 'identity' ? 415 : raw === undefined ? 400 : 200;
          expect(status).toBe(expected);
          seen.count(String(expected));
          if (expected !== 200 || signal !== 'metrics' || raw === undefined) return;
          if (signal !== 'metrics') return;
          const contentType = r.contentType ?? 'application/json';
          let payload: unknown;
          if (contentType.startsWith('application/json')) {
            try {
              payload = JSON.parse(raw.toString('utf8'));
            } catch {
              payload = undefined;
            }
          } else if (/^application\/(x-)?protobuf/.test(contentType)) payload = await decodeMetricsRequest(raw);
          if (payload !== undefined) model.add(payload);
          expect(relay.totals()).toEqual(model.totals());
          expectSaneTotals(relay.totals());
        }),
        { numRuns: RUNS },
      );
      seen.expectEach(100, '200', '400', '404', '415');
      expect(model.totals()).not.toEqual(EMPTY_TOTALS);
    }, TIMEOUT);
  });
});
