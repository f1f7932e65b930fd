import { describe, expect, it } from 'vitest';
import { PaudeError, UsageError } from '../../errors.js';
import { pickSession } from './audit.js';

describe('pickSession', () => {
  const ids = ['paude-ab12cd', 'paude-ab34ef', 'paude-xy7890'];

  it('picks a session by its full id, or a unique prefix with or without "paude-"', () => {
    expect(pickSession('paude-ab34ef', ids)).toBe('paude-ab34ef');
    expect(pickSession('x', ids)).toBe('paude-xy7890');
    expect(pickSession('paude-ab1', ids)).toBe('paude-ab12cd');
  });

  it('refuses an ambiguous prefix, and names what the log knows for an unknown one', () => {
    expect(() => pickSession('ab', ids)).toThrow(new UsageError('"ab" matches paude-ab12cd, paude-ab34ef; give more of the id'));
    expect(() => pickSession('zz', ids)).toThrow(new PaudeError('the audit log knows no session "zz" (it knows paude-ab12cd, paude-ab34ef, paude-xy7890)'));
  });

  // Found by test/fuzz/session-refs.test.ts: the reference was put in the message between plain
  // quotes, so `paude audit $'a\nb'` (or an escape sequence) split the message or reached the terminal raw.
  it('quotes a reference with a newline or an escape so the message stays one line', () => {
    expect(() => pickSession('zz\n\u001b[2J', ids)).toThrow(new PaudeError('the audit log knows no session "zz\\n\\u001b[2J" (it knows paude-ab12cd, paude-ab34ef, paude-xy7890)'));
  });
});
