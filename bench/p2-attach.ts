/**
 * P2 attach and P3 passthrough: a detached `paude --shell` session, reached three ways, each against the same
 * thing done with the engine's own CLI in the same process:
 *   - first screen: `paude attach ID` in a real PTY, spawn to the session's screen being drawn,
 *     vs `ENGINE exec -it ID tmux attach -t paude` (the same tmux client without paude); and
 *     the same attach from a process that has paude loaded already (as the dashboard will);
 *   - keystroke round trip: a key typed at the shell prompt until its echo arrives, through
 *     `paude attach` vs through the direct exec (both via tmux, so the difference is paude's);
 *   - throughput: 100 MB written by a command on a terminal in the container, through paude's
 *     terminal passthrough (backend.openTerminal + sessions/terminal.ts) vs `ENGINE exec -t`.
 */
import { spawn as spawnChild } from 'node:child_process';
import { PassThrough, Writable } from 'node:stream';
import { spawn, type IPty } from '@lydell/node-pty';
import xterm from '@xterm/headless';
import { LocalBackend } from '../dist/backends/local/local-backend.js';
import { passthrough } from '../dist/sessions/terminal.js';
import { attachTerminal } from '../dist/sessions/attach.js';
import { quickView } from '../dist/sessions/session-service.js';
import { resolvePaths } from '../dist/config/paths.js';
import { perEngine, type BenchContext, type Benchmark } from './context.js';
import type { BenchEngine } from './engines.js';
import { PAUDE_BIN } from './p6-cli-cold-start.js';
import { sessionSetup, type Session } from './p1-warm-start.js';
import { median } from './stats.js';
import { row, type Row } from './table.js';

export const p2Attach: Benchmark = {
  id: 'p2',
  run: (ctx) => perEngine(ctx, 'P2 attach', (b) => measure(ctx, b)),
};

const COLS = 100;
const ROWS = 30;
const MARK = 'P2-SCREEN-MARK';

export interface Client {
  pty: IPty;
  screen(): string;
  raw(): string;
  until(test: () => boolean, timeoutMs?: number): Promise<void>;
  exit: Promise<number>;
}

export function client(command: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Client {
  const term = new xterm.Terminal({ cols: COLS, rows: ROWS, allowProposedApi: true });
  const pty = spawn(command, args, { name: 'xterm-256color', cols: COLS, rows: ROWS, cwd, env: { ...env, TERM: 'xterm-256color' } });
  let raw = '';
  const waiters = new Set<() => void>();
  pty.onData((d) => {
    raw += d;
    term.write(d, () => {
      for (const w of waiters) w();
    });
  });
  const screen = (): string => {
    const lines: string[] = [];
    const top = term.buffer.active.viewportY;
    for (let i = 0; i < ROWS; i++) lines.push(term.buffer.active.getLine(top + i)?.translateToString(true) ?? '');
    return lines.join('\n');
  };
  return {
    pty,
    screen,
    raw: () => raw,
    until: (test, timeoutMs = 15_000) =>
      new Promise<void>((resolve, reject) => {
        if (test()) return resolve();
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`${command} ${args.join(' ')}: timed out; screen:\n${screen().trimEnd()}`));
        }, timeoutMs);
        const check = (): void => {
          if (!test()) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
      }),
    exit: new Promise((resolve) => pty.onExit(({ exitCode }) => resolve(exitCode))),
  };
}

async function measure(ctx: BenchContext, b: BenchEngine): Promise<Row[]> {
  const [agent, proxy] = await Promise.all([b.agentImage(), b.proxyImage()]);
  const session = await sessionSetup(b, { agent, proxy });
  const id = await startDetached(session);
  const paudeArgs = [PAUDE_BIN, 'attach', id];
  const directArgs = ['exec', '-it', id, 'tmux', 'attach-session', '-t', 'paude'];
  const paude = (): Client => client(process.execPath, paudeArgs, session.env, session.ws);
  const direct = (): Client => client(b.name, directArgs, process.env, session.ws);

  // Put a mark on the session's screen that a drawn screen shows.
  const first = paude();
  await first.until(() => /[$#] $/m.test(first.screen()));
  first.pty.write(`clear; echo ${MARK}\r`);
  await first.until(() => first.screen().includes(`\n${MARK}`) || first.screen().startsWith(MARK));
  await detach(first);

  const runs = ctx.smoke ? 1 : 10;
  const screens = { paude: [] as number[], direct: [] as number[], loaded: [] as number[] };
  for (let i = 0; i < runs; i++) {
    screens.paude.push(await firstScreen(paude));
    screens.direct.push(await firstScreen(direct));
    screens.loaded.push(await firstScreenInProcess(session, id));
  }

  const keys = ctx.smoke ? 20 : 300;
  const keystrokes = { paude: await roundTrips(paude(), keys), direct: await roundTrips(direct(), keys) };

  const bytes = ctx.smoke ? 10_000_000 : 100_000_000;
  const backend = new LocalBackend(b.engine);
  const throughput = { paude: [] as number[], direct: [] as number[] };
  for (let i = 0; i < (ctx.smoke ? 1 : 3); i++) {
    throughput.paude.push(await viaPassthrough(backend, id, bytes));
    throughput.direct.push(await viaEngineCli(b.name, id, bytes));
  }

  const m = {
    screen: { paude: median(screens.paude), direct: median(screens.direct), loaded: median(screens.loaded) },
    key: { paude: median(keystrokes.paude), direct: median(keystrokes.direct) },
    mbps: { paude: median(throughput.paude), direct: median(throughput.direct) },
  };
  const added = m.key.paude - m.key.direct;
  return [
    row({
      benchmark: 'P2 attach: first screen',
      engine: b.name,
      figure: { value: m.screen.paude, unit: 'ms' },
      baseline: { value: m.screen.direct, unit: 'ms' },
      target: '<= 150 ms',
      ok: m.screen.paude <= 150,
      runs,
      details: { paudeMs: screens.paude, directMs: screens.direct },
    }),
    row({
      benchmark: 'P2 attach: first screen, paude loaded',
      engine: b.name,
      figure: { value: m.screen.loaded, unit: 'ms' },
      baseline: { value: m.screen.direct, unit: 'ms' },
      target: '<= 150 ms',
      ok: m.screen.loaded <= 150,
      runs,
      details: { loadedMs: screens.loaded },
    }),
    row({
      benchmark: 'P2 attach: keystroke round trip',
      engine: b.name,
      figure: { value: m.key.paude, unit: 'ms' },
      baseline: { value: m.key.direct, unit: 'ms' },
      target: '<= +1 ms',
      ok: added <= 1,
      runs: keys,
      note: `added ${added.toFixed(2)} ms (median)`,
      details: { paudeMs: keystrokes.paude, directMs: keystrokes.direct },
    }),
    row({
      benchmark: `P3 passthrough throughput ${bytes / 1e6} MB`,
      engine: b.name,
      figure: { value: m.mbps.paude, unit: 'MB/s' },
      baseline: { value: m.mbps.direct, unit: 'MB/s' },
      target: '>= 0.9x',
      ok: m.mbps.paude >= 0.9 * m.mbps.direct,
      runs: throughput.paude.length,
      details: { paudeMBps: throughput.paude, directMBps: throughput.direct },
    }),
  ];
}

export async function startDetached(session: Session): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawnChild(process.execPath, [PAUDE_BIN, '--detach', '--shell'], { cwd: session.ws, env: session.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`paude --detach exited ${code}: ${err.trim()}`))));
  });
}

async function detach(c: Client): Promise<void> {
  c.pty.write('\x1d');
  const code = await c.exit;
  if (code !== 0) throw new Error(`a detached client exited ${code}: ${c.raw().slice(-300)}`);
}

async function firstScreen(make: () => Client): Promise<number> {
  const start = performance.now();
  const c = make();
  await c.until(() => c.screen().includes(MARK));
  const ms = performance.now() - start;
  await detach(c);
  return ms;
}

/** From finding the session by its id to its screen drawn, in a process with paude loaded. */
async function firstScreenInProcess(session: Session, id: string): Promise<number> {
  const term = new xterm.Terminal({ cols: COLS, rows: ROWS, allowProposedApi: true });
  const stdin = Object.assign(new PassThrough(), { isTTY: false });
  let drawn: () => void = () => undefined;
  const shown = new Promise<void>((resolve) => (drawn = resolve));
  const stdout = Object.assign(
    new Writable({
      write(chunk: Buffer, _enc, done) {
        term.write(chunk, () => {
          if (term.buffer.active.getLine(0)?.translateToString(true).includes(MARK)) drawn();
        });
        done();
      },
    }),
    { isTTY: false, columns: COLS, rows: ROWS },
  );
  const start = performance.now();
  const paths = resolvePaths(session.env);
  const view = await quickView(paths, id);
  if (!view?.backendHandle) throw new Error(`${id} was not found by its record`);
  const attached = attachTerminal(view.backendHandle, id, { stdin, stdout, stderr: stdout }, { term: 'xterm-256color', sessionDir: `${paths.sessionsDir}/${id}` });
  await shown;
  const ms = performance.now() - start;
  stdin.write('\x1d');
  await attached;
  term.dispose();
  return ms;
}

/** Types a key at the prompt and waits for its echo, then erases it; the echo times in ms. */
async function roundTrips(c: Client, count: number): Promise<number[]> {
  await c.until(() => c.screen().includes(MARK));
  const times: number[] = [];
  for (let i = 0; i < count + 5; i++) {
    const before = c.raw().length;
    const start = performance.now();
    c.pty.write('x');
    await c.until(() => c.raw().slice(before).includes('x'));
    if (i >= 5) times.push(performance.now() - start); // the first few warm up
    const erased = c.raw().length;
    c.pty.write('\x7f');
    await c.until(() => c.raw().length > erased);
  }
  await detach(c);
  return times;
}

const writer = (bytes: number): string => `head -c ${bytes} /dev/zero | tr '\\0' a; printf '\\nP5-END\\n'`;

/** MB/s through paude's passthrough (as paude attach uses it) into a sink. */
async function viaPassthrough(backend: LocalBackend, id: string, bytes: number): Promise<number> {
  let seen = 0;
  const sink = Object.assign(
    new Writable({
      write(chunk: Buffer, _enc, done) {
        seen += chunk.length;
        done();
      },
    }),
    { isTTY: false, columns: COLS, rows: ROWS },
  );
  const stdin = Object.assign(new PassThrough(), { isTTY: false });
  const start = performance.now();
  const terminal = await backend.openTerminal(id, ['sh', '-c', writer(bytes)], { rows: ROWS, cols: COLS });
  const pass = passthrough(terminal, { stdin, stdout: sink, stderr: sink }, true);
  await terminal.ended;
  const seconds = (performance.now() - start) / 1000;
  pass.restore();
  if (seen < bytes) throw new Error(`only ${seen} of ${bytes} bytes came through the passthrough`);
  return bytes / 1e6 / seconds;
}

/** MB/s of the same command through `ENGINE exec -t`, read from its stdout. */
function viaEngineCli(engine: string, id: string, bytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawnChild(engine, ['exec', '-t', id, 'sh', '-c', writer(bytes)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let seen = 0;
    child.stdout.on('data', (d: Buffer) => (seen += d.length));
    child.on('close', (code) => {
      const seconds = (performance.now() - start) / 1000;
      if (code !== 0 || seen < bytes) return reject(new Error(`${engine} exec exited ${code} after ${seen} bytes`));
      resolve(bytes / 1e6 / seconds);
    });
  });
}
