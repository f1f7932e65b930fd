/**
 * Drives the real `paude` binary in a real pseudo-terminal, keeping the screen in a headless
 * xterm so tests read what a user would see. Waits poll the screen; they never sleep blindly.
 */
import { spawn, type IPty } from '@lydell/node-pty';
import xterm from '@xterm/headless';
import { PAUDE_BIN } from './run-cli.js';

export interface PtyRun {
  pty: IPty;
  /** Everything written so far (raw). */
  output(): string;
  /** The visible screen, one string per row, trailing spaces trimmed. */
  screen(): string[];
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  write(text: string): void;
  resize(cols: number, rows: number): void;
  exit: Promise<number>;
  /** The signal that ended it (9 for kill -9), 0 when none did. */
  signal: Promise<number>;
}

export function runInPty(args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; cols?: number; rows?: number }): PtyRun {
  const cols = options.cols ?? 100;
  const rows = options.rows ?? 30;
  const term = new xterm.Terminal({ cols, rows, allowProposedApi: true });
  const pty = spawn(process.execPath, [PAUDE_BIN, ...args], { name: 'xterm-256color', cols, rows, cwd: options.cwd, env: { ...options.env, TERM: 'xterm-256color' } });
  let raw = '';
  pty.onData((d) => {
    raw += d;
    term.write(d);
  });
  const ended = new Promise<{ exitCode: number; signal?: number }>((resolve) => pty.onExit(resolve));
  const exit = ended.then((e) => e.exitCode);
  const screen = (): string[] => {
    const buffer = term.buffer.active;
    const lines: string[] = [];
    for (let i = 0; i < buffer.length; i++) lines.push(buffer.getLine(i)?.translateToString(true) ?? '');
    return lines;
  };
  return {
    pty,
    output: () => raw,
    screen,
    waitFor: async (pattern, timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(screen().join('\n'))) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; screen:\n${screen().join('\n').trimEnd()}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    write: (text) => pty.write(text),
    resize: (c, r) => {
      pty.resize(c, r);
      term.resize(c, r);
    },
    exit,
    signal: ended.then((e) => e.signal ?? 0),
  };
}
