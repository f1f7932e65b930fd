/**
 * The detach key: one key, written the way people say it ("ctrl-]", "alt-d", "f12"), handed to
 * tmux in the agent container, which binds it and nothing else. One key rather than a sequence:
 * tmux then never holds back a keystroke to see whether a sequence follows.
 */
export const DETACH_KEY_PATTERN = /^(?:ctrl-(?:[a-z@^_\\\]])|alt-[a-z0-9]|f(?:[1-9]|1[0-2]))$/i;

export const DETACH_KEY_HELP = 'one key: ctrl-<letter or one of ] \\ ^ _ @>, alt-<letter or digit>, or f1..f12';

/** The key in tmux's notation ("C-]", "M-d", "F12"); the schema has checked the shape. */
export function tmuxKey(key: string): string {
  const k = key.toLowerCase();
  if (k.startsWith('ctrl-')) return `C-${k.slice(5)}`;
  if (k.startsWith('alt-')) return `M-${k.slice(4)}`;
  return k.toUpperCase();
}
