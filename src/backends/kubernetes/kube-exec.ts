/**
 * Commands and terminals in a session's pods, over the API's WebSockets (v5.channel.k8s.io):
 * an exec whose output is collected (execIn), an exec with a terminal (execTerminal), an
 * attach to a container's stdio (attachTo), and the exit code an exec's status channel reports.
 */
import { PassThrough, Readable, Writable } from 'node:stream';
import type * as K8s from '@kubernetes/client-node';
import type { AgentIo, AgentTerminal } from '../session-backend.js';
import { kubeCall, type KubeConnection } from './kube-client.js';

/**
 * Unpacks stdin into "$1". The roots of volumes (an fsGroup PVC, an emptyDir) belong to root,
 * and GNU tar insists on setting the mode of "." even with --no-overwrite-dir: that one
 * refusal is not a failure; any other error is.
 */
export const UNTAR = [
  'sh',
  '-c',
  'err=$(tar -x --no-overwrite-dir -f - -C "$1" 2>&1); rc=$?; [ -n "$err" ] && printf "%s\\n" "$err" >&2; ' +
    'if [ "$rc" -ne 0 ] && ! printf "%s\\n" "$err" | grep -v -e "^tar: \\./*: Cannot \\(change mode\\|utime\\|change ownership\\)" -e "^tar: Exiting with failure status" | grep -q .; then rc=0; fi; exit "$rc"',
  'sh',
];

export interface ExecOutput {
  exitCode: number;
  stdout: Buffer;
  stderr: Buffer;
}

/** Runs a command in a container; stdin (if any) is sent and closed; output is collected. */
export async function execIn(conn: KubeConnection, pod: string, container: string, command: string[], stdin?: Buffer | Readable): Promise<ExecOutput> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const collect = (into: Buffer[]): Writable =>
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        into.push(Buffer.from(chunk));
        cb();
      },
    });
  const stdout = collect(out);
  const stderr = collect(err);
  const exec = new conn.k8s.Exec(conn.config);
  let status: K8s.V1Status | undefined;
  const input = stdin === undefined ? null : Buffer.isBuffer(stdin) ? Readable.from([stdin]) : stdin;
  const ws = await kubeCall(conn, { verb: 'create', resource: 'pods/exec', name: pod }, () =>
    exec.exec(conn.namespace, pod, container, command, stdout, stderr, input, false, (s) => {
      status = s;
    }),
  );
  await new Promise<void>((resolve) => {
    ws.on('close', () => resolve());
    ws.on('error', () => resolve());
  });
  return { exitCode: exitCodeOf(status), stdout: Buffer.concat(out), stderr: Buffer.concat(err) };
}

/** The container's stdio (for `-p`): stdout and stderr apart, no terminal. */
export async function attachTo(conn: KubeConnection, pod: string, container: string): Promise<AgentIo> {
  const output = new PassThrough();
  const errors = new PassThrough();
  const input = new PassThrough();
  const attach = new conn.k8s.Attach(conn.config);
  const ws = await kubeCall(conn, { verb: 'create', resource: 'pods/attach', name: pod }, () => attach.attach(conn.namespace, pod, container, output, errors, input, false));
  const ended = new Promise<void>((resolve) => {
    ws.on('close', () => {
      output.end();
      errors.end();
      resolve();
    });
  });
  return { input, output, errors, resize: () => Promise.resolve(), ended };
}

/** A command with a terminal of this size, and env set for it alone. */
export async function execTerminal(conn: KubeConnection, pod: string, container: string, command: string[], size: { rows: number; cols: number }, env: Record<string, string>): Promise<AgentTerminal> {
  const output = new PassThrough();
  const input = new PassThrough();
  const exec = new conn.k8s.Exec(conn.config);
  let status: K8s.V1Status | undefined;
  const withEnv = Object.keys(env).length ? ['env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...command] : command;
  const ws = await kubeCall(conn, { verb: 'create', resource: 'pods/exec', name: pod }, () =>
    exec.exec(conn.namespace, pod, container, withEnv, output, null, input, true, (s) => {
      status = s;
    }),
  );
  const resize = (rows: number, cols: number): Promise<void> => {
    // Channel 4 of the exec protocol takes the terminal's size as JSON.
    if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.from([4]), Buffer.from(JSON.stringify({ Width: cols, Height: rows }))]));
    return Promise.resolve();
  };
  await resize(size.rows, size.cols);
  const ended = new Promise<void>((resolve) => {
    ws.on('close', () => {
      output.end();
      resolve();
    });
    ws.on('error', () => resolve());
  });
  return { input, output, resize, ended, exitCode: async () => (await ended, exitCodeOf(status)) };
}

/** The exit code an exec's status (channel 3) reports: Success is 0; NonZeroExitCode carries it. */
export function exitCodeOf(status: K8s.V1Status | undefined): number {
  if (!status) return 255;
  if (status.status === 'Success') return 0;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  const code = Number(cause?.message);
  return Number.isInteger(code) ? code : 255;
}
