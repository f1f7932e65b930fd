/**
 * What the registry lookups may touch on the host where paude runs: the environment, the home
 * directory, files, and the package managers themselves (run with a timeout, in the home
 * directory). Production uses nodeClientHost(); unit tests pass fakes with made-up outputs.
 *
 * Clients run in the user's home directory, never in the project: a project's .npmrc, go.mod or
 * .cargo/config.toml is written by the repository (so possibly by the agent) and must not choose
 * which hosts the agent may reach.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { allowEntryForUrl } from '../url-entry.js';

export type CommandResult =
  | { kind: 'ok'; stdout: string }
  /** The program is not installed (not on PATH). */
  | { kind: 'missing' }
  /** It ran and failed; `detail` is the first line it printed on stderr, if any. */
  | { kind: 'failed'; detail: string }
  | { kind: 'timeout'; seconds: number };

export interface ClientHost {
  readonly env: NodeJS.ProcessEnv;
  readonly home: string;
  run(file: string, args: readonly string[]): Promise<CommandResult>;
  /** A file's text; undefined when it does not exist or cannot be read. */
  readText(path: string): Promise<string | undefined>;
  /** A directory's entry names; empty when it does not exist or cannot be read. */
  listDir(path: string): Promise<string[]>;
}

export const DEFAULT_CLIENT_TIMEOUT_MS = 10_000;
/** More than any client's configuration listing; the rest is dropped. */
const MAX_OUTPUT = 4 * 1024 * 1024;

export function nodeClientHost(env: NodeJS.ProcessEnv = process.env, timeoutMs = DEFAULT_CLIENT_TIMEOUT_MS): ClientHost {
  const home = env.HOME ?? homedir();
  return {
    env,
    home,
    // A home that does not exist would make every client look missing (spawn's ENOENT).
    run: (file, args) => runClient(file, args, { env, cwd: existsSync(home) ? home : '/', timeoutMs }),
    readText: (path) => readFile(path, 'utf8').catch(() => undefined),
    listDir: (path) => readdir(path).catch(() => []),
  };
}

/**
 * Runs a client and answers with what it printed. At the deadline the client's whole process
 * group is killed (shims such as pyenv's run the real program as a child) and the answer is
 * given at once, without waiting for a grandchild that still holds the output pipe.
 */
export function runClient(file: string, args: readonly string[], o: { env: NodeJS.ProcessEnv; cwd: string; timeoutMs: number }): Promise<CommandResult> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (result: CommandResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    // GOTOOLCHAIN=local: `go env` must answer, never download a toolchain first.
    // COREPACK_ENABLE_NETWORK=0: a yarn behind corepack must not download itself to answer.
    const env = { ...o.env, GOTOOLCHAIN: 'local', PIP_DISABLE_PIP_VERSION_CHECK: '1', NO_UPDATE_NOTIFIER: '1', COREPACK_ENABLE_NETWORK: '0' };
    const timer = setTimeout(() => {
      settle({ kind: 'timeout', seconds: Math.max(1, Math.round(o.timeoutMs / 1000)) });
      killGroup(child.pid);
      child.stdout.destroy();
      child.stderr.destroy();
    }, o.timeoutMs);
    const child = spawn(file, [...args], { env, cwd: o.cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    const keep = (into: Buffer[]) => (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= MAX_OUTPUT) into.push(chunk);
    };
    child.stdout.on('data', keep(out));
    child.stderr.on('data', keep(err));
    child.on('error', (error: NodeJS.ErrnoException) => settle(error.code === 'ENOENT' ? { kind: 'missing' } : { kind: 'failed', detail: error.message }));
    child.on('close', (code, signal) => {
      const stdout = Buffer.concat(out).toString('utf8');
      if (code === 0) return settle({ kind: 'ok', stdout });
      const stderr = Buffer.concat(err).toString('utf8');
      const detail = stderr.split('\n').map((l) => l.trim()).find((l) => l.length > 0) ?? (signal ? `killed by ${signal}` : `exit code ${code}`);
      settle({ kind: 'failed', detail });
    });
  });
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/**
 * The allowlist entry for a registry URL: its host and port (`ip:` for an address; no port for
 * the scheme's default). undefined for URLs without an http(s) host (file:, a local path) and for
 * anything that is not a URL. Cargo's and apt's source kinds prefix the scheme (sparse+https://,
 * mirror+http://); the prefix goes first.
 */
export function entryOfUrl(text: string): string | undefined {
  return allowEntryForUrl(text.trim().replace(/^(?:sparse|registry|git|mirror|tor)\+(?=[a-z][a-z0-9+.-]*:)/i, ''));
}

/** What one client contributes to its group, and why it contributes nothing when it does not. */
export interface ClientLookup {
  entries: string[];
  /** Why this client gave nothing (or less than it should): one clause, e.g. "npm is not installed here". */
  problem?: string;
}

/** Why a command gave no answer, as a clause for a warning. */
export function commandProblem(command: string, result: Exclude<CommandResult, { kind: 'ok' }>): string {
  const program = command.split(' ')[0] ?? command;
  switch (result.kind) {
    case 'missing':
      return `${program} is not installed here`;
    case 'failed': {
      // eslint-disable-next-line no-control-regex -- a client's words stay one plain line
      const detail = result.detail.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ').slice(0, 120);
      return `\`${command}\` failed${detail ? ` (${detail})` : ''}`;
    }
    case 'timeout':
      return `\`${command}\` did not answer within ${result.seconds} s`;
  }
}

/** Entries in order, each once. */
export function unique(entries: Iterable<string | undefined>): string[] {
  return [...new Set([...entries].filter((e): e is string => e !== undefined))];
}
