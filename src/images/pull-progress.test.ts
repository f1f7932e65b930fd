import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { anyText, notOneLine, RUNS, TIMEOUT } from '../../test/fuzz/arbitraries.js';
import { describePull, formatBytes, PullStreamParser, type PullProgress } from './pull-progress.js';

interface Samples {
  podman: { pull: string[]; unknownImage: string[]; plainHttpRegistry: string[]; connectionRefused: string[] };
  docker: { pull: string[] };
}
const samples = JSON.parse(readFileSync(new URL('./pull-stream-samples.json', import.meta.url), 'utf8')) as Samples;

function parse(lines: readonly string[], chunk?: number): { events: PullProgress[]; parser: PullStreamParser } {
  const events: PullProgress[] = [];
  const parser = new PullStreamParser('127.0.0.1:5000/base:1', (event) => events.push(event));
  const text = lines.map((line) => `${line}\n`).join('');
  const bytes = Buffer.from(text);
  if (chunk === undefined) parser.push(bytes);
  else for (let i = 0; i < bytes.length; i += chunk) parser.push(bytes.subarray(i, i + chunk));
  parser.end();
  return { events, parser };
}

describe('PullStreamParser on real streams', () => {
  it('sums Docker layers: 3 layers, every byte downloaded at the end, unpacking shown while it lasts', () => {
    const { events, parser } = parse(samples.docker.pull);
    expect(parser.error).toBeUndefined();
    expect(parser.summary()).toEqual({ kind: 'pull', text: '127.0.0.1:5000/base:1', layers: 3, done: 3, current: 93156912, total: 93156912, extracting: false });
    expect(events.some((e) => e.extracting)).toBe(true);
    // Bytes only grow, and never pass what is known.
    for (const [i, e] of events.entries()) {
      expect(e.current).toBeLessThanOrEqual(e.total);
      if (i > 0 && e.total === events[i - 1]?.total) expect(e.current).toBeGreaterThanOrEqual(events[i - 1]?.current ?? 0);
    }
  });

  it('sums Podman layers, which end at "Download complete" (Podman reports no extraction)', () => {
    const { events, parser } = parse(samples.podman.pull);
    expect(parser.error).toBeUndefined();
    const last = parser.summary();
    expect(last).toMatchObject({ done: last.layers, current: 91375843, total: 91375843, extracting: false });
    expect(events.some((e) => e.current > 0 && e.current < e.total)).toBe(true);
  });

  it('gives the same result however the bytes are cut', () => {
    for (const lines of [samples.docker.pull, samples.podman.pull]) {
      expect(parse(lines, 7).parser.summary()).toEqual(parse(lines).parser.summary());
      expect(parse(lines, 7).events).toEqual(parse(lines).events);
    }
  });

  it("keeps the engine's error", () => {
    expect(parse(samples.podman.unknownImage).parser.error).toMatch(/manifest unknown/);
    expect(parse(samples.podman.plainHttpRegistry).parser.error).toMatch(/server gave HTTP response to HTTPS client/);
    expect(parse(samples.podman.connectionRefused).parser.error).toMatch(/connection refused/);
  });

  it('emits only when the figure changes, and ignores lines that are not JSON or not about a layer', () => {
    const { events } = parse([
      '{"status":"Pulling from team/base","id":"1"}',
      'not json',
      '{"status":"Digest: sha256:00"}',
      '{"status":"Pulling fs layer","progressDetail":{},"id":"a"}',
      '{"status":"Waiting","progressDetail":{},"id":"a"}',
      '{"status":"Downloading","progressDetail":{"current":5,"total":10},"id":"a"}',
      '{"status":"Downloading","progressDetail":{"current":5,"total":10},"id":"a"}',
      '{"status":"Pull complete","progressDetail":{},"id":"a"}',
    ]);
    expect(events.map((e) => `${e.done}/${e.layers} ${e.current}/${e.total}`)).toEqual(['0/1 0/0', '0/1 5/10', '1/1 10/10']);
  });
});

describe('describePull', () => {
  const event = (done: number, layers: number, current: number, total: number, extracting = false): PullProgress => ({ kind: 'pull', text: 'x', layers, done, current, total, extracting });
  it('says layers and bytes', () => {
    expect(describePull(event(1, 3, 12_345_678, 45_600_000))).toBe('1/3 layers, 12 MB/46 MB');
    expect(describePull(event(0, 1, 0, 0))).toBe('0/1 layer');
    expect(describePull(event(3, 3, 93_156_912, 93_156_912, true))).toBe('3/3 layers, 93 MB/93 MB, unpacking');
  });
  it('formats sizes in decimal units like the engines', () => {
    expect([0, 999, 1000, 1500, 9_999, 12_345, 1_234_567, 2_500_000_000].map(formatBytes)).toEqual(['0 B', '999 B', '1.0 kB', '1.5 kB', '10.0 kB', '12 kB', '1.2 MB', '2.5 GB']);
  });
});

describe('PullStreamParser on any stream (fuzz)', () => {
  const number = fc.oneof(fc.integer({ min: -5, max: 2 ** 40 }), fc.double(), fc.constant(Number.MAX_SAFE_INTEGER), fc.string({ maxLength: 4 }), fc.constant(null));
  const message = fc.oneof(
    fc
      .record({
        status: fc.oneof(fc.constantFrom('Pulling fs layer', 'Waiting', 'Downloading', 'Verifying Checksum', 'Download complete', 'Extracting', 'Pull complete', 'Already exists', 'Pulling from x'), anyText(12)),
        id: fc.oneof(fc.constantFrom('a', 'b', 'c'), anyText(6), fc.integer()),
        progressDetail: fc.oneof(fc.record({ current: number, total: number }, { requiredKeys: [] }), fc.constant({}), fc.constant(null)),
      }, { requiredKeys: [] })
      .map((m) => JSON.stringify(m)),
    fc.record({ error: anyText(20) }).map((m) => JSON.stringify(m)),
    fc.jsonValue().map((v) => JSON.stringify(v)),
    anyText(30),
  );
  it('never throws; every figure is in range and none depends on where the bytes were cut', () => {
    fc.assert(
      fc.property(fc.array(message, { maxLength: 30 }), fc.integer({ min: 1, max: 50 }), (lines, cut) => {
        const whole = parse(lines);
        const pieces = parse(lines, cut);
        expect(pieces.events).toEqual(whole.events);
        for (const e of whole.events) {
          expect(e.done).toBeGreaterThanOrEqual(0);
          expect(e.done).toBeLessThanOrEqual(e.layers);
          expect(e.current).toBeGreaterThanOrEqual(0);
          expect(e.current).toBeLessThanOrEqual(e.total);
          expect(Number.isFinite(e.total)).toBe(true);
          expect(notOneLine(describePull(e))).toBeUndefined();
        }
      }),
      { numRuns: RUNS },
    );
  }, TIMEOUT);
});
