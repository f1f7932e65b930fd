/**
 * Fuzz: the proxy's access log, which squid writes and paude reads for the dashboard's feed,
 * `paude blocked`, the session list's blocked count and the audit log. What is in the file is
 * whatever squid (or anything that can write there) put in it: the follower delivers exactly
 * the lines in it, and the parser turns each into an event of well-typed fields or nothing.
 */
import type * as FsPromises from 'node:fs/promises';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { LogFollower, type LogLine } from '../../src/policy/log-follower.js';
import { parseAccessLine, type ProxyEvent } from '../../src/policy/proxy-event.js';
import { ACCESS_LOG_FORMAT } from '../../src/policy/squid-config.js';
import { RUNS, TIMEOUT, anyText, insertAt, outcomes, trouble } from './arbitraries.js';

/**
 * The log, held in memory and served to the real LogFollower through stat and open: a property
 * of 10,000 cases with several reads each would take minutes on disk.
 */
const logs = vi.hoisted(() => new Map<string, Buffer>());
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof FsPromises>();
  const held = (path: unknown): Buffer | undefined => (typeof path === 'string' ? logs.get(path) : undefined);
  const stat = ((path: Parameters<typeof real.stat>[0], options?: Parameters<typeof real.stat>[1]) => {
    const bytes = held(path);
    if (!bytes) return real.stat(path, options);
    return Promise.resolve({ size: bytes.length });
  }) as typeof real.stat;
  const open = ((path: Parameters<typeof real.open>[0], flags?: Parameters<typeof real.open>[1], mode?: Parameters<typeof real.open>[2]) => {
    if (!held(path)) return real.open(path, flags, mode);
    return Promise.resolve({
      read: (buffer: Buffer, offset: number, length: number, position: number) => {
        // Read what the file holds now, as a real read would.
        const bytes = held(path) ?? Buffer.alloc(0);
        const bytesRead = Math.max(0, Math.min(length, bytes.length - position));
        bytes.copy(buffer, offset, position, position + bytesRead);
        return Promise.resolve({ bytesRead, buffer });
      },
      close: () => Promise.resolve(),
    });
  }) as typeof real.open;
  return { ...real, stat, open, default: { ...real, stat, open } };
});

const SESSION = 'paude-fuzz01';
const LOG = '/nonexistent/paude-fuzz/proxy/log/access.log';
/** The follower's read size: a line longer than this is not one of squid's and is dropped. */
const CHUNK = 64 * 1024;

const token = fc.stringMatching(/^[\x21-\x7e]{1,24}$/);
/** A line as squid writes it with ACCESS_LOG_FORMAT (eleven space-separated fields). */
const squidLine = fc
  .record({
    seconds: fc.integer({ min: 0, max: 4_000_000_000 }),
    millis: fc.integer({ min: 0, max: 999 }),
    client: fc.oneof(fc.ipV4(), fc.ipV6(), token),
    method: fc.constantFrom('GET', 'POST', 'CONNECT', 'HEAD', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'NONE', 'error:transaction-end-before-headers'),
    host: fc.oneof(fc.domain(), fc.ipV4(), fc.ipV6().map((ip) => `[${ip}]`), token),
    port: fc.oneof(fc.integer({ min: 0, max: 99999 }).map(String), fc.constant('-')),
    status: fc.integer({ min: 0, max: 999 }),
    bytes: fc.integer({ min: 0, max: 999_999_999_999_999 }),
    squid: fc.constantFrom('TCP_MISS', 'TCP_DENIED', 'TCP_TUNNEL', 'TCP_MISS_ABORTED', 'NONE_NONE', 'TCP_DENIED/NONE', 'TAG_NONE/503'),
    decision: fc.constantFrom('allow', 'deny', '-'),
    rule: fc.oneof(token, fc.constantFrom('-', '@npm', 'not-allowed', 'approved', 'ip:[fd00::1]:8443')),
    elapsed: fc.integer({ min: 0, max: 9_999_999_999 }),
  })
  .map((e) => [`${e.seconds}.${String(e.millis).padStart(3, '0')}`, e.client, e.method, e.host, e.port, e.status, e.bytes, e.squid, e.decision, e.rule, e.elapsed].map(String));

/** A real line broken somehow: a field replaced, dropped, doubled or split, a character inserted, the line cut or joined to another. */
const brokenLine = fc.oneof(
  fc.tuple(squidLine, fc.nat(), fc.oneof(anyText(12), trouble, fc.constantFrom('', '-', '0', '-1', '1e3', '0x10', '9'.repeat(20), 'NaN', 'Infinity', '1.5', 'allow deny'))).map(([f, i, s]) =>
    f.map((x, j) => (j === i % f.length ? s : x)).join(' '),
  ),
  fc.tuple(squidLine, fc.nat()).map(([f, i]) => f.filter((_, j) => j !== i % f.length).join(' ')),
  fc.tuple(squidLine, fc.nat()).map(([f, i]) => [...f.slice(0, i % f.length), f[i % f.length], ...f.slice(i % f.length)].join(' ')),
  fc.tuple(squidLine, trouble, fc.nat()).map(([f, bad, at]) => insertAt(f.join(' '), bad, at)),
  fc.tuple(squidLine, fc.nat()).map(([f, at]) => f.join(' ').slice(0, at % (f.join(' ').length + 1))),
  fc.tuple(squidLine, squidLine).map(([a, b]) => `${a.join(' ')}${b.join(' ')}`),
  fc.tuple(squidLine, fc.constantFrom(' ', '\t', '  ', '\r', '\u00a0')).map(([f, sep]) => f.join(sep)),
);

const anyLine = fc.oneof(squidLine.map((f) => f.join(' ')), brokenLine, anyText(120), fc.string({ unit: 'binary-ascii', maxLength: 200 }));

/** The types each field of an event has, whatever line it came from. */
function expectWellTyped(event: ProxyEvent, offset: number): void {
  const printable = /^[\x21-\x7e]{1,300}$/;
  expect(event.session).toBe(SESSION);
  expect(event.offset).toBe(offset);
  expect(['allow', 'deny']).toContain(event.decision);
  // A time a Date can hold: the CLI and the audit log print it as one.
  expect(Number.isSafeInteger(event.time) && event.time >= 0 && !Number.isNaN(new Date(event.time).getTime())).toBe(true);
  expect(Number.isInteger(event.port) && event.port >= 0 && event.port <= 99999).toBe(true);
  expect(Number.isInteger(event.status) && event.status >= 0 && event.status <= 999).toBe(true);
  expect(Number.isSafeInteger(event.bytes) && event.bytes >= 0).toBe(true);
  expect(Number.isSafeInteger(event.elapsedMs) && event.elapsedMs >= 0).toBe(true);
  expect(event.method).toMatch(/^[A-Z_-]{1,20}$/);
  for (const text of [event.host, event.client, event.rule]) expect(text).toMatch(printable);
}

describe('squid access log: fuzz', () => {
  it('parseAccessLine never throws: any line, real or broken, gives nothing or an event whose fields have their types', () => {
    expect(ACCESS_LOG_FORMAT.split(' ')).toHaveLength(11);
    const seen = outcomes();
    fc.assert(
      fc.property(anyLine, fc.nat(), (line, offset) => {
        const event = parseAccessLine(line, SESSION, offset);
        if (event === undefined) {
          seen.count('not ours');
          return;
        }
        expectWellTyped(event, offset);
        // Exactly eleven fields separated by single spaces, as squid writes them, and nothing else.
        const fields = line.split(' ');
        expect(fields).toHaveLength(11);
        expect([fields[1], fields[3]]).toEqual([event.client, event.host]);
        seen.count(event.decision);
      }),
      { numRuns: RUNS },
    );
    seen.expectEach(100, 'not ours', 'allow', 'deny');
  }, TIMEOUT);

  /** What the file holds over time: bytes appended in pieces, now and then a truncation to fewer bytes (log rotation). */
  // Lines of about the read size are rare (each costs a few hundred kilobytes of copying) but still
  // come up hundreds of times in 10,000 cases.
  const piece = fc.oneof(
    { weight: 12, arbitrary: fc.array(anyLine, { maxLength: 4 }).map((lines) => Buffer.from(lines.map((l) => `${l}\n`).join(''))) },
    { weight: 6, arbitrary: fc.uint8Array({ maxLength: 120 }).map((bytes) => Buffer.from(bytes)) },
    { weight: 3, arbitrary: fc.constantFrom('\n', '\n\n', '\r\n', 'no newline yet').map((s) => Buffer.from(s)) },
    { weight: 1, arbitrary: fc.integer({ min: CHUNK - 2, max: CHUNK + 2 }).map((n) => Buffer.alloc(n, 0x61)) },
    { weight: 1, arbitrary: fc.integer({ min: CHUNK + 3, max: 2 * CHUNK + 3 }).map((n) => Buffer.alloc(n, 0x62)) },
  );
  const step = fc.oneof({ weight: 6, arbitrary: piece.map((bytes) => ({ append: bytes })) }, { weight: 1, arbitrary: fc.nat().map((keep) => ({ truncateTo: keep })) });

  /** The lines a reader of `bytes` must get: each ended by a newline and at most CHUNK bytes long, with where it starts and where the next starts. */
  function linesOf(bytes: Buffer): LogLine[] {
    const out: LogLine[] = [];
    for (let from = 0, nl = bytes.indexOf(10); nl !== -1; from = nl + 1, nl = bytes.indexOf(10, from)) {
      if (nl - from <= CHUNK) out.push({ line: bytes.subarray(from, nl).toString('utf8'), offset: from, next: nl + 1 });
    }
    return out;
  }

  it('LogFollower delivers each line of the file once, in order, with its offsets, however the bytes arrive; a reader resuming at its offset goes on where it stopped', async () => {
    const seen = outcomes();
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 6 }), piece, async (steps, last) => {
        logs.set(LOG, Buffer.alloc(0));
        const got: LogLine[] = [];
        const follower = new LogFollower(LOG, (lines) => got.push(...lines));
        const expected: LogLine[] = [];
        let file = Buffer.alloc(0);
        for (const s of steps) {
          if ('append' in s) file = Buffer.concat([file, s.append]);
          else {
            // A rotated log is shorter than what was read: everything before is done with.
            if (file.length === 0) continue;
            expected.push(...linesOf(file));
            file = Buffer.from(file.subarray(0, s.truncateTo % file.length));
          }
          logs.set(LOG, file);
          await follower.poll();
        }
        expect(got).toEqual([...expected, ...linesOf(file)]);
        if (steps.some((s) => 'truncateTo' in s)) seen.count('rotated');
        if (file.length > CHUNK) seen.count('longer than a read');
        for (const l of got) {
          const event = parseAccessLine(l.line, SESSION, l.offset);
          if (event) expectWellTyped(event, l.offset);
        }

        // A reader started where this one would resume gets, from now on, exactly what this one gets.
        const resumed: LogLine[] = [];
        const again = new LogFollower(LOG, (lines) => resumed.push(...lines), follower.offset);
        await again.poll();
        expect(resumed).toEqual([]);
        const before = got.length;
        logs.set(LOG, Buffer.concat([file, last]));
        await Promise.all([follower.poll(), again.poll()]);
        expect(resumed).toEqual(got.slice(before));
        if (resumed.length > 0) seen.count('resumed');
      }),
      { numRuns: RUNS },
    );
    seen.expectEach(100, 'rotated', 'longer than a read', 'resumed');
  }, TIMEOUT);
});
