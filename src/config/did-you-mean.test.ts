import { describe, expect, it } from 'vitest';
import { didYouMean, editDistance } from './did-you-mean.js';

const NETWORK_KEYS = ['mode', 'allowlist', 'denylist', 'projectMayExtend', 'approvalTimeoutSeconds'];
const TOP_KEYS = ['$schema', 'network', 'provider', 'credentials', 'claude', 'backend', 'image', 'resources', 'certificates', 'telemetry', 'audit', 'plugins', 'isolate', 'protect', 'sessions', 'ui'];

describe('editDistance', () => {
  it.each([
    ['', '', 0],
    ['', 'abc', 3],
    ['abc', '', 3],
    ['abc', 'abc', 0],
    ['kitten', 'sitting', 3],
    ['alowlist', 'allowlist', 1],
    ['netwrok', 'network', 1],
    ['ab', 'ba', 1],
    ['mdoe', 'mode', 1],
    ['abc', 'xyz', 3],
  ])('distance(%j, %j) is %i', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
  });

  it('is symmetric and case-sensitive', () => {
    expect(editDistance('netwrok', 'network')).toBe(editDistance('network', 'netwrok'));
    expect(editDistance('Network', 'network')).toBe(1);
  });
});

describe('didYouMean', () => {
  it.each([
    ['alowlist', 'allowlist'],
    ['allowlsit', 'allowlist'],
    ['denylsit', 'denylist'],
    ['mdoe', 'mode'],
    ['mod', 'mode'],
    ['projectmayextend', 'projectMayExtend'],
    ['ALLOWLIST', 'allowlist'],
    ['allowList', 'allowlist'],
  ])('suggests the network key for %j: %j', (typo, key) => {
    expect(didYouMean(typo, NETWORK_KEYS)).toBe(key);
  });

  it.each([
    ['netwrok', 'network'],
    ['proivder', 'provider'],
    ['resource', 'resources'],
    ['isloate', 'isolate'],
    ['$shema', '$schema'],
  ])('suggests the top-level key for %j: %j', (typo, key) => {
    expect(didYouMean(typo, TOP_KEYS)).toBe(key);
  });

  it('returns the candidate spelled as the schema spells it, not as typed', () => {
    expect(didYouMean('PROJECTMAYEXTEND', NETWORK_KEYS)).toBe('projectMayExtend');
  });

  it('suggests nothing when no key is close, rather than a misleading guess', () => {
    expect(didYouMean('zzzzzzzz', NETWORK_KEYS)).toBeUndefined();
    expect(didYouMean('approvalTimeout', NETWORK_KEYS)).toBeUndefined();
    expect(didYouMean('x', NETWORK_KEYS)).toBeUndefined();
    expect(didYouMean('', NETWORK_KEYS)).toBeUndefined();
    expect(didYouMean('anything', [])).toBeUndefined();
  });

  it('allows more edits for longer words (one per three letters)', () => {
    // "approvalTimeoutSecnds" (21 letters) is one edit away; 7 allowed.
    expect(didYouMean('approvalTimeoutSecnds', NETWORK_KEYS)).toBe('approvalTimeoutSeconds');
    // Two edits in a four-letter word is too many (limit 1).
    expect(editDistance('mxdx', 'mode')).toBe(2);
    expect(didYouMean('mxdx', NETWORK_KEYS)).toBeUndefined();
    // Two edits in an eight-letter word is allowed (limit 2).
    expect(editDistance('poxvider', 'provider')).toBe(2);
    expect(didYouMean('poxvider', TOP_KEYS)).toBe('provider');
  });

  it('prefers the closest candidate and, on a tie, the first listed', () => {
    expect(didYouMean('deny', ['denylist', 'den'])).toBe('den');
    expect(didYouMean('ab', ['ba', 'xb'])).toBe('ba');
    expect(didYouMean('ab', ['xb', 'ba'])).toBe('xb');
  });
});
