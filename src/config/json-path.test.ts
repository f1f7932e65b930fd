import { describe, expect, it } from 'vitest';
import { formatJsonPath } from './json-path.js';

describe('formatJsonPath', () => {
  it('names the top level in words', () => {
    expect(formatJsonPath([])).toBe('(top level)');
  });

  it.each([
    [['network'], 'network'],
    [['network', 'allowlist'], 'network.allowlist'],
    [['network', 'allowlist', 2], 'network.allowlist[2]'],
    [['audit', 'sinks', 0, 'type'], 'audit.sinks[0].type'],
    [[0], '[0]'],
    [[0, 1], '[0][1]'],
    [['$schema'], '$schema'],
    [['_private', 'x1'], '_private.x1'],
  ])('writes %j as %j', (path, text) => {
    expect(formatJsonPath(path)).toBe(text);
  });

  it.each([
    [['telemetry', 'otel', 'attributes', 'my key'], 'telemetry.otel.attributes["my key"]'],
    [['ui', 'keys', 'a-b'], 'ui.keys["a-b"]'],
    [['a', 'b.c'], 'a["b.c"]'],
    [['1a'], '["1a"]'],
    [[''], '[""]'],
    [['a', '"q"'], 'a["\\"q\\""]'],
  ])('quotes keys that are not identifiers: %j as %j', (path, text) => {
    expect(formatJsonPath(path)).toBe(text);
  });

  it('escapes control characters in keys so a path never spans two lines', () => {
    const text = formatJsonPath(['a', 'x\ny']);
    expect(text).toBe('a["x\\ny"]');
    expect(text).not.toContain('\n');
  });

  // JSON.stringify leaves DEL, the C1 controls and U+2028/U+2029 as they are: a key holding NEL
  // (a line break to Unicode) or CSI (an escape sequence to a terminal) reached the message raw.
  it('escapes DEL, C1 controls and the Unicode line separators in keys', () => {
    expect(formatJsonPath(['a', 'x\u0085y\u009b2J\u007f\u2028\u2029'])).toBe('a["x\\u0085y\\u009b2J\\u007f\\u2028\\u2029"]');
  });

  it('tells a key that looks like an index apart from an index', () => {
    expect(formatJsonPath(['a', '0'])).toBe('a["0"]');
    expect(formatJsonPath(['a', 0])).toBe('a[0]');
  });

  it('writes symbols by their description', () => {
    expect(formatJsonPath([Symbol('s')])).toBe('["Symbol(s)"]');
  });
});
