/** Runs the built `paude` binary as a user would, with its own config and data dirs. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const PAUDE_BIN = fileURLToPath(new URL('../../bin/paude.js', import.meta.url));

export interface CliResult {
  code: number | null;
  /** The signal that ended it (kill -9: 'SIGKILL'), when one did. */
  signal?: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  input?: string;
  /** A command that runs node (`setpriv --reuid ...`), and which node; default: this one, directly. */
  prefix?: readonly string[];
  node?: string;
}

export function runPaude(args: readonly string[], options: RunOptions): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const [command = '', ...rest] = [...(options.prefix ?? []), options.node ?? process.execPath, PAUDE_BIN, ...args];
    const child = spawn(command, rest, {
      cwd: options.cwd,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...trustEnv(), ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** The machine's certificate settings (a TLS-intercepting network), which npm inside paude needs. */
export function trustEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => /^(NODE_EXTRA_CA_CERTS|SSL_CERT_FILE|SSL_CERT_DIR|npm_config_cafile|npm_config_registry)$/i.test(k)));
}
