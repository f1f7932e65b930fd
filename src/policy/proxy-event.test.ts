import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAccessLine } from './proxy-event.js';
import { ACCESS_LOG_FORMAT } from './squid-config.js';

const SESSION = 'paude-abcd1234';

describe('parseAccessLine: lines squid writes', () => {
  it('reads an allowed GET with the rule that allowed it', () => {
    expect(parseAccessLine('1732683600.123 127.0.0.1 GET allowed.test 80 200 615 TCP_MISS allow allowed.test 12', SESSION, 0)).toEqual({
      time: 1732683600123,
      session: SESSION,
      decision: 'allow',
      host: 'allowed.test',
      port: 80,
      method: 'GET',
      status: 200,
      bytes: 615,
      rule: 'allowed.test',
      client: '127.0.0.1',
      elapsedMs: 12,
      offset: 0,
    });
  });

  it('reads a denial with the rule that denied it, and keeps the offset it is given', () => {
    expect(parseAccessLine('1732683600.456 127.0.0.1 GET blocked.test 80 403 3950 TCP_DENIED deny not-allowed 0', SESSION, 4096)).toMatchObject({
      decision: 'deny',
      rule: 'not-allowed',
      status: 403,
      host: 'blocked.test',
      offset: 4096,
      time: 1732683600456,
    });
  });

  it('reads a CONNECT tunnel allowed by a group, and an approval', () => {
    expect(parseAccessLine('1732683601.000 127.0.0.1 CONNECT registry.test 443 200 48213 TCP_TUNNEL allow @npm 1530', SESSION, 10)).toMatchObject({
      method: 'CONNECT',
      host: 'registry.test',
      port: 443,
      decision: 'allow',
      rule: '@npm',
      bytes: 48213,
      elapsedMs: 1530,
    });
    expect(parseAccessLine('1732683602.010 127.0.0.1 GET held.test 80 200 10 TCP_MISS allow approved 30211', SESSION, 0)).toMatchObject({ rule: 'approved', elapsedMs: 30211 });
  });

  it('reads IP rules and bracketed IPv6 destinations', () => {
    expect(parseAccessLine('1732683601.000 ::1 CONNECT [fd00::1] 8443 200 1 TCP_TUNNEL allow ip:[fd00::1]:8443 3', SESSION, 0)).toMatchObject({
      client: '::1',
      host: '[fd00::1]',
      port: 8443,
      rule: 'ip:[fd00::1]:8443',
    });
  });

  it('reads a request squid refused before asking paude (no notes) as a denial by the proxy', () => {
    expect(parseAccessLine('1732683603.000 127.0.0.1 GET 169.254.169.254 80 403 3900 TCP_DENIED - - 0', SESSION, 0)).toMatchObject({
      decision: 'deny',
      rule: 'proxy',
      host: '169.254.169.254',
    });
    expect(parseAccessLine('1732683603.000 10.0.0.9 GET example.com 80 403 3900 TCP_DENIED/NONE - - 0', SESSION, 0)).toMatchObject({ decision: 'deny', rule: 'proxy' });
  });

  it('reads a request without notes that squid did not deny as an allow by an unknown rule', () => {
    expect(parseAccessLine('1732683603.000 127.0.0.1 GET example.com 80 200 10 TCP_MISS - - 5', SESSION, 0)).toMatchObject({ decision: 'allow', rule: 'unknown' });
  });

  it('a helper decision without a rule note keeps the decision', () => {
    expect(parseAccessLine('1732683603.000 127.0.0.1 GET example.com 80 403 10 TCP_DENIED deny - 5', SESSION, 0)).toMatchObject({ decision: 'deny', rule: 'proxy' });
  });

  it('fills in the default port when squid logs "-": 443 for CONNECT, 80 otherwise', () => {
    expect(parseAccessLine('1732683604.000 127.0.0.1 CONNECT example.com - 403 0 TCP_DENIED deny not-allowed 0', SESSION, 0)).toMatchObject({ port: 443 });
    expect(parseAccessLine('1732683604.000 127.0.0.1 GET example.com - 403 0 TCP_DENIED deny not-allowed 0', SESSION, 0)).toMatchObject({ port: 80 });
  });

  it('the format squid is configured with has the eleven fields read here', () => {
    expect(ACCESS_LOG_FORMAT.split(' ')).toHaveLength(11);
  });
});

describe('parseAccessLine: lines that are not ours', () => {
  const good = '1732683600.123 127.0.0.1 GET allowed.test 80 200 615 TCP_MISS allow allowed.test 12';

  it.each([
    ['an empty line', ''],
    ['a squid startup message', '2026/11/27 05:00:04| Processing Configuration File: /run/paude/squid.conf (depth 0)'],
    ['one field missing', good.split(' ').slice(0, 10).join(' ')],
    ['one field too many', `${good} extra`],
    ['a double space (an empty field)', good.replace(' GET ', ' GET  ')],
    ['a trailing space', `${good} `],
    ['a tab instead of a space', good.replace(' GET ', '\tGET ')],
    ['a carriage return at the end', `${good}\r`],
    ['a time without milliseconds', good.replace('1732683600.123', '1732683600')],
    ['a lower-case method', good.replace('GET', 'get')],
    ['a decision that is neither allow, deny nor -', good.replace(' allow ', ' maybe ')],
    ['a six-digit port', good.replace(' 80 ', ' 123456 ')],
    ['a four-digit status', good.replace(' 200 ', ' 2000 ')],
    ['a non-ASCII host', good.replace('allowed.test', 'bücher.test')],
    ['a host longer than 300 characters', good.replace('allowed.test', `${'a'.repeat(300)}.test`)],
    ['a NUL byte', good.replace('allowed', 'allo\u0000wed')],
    ['binary data', '\u00ff\u00fe\u0000\u0001 \u0002\u0003'],
    // Found by test/fuzz/squid-log.test.ts: a time of any length was read, so a corrupt or cut and
    // rejoined line gave events at times no Date can hold, and `paude blocked --json` then threw.
    ['a time of fifteen digits of seconds', good.replace('1732683600.123', '100001732683600.123')],
    ['a time of 400 digits of seconds', good.replace('1732683600.123', `${'9'.repeat(400)}.123`)],
  ])('%s', (_what, line) => {
    expect(parseAccessLine(line, SESSION, 0)).toBeUndefined();
  });

  it('never throws, whatever it is given', () => {
    const fields = good.split(' ');
    const mutated = fc
      .tuple(fc.nat(fields.length - 1), fc.string({ unit: 'binary', maxLength: 12 }))
      .map(([i, s]) => fields.map((f, j) => (j === i ? s : f)).join(' '));
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.string({ unit: 'grapheme-ascii', maxLength: 200 }), mutated), fc.nat(), (line, offset) => {
        const event = parseAccessLine(line, SESSION, offset);
        if (event !== undefined) {
          expect(event.offset).toBe(offset);
          expect(['allow', 'deny']).toContain(event.decision);
          expect(Number.isFinite(event.time)).toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
  }, 30_000);
});

describe('parseAccessLine: property', () => {
  const token = fc.stringMatching(/^[\x21-\x7e]{1,40}$/);
  const entry = fc.record({
    seconds: fc.integer({ min: 0, max: 4_000_000_000 }),
    millis: fc.integer({ min: 0, max: 999 }),
    client: token,
    method: fc.constantFrom('GET', 'POST', 'CONNECT', 'HEAD', 'PUT', 'DELETE', 'OPTIONS'),
    host: token,
    port: fc.integer({ min: 1, max: 65535 }),
    status: fc.integer({ min: 0, max: 999 }),
    bytes: fc.integer({ min: 0, max: 1e12 }),
    squid: fc.constantFrom('TCP_MISS', 'TCP_DENIED', 'TCP_TUNNEL', 'TCP_MISS_ABORTED', 'NONE_NONE'),
    decision: fc.constantFrom('allow', 'deny'),
    rule: token.filter((t) => t !== '-'),
    elapsed: fc.integer({ min: 0, max: 9_999_999_999 }),
  });

  it('every well-formed line reads back as the request it records', () => {
    fc.assert(
      fc.property(entry, fc.nat(), (e, offset) => {
        const line = [
          `${e.seconds}.${String(e.millis).padStart(3, '0')}`,
          e.client,
          e.method,
          e.host,
          e.port,
          e.status,
          e.bytes,
          e.squid,
          e.decision,
          e.rule,
          e.elapsed,
        ].join(' ');
        expect(parseAccessLine(line, SESSION, offset)).toEqual({
          time: e.seconds * 1000 + e.millis,
          session: SESSION,
          decision: e.decision,
          host: e.host,
          port: e.port,
          method: e.method,
          status: e.status,
          bytes: e.bytes,
          rule: e.rule,
          client: e.client,
          elapsedMs: e.elapsed,
          offset,
        });
      }),
      { numRuns: 2000 },
    );
  }, 30_000);
});
