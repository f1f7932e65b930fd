/**
 * How a key reaches the part of the dashboard that wants it: the App's one useInput names the
 * key and looks up its command in the bindings (keys.ts), then offers it to the input hooks in
 * order (modal prompts first, then help, the frame, the held bar, the views); the first handler
 * that returns true has consumed it.
 */
import type { CommandId } from './keys.js';
import type { DashboardStore } from './store.js';

export interface KeyPress {
  /** keyName(): "up", "return", "ctrl-c", or the character. */
  name: string;
  /** What was typed (for prompts and the filter). */
  input: string;
  /** The command the bindings give this key, if any. */
  command: CommandId | undefined;
}

/** Returns true when it consumed the key. */
export type KeyHandler = (key: KeyPress) => boolean;

export function dispatch(handlers: readonly KeyHandler[], key: KeyPress): void {
  for (const handle of handlers) if (handle(key)) return;
}

const NAMED = new Set(['return', 'escape', 'tab', 'shift-tab', 'backspace', 'up', 'down', 'left', 'right']);

/** Typed (or pasted) text, as opposed to a key with a name. */
export function printable(key: KeyPress): boolean {
  // eslint-disable-next-line no-control-regex -- control characters are what this refuses
  return key.input.length > 0 && !key.name.startsWith('ctrl-') && !NAMED.has(key.name) && !/[\u0000-\u001f\u007f]/.test(key.input);
}

/** A line of text edited by a key: backspace, typed text, or unchanged. */
export function edited(text: string, key: KeyPress): string {
  if (key.name === 'backspace') return text.slice(0, -1);
  return printable(key) ? text + key.input : text;
}

/** Runs a service call and says how it went on the notice line. */
export async function report(store: DashboardStore, work: () => Promise<string>): Promise<void> {
  try {
    store.getState().say(await work());
  } catch (error) {
    store.getState().say(`error: ${(error as Error).message}`);
  }
}
