import { describe, expect, it } from 'vitest';
import { DETACH_KEY_PATTERN, tmuxKey } from './detach-key.js';
import { PaudeFileSchema } from './schema.js';

describe('detach key', () => {
  it('translates the keys people write into tmux key names', () => {
    expect(tmuxKey('ctrl-]')).toBe('C-]');
    expect(tmuxKey('Ctrl-Q')).toBe('C-q');
    expect(tmuxKey('alt-d')).toBe('M-d');
    expect(tmuxKey('f12')).toBe('F12');
  });

  it('accepts one key and refuses sequences and unknown names', () => {
    for (const ok of ['ctrl-]', 'ctrl-\\', 'ctrl-^', 'ctrl-_', 'ctrl-@', 'ctrl-a', 'alt-1', 'F1', 'f10']) expect(DETACH_KEY_PATTERN.test(ok), ok).toBe(true);
    for (const bad of ['ctrl-p,ctrl-q', 'ctrl-', 'ctrl-ab', 'shift-a', 'f13', 'q', '']) expect(DETACH_KEY_PATTERN.test(bad), bad).toBe(false);
  });

  it('is checked by the configuration schema with a message that says what is expected', () => {
    const r = PaudeFileSchema.safeParse({ sessions: { detachKeys: 'ctrl-p,ctrl-q' } });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toBe('one key: ctrl-<letter or one of ] \\ ^ _ @>, alt-<letter or digit>, or f1..f12');
  });
});
