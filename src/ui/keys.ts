/**
 * Key bindings are data: commands with ids, a default table, and the user's overrides from
 * paude.json (`ui.keys`: command id -> key or keys), checked here so that a typo is one clear
 * sentence at start rather than a key that silently does nothing. The hints on screen are made
 * from the same table (keysOf, hint), so a key the user moved shows where it went.
 */
import { ConfigError } from '../errors.js';

export const COMMANDS = {
  up: 'select the previous session',
  down: 'select the next session',
  attach: 'attach to the selected session (the detach key brings you back)',
  nextView: 'next view',
  prevView: 'previous view',
  sessions: 'sessions view',
  network: 'network view',
  allowlist: 'allowlist view',
  tokens: 'tokens view',
  filter: 'filter sessions',
  pause: 'pause / resume the network feed',
  feedScope: 'network feed: all sessions / the selected one',
  approveOnce: 'approve the held request once',
  approveSession: 'approve it for the session',
  approveProject: 'approve it for the project',
  approveGlobal: 'approve it globally',
  deny: 'deny the held request',
  addAllow: 'allowlist: add an allow entry',
  addDeny: 'allowlist: add a deny entry',
  removeEntry: 'allowlist: remove the selected session entry',
  stop: 'stop the selected session',
  newSession: 'start a new session (workspace, shell or Claude, backend)',
  removeSession: 'remove the selected session (asks first)',
  sort: 'sort sessions: started, status, workspace, blocked',
  help: 'help',
  quit: 'quit',
} as const;

export type CommandId = keyof typeof COMMANDS;

export const DEFAULT_KEYS: Record<CommandId, string[]> = {
  up: ['up', 'k'],
  down: ['down', 'j'],
  attach: ['return'],
  nextView: ['tab'],
  prevView: ['shift-tab'],
  sessions: ['1'],
  network: ['2'],
  allowlist: ['3'],
  tokens: ['4'],
  filter: ['/'],
  pause: ['p'],
  feedScope: ['f'],
  approveOnce: ['o'],
  approveSession: ['s'],
  approveProject: ['P'],
  approveGlobal: ['G'],
  deny: ['d'],
  addAllow: ['a'],
  addDeny: ['D'],
  removeEntry: ['x'],
  stop: ['S'],
  newSession: ['n'],
  removeSession: ['R'],
  sort: ['O'],
  help: ['?'],
  quit: ['q', 'ctrl-c'],
};

export type KeyTable = Map<string, CommandId>;

/** The default table with the user's overrides; an unknown command id is a config error. */
export function keyTable(overrides: Record<string, string | string[]> = {}, file = 'paude.json'): KeyTable {
  const keys: Record<string, string[]> = { ...DEFAULT_KEYS };
  for (const [id, value] of Object.entries(overrides)) {
    if (!(id in COMMANDS)) throw new ConfigError(`${file}: ui.keys.${id} is not a dashboard command (expected one of ${Object.keys(COMMANDS).join(', ')})`, file, `ui.keys.${id}`);
    keys[id] = Array.isArray(value) ? value : [value];
  }
  const table: KeyTable = new Map();
  for (const [id, list] of Object.entries(keys)) for (const key of list) table.set(key, id as CommandId);
  return table;
}

/** Ink's key event as one name: "up", "return", "ctrl-c", "shift-tab", or the character. */
export function keyName(input: string, key: { upArrow?: boolean; downArrow?: boolean; leftArrow?: boolean; rightArrow?: boolean; return?: boolean; escape?: boolean; tab?: boolean; shift?: boolean; ctrl?: boolean; backspace?: boolean; delete?: boolean }): string {
  if (key.upArrow) return 'up';
  if (key.downArrow) return 'down';
  if (key.leftArrow) return 'left';
  if (key.rightArrow) return 'right';
  if (key.return) return 'return';
  if (key.escape) return 'escape';
  if (key.tab) return key.shift ? 'shift-tab' : 'tab';
  if (key.backspace || key.delete) return 'backspace';
  if (key.ctrl) return `ctrl-${input}`;
  return input;
}

/** The keys bound to a command, in the order they were given (empty: the user unbound it). */
export function keysOf(table: KeyTable, id: CommandId): string[] {
  const keys: string[] = [];
  for (const [key, command] of table) if (command === id) keys.push(key);
  return keys;
}

const SHOWN: Record<string, string> = { up: '↑', down: '↓', left: '←', right: '→', return: 'enter' };

/** A key as the screen writes it: "enter", "↑", "ctrl-c", "P". */
export function keyLabel(key: string): string {
  return SHOWN[key] ?? key;
}

/** "<key> <what>" for the command's first key; empty when it has none. */
export function hint(table: KeyTable, id: CommandId, what: string): string {
  const key = keysOf(table, id)[0];
  return key === undefined ? '' : `${keyLabel(key)} ${what}`;
}

/** Hints joined by a separator, those of unbound commands left out. */
export function hints(table: KeyTable, list: ReadonlyArray<readonly [CommandId, string]>, separator = '  '): string {
  return list
    .map(([id, what]) => hint(table, id, what))
    .filter((h) => h !== '')
    .join(separator);
}
