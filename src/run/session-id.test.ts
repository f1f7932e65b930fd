import { describe, expect, it } from 'vitest';
import { SESSION_ID } from '../policy/squid-config.js';
import { newSessionId } from './session-id.js';

describe('newSessionId', () => {
  it('is "paude-" and six lower-case letters or digits, which the rest of paude accepts as a session id', () => {
    for (let i = 0; i < 200; i++) {
      const id = newSessionId();
      expect(id).toMatch(/^paude-[a-z0-9]{6}$/);
      expect(SESSION_ID.test(id)).toBe(true);
    }
  });

  it('gives different ids across many calls', () => {
    // 36^6 (about 2.2e9) ids: 2,000 draws collide with probability below 0.1%.
    const ids = Array.from({ length: 2000 }, () => newSessionId());
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('uses the whole alphabet in every position', () => {
    const seen = Array.from({ length: 6 }, () => new Set<string>());
    for (let i = 0; i < 3000; i++) {
      [...newSessionId().slice('paude-'.length)].forEach((ch, pos) => seen[pos]?.add(ch));
    }
    // Each of 36 characters is missed in 3,000 draws with probability (35/36)^3000, about 1e-37.
    for (const chars of seen) expect(chars.size).toBe(36);
  });
});
