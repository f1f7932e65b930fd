/**
 * Generators and checks shared by the fuzz suite: the text that users, files and the agent can
 * put in front of paude, from well-formed to hostile.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import { GROUP_NAMES } from '../../src/config/groups.js';

/** Every property holds each external input to at least this many cases (issue 9). */
export const RUNS = 10_000;
/** A property of RUNS cases takes a few seconds, several times that on a busy machine. */
export const TIMEOUT = 120_000;

/**
 * Characters and tokens that have caused trouble somewhere: line breaks of every convention,
 * NUL, a terminal escape, quotes, squid and shell syntax, path traversal, lookalike and
 * invisible characters, lone surrogates.
 */
export const trouble = fc.constantFrom(
  '\n',
  '\r',
  '\r\n',
  '\u0000',
  '\u001b[2J',
  '\u0085',
  '\u009b',
  '\u2028',
  '\u2029',
  '\uFEFF',
  '\t',
  ' ',
  '"',
  "'",
  '`',
  '\\',
  '#',
  ';',
  '/',
  '..',
  '../',
  '%',
  '$',
  '{',
  '}',
  '[',
  ']',
  ',',
  ':',
  '*',
  '@',
  'http_access allow all',
  '\nhttp_access allow all\n',
  'ü',
  'ｅ',
  '。',
  '\u00ad',
  '\u200b',
  '\ud800',
  '\udfff',
);

/** Any string: random code units, printable ASCII, graphemes, or short pieces stitched together with trouble. */
export const anyText = (maxLength = 40): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({ unit: 'binary', maxLength }),
    fc.string({ unit: 'grapheme-ascii', maxLength }),
    fc.string({ unit: 'grapheme', maxLength }),
    fc.array(fc.oneof(trouble, fc.string({ unit: 'grapheme-ascii', maxLength: 6 })), { maxLength: 8 }).map((parts) => parts.join('')),
  );

const label = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,8}[a-z0-9])?$/);
const top = fc.constantFrom('com', 'test', 'org', 'co.uk', 'github.io', 'de', 'xn--p1ai', 'internal');
const port = fc.integer({ min: 1, max: 65535 });
const withPort = (p: number | null): string => (p === null ? '' : `:${p}`);

/** Host names and their wildcard forms, with or without a port: the grammar's own shapes. */
export const hostEntry = fc
  .tuple(fc.constantFrom('', '', '*.', '.'), fc.array(label, { minLength: 1, maxLength: 3 }), top, fc.option(port), fc.boolean())
  .map(([form, labels, tld, p, dot]) => `${form}${[...labels, tld].join('.')}${dot ? '.' : ''}${withPort(p)}`);

/** ip: entries, IPv4 and IPv6, bracketed or not, with or without a port. */
export const ipEntry = fc.oneof(
  fc.tuple(fc.ipV4(), fc.option(port)).map(([ip, p]) => `ip:${ip}${withPort(p)}`),
  fc.tuple(fc.ipV6(), fc.option(port), fc.boolean()).map(([ip, p, brackets]) => (p === null && !brackets ? `ip:${ip}` : `ip:[${ip}]${withPort(p)}`)),
);

export const groupEntry = fc.constantFrom(...GROUP_NAMES).map((g) => `@${g}`);

/** Entries built from the grammar: most are valid. */
export const wellFormedEntry = fc.oneof(hostEntry, fc.mixedCase(hostEntry), ipEntry, fc.mixedCase(groupEntry));

/** Pieces the grammar cares about, for strings that are almost entries. */
const entryPiece = fc.oneof(
  label,
  top,
  fc.constantFrom('.', '..', '*', '*.', ':', '::', '[', ']', '@', 'ip:', 'IP:', 'http://', 'xn--', 'localhost', '0x7f', '-', '--', '-h', '--session', '_', '%25eth0'),
  trouble,
  port.map(String),
  fc.ipV4(),
  fc.ipV6(),
  fc.ipV4Extended(),
  groupEntry,
);

/** An allowlist entry as anyone might type it: well-formed, nearly so, or anything at all. */
export const entryish = fc.oneof(
  { weight: 4, arbitrary: wellFormedEntry },
  { weight: 4, arbitrary: fc.array(entryPiece, { minLength: 1, maxLength: 8 }).map((parts) => parts.join('')) },
  { weight: 1, arbitrary: fc.tuple(wellFormedEntry, trouble, fc.nat()).map(([entry, bad, at]) => insertAt(entry, bad, at)) },
  { weight: 1, arbitrary: anyText(40) },
);

/** `text` with `piece` inserted at `at` (modulo its length). */
export function insertAt(text: string, piece: string, at: number): string {
  const i = at % (text.length + 1);
  return text.slice(0, i) + piece + text.slice(i);
}

/** Line breaks in every convention a terminal, an editor or a log reader follows. */
const LINE_BREAK = /[\n\r\v\f\u0085\u2028\u2029]/;
/** Other control characters: a terminal may act on them (ESC, CSI) instead of showing them. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Why a message shown to a user is not one clear line, or undefined when it is. */
export function notOneLine(message: string): string | undefined {
  if (message.trim().length === 0) return 'it is empty';
  if (LINE_BREAK.test(message)) return `it has a line break at ${message.search(LINE_BREAK)}`;
  if (CONTROL.test(message)) return `it has a control character at ${message.search(CONTROL)}`;
  return undefined;
}

/** How often each outcome came up, so that a property that rarely reaches one of them (say, fewer than 100 cases in 10,000) fails. */
export function outcomes(): { count: (outcome: string) => void; expectEach: (min: number, ...names: string[]) => void } {
  const seen = new Map<string, number>();
  return {
    count: (outcome) => void seen.set(outcome, (seen.get(outcome) ?? 0) + 1),
    expectEach: (min, ...names) => {
      for (const name of names) expect(seen.get(name) ?? 0, `cases ${name}`).toBeGreaterThanOrEqual(min);
    },
  };
}

