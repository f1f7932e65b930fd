/**
 * Remote engines over SSH (`ssh://user@host[:port][/path/to/engine.sock]`): the system's own
 * `ssh` forwards a local unix socket to the engine's socket on the remote host, and paude talks
 * to that socket as to a local engine. Using OpenSSH rather than a library means the user's
 * ~/.ssh/config (aliases, ProxyJump, identities), agent and known_hosts apply as they do for
 * `ssh HOST`; BatchMode makes an unknown host key or a password prompt an error instead of a
 * question (fail closed). One tunnel per process and endpoint, closed when the process exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SshTarget {
  /** user@host or host, as ssh takes it. */
  destination: string;
  port?: number;
  /** The engine's socket on the remote host. */
  socket: string;
}

export const DEFAULT_REMOTE_SOCKET = { docker: '/var/run/docker.sock', podman: '/run/podman/podman.sock' } as const;

/** Parses ssh://[user@]host[:port][/socket]; the socket defaults by the engine expected. */
export function parseSshEndpoint(endpoint: string, flavor: 'docker' | 'podman' | 'any' = 'any'): SshTarget {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new Error(`${endpoint} is not a URL; expected ssh://[user@]host[:port][/path/to/engine.sock]`);
  }
  if (url.protocol !== 'ssh:' || !url.hostname) throw new Error(`${endpoint}: expected ssh://[user@]host[:port][/path/to/engine.sock]`);
  const user = decodeURIComponent(url.username);
  const path = decodeURIComponent(url.pathname);
  return {
    destination: user ? `${user}@${url.hostname}` : url.hostname,
    ...(url.port ? { port: Number(url.port) } : {}),
    socket: path && path !== '/' ? path : flavor === 'podman' ? DEFAULT_REMOTE_SOCKET.podman : DEFAULT_REMOTE_SOCKET.docker,
  };
}

export interface Tunnel {
  /** The local socket that leads to the remote engine. */
  socket: string;
  close(): void;
}

const open = new Map<string, Promise<Tunnel>>();
const children = new Set<ChildProcess>();
let exitHook = false;

/** A local socket forwarded to the target's engine socket; reused within this process. */
export function sshTunnel(target: SshTarget, options: { configFile?: string; timeoutMs?: number } = {}): Promise<Tunnel> {
  const key = JSON.stringify([target, options.configFile]);
  let tunnel = open.get(key);
  if (!tunnel) {
    tunnel = startTunnel(target, options);
    open.set(key, tunnel);
    tunnel.catch(() => open.delete(key));
  }
  return tunnel;
}

async function startTunnel(target: SshTarget, options: { configFile?: string; timeoutMs?: number }): Promise<Tunnel> {
  const dir = join(tmpdir(), `paude-ssh-${process.getuid?.() ?? 'u'}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const id = createHash('sha256').update(`${process.pid}:${JSON.stringify(target)}`).digest('hex').slice(0, 16);
  const socket = join(dir, `${id}.sock`);
  rmSync(socket, { force: true });
  const args = [
    '-N',
    '-T',
    '-o', 'BatchMode=yes',
    '-o', 'ExitOnForwardFailure=yes',
    '-o', 'StreamLocalBindUnlink=yes',
    '-o', 'StreamLocalBindMask=0177',
    '-o', 'ServerAliveInterval=15',
    '-o', 'ConnectTimeout=10',
    ...(options.configFile ? ['-F', options.configFile] : []),
    ...(target.port ? ['-p', String(target.port)] : []),
    '-L', `${socket}:${target.socket}`,
    '--',
    target.destination,
  ];
  const child = spawn('ssh', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const c of children) c.kill();
    });
  }
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const close = (): void => {
    child.kill();
    children.delete(child);
    rmSync(socket, { force: true });
  };
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  for (;;) {
    if (existsSync(socket)) {
      // The tunnel must not keep this process alive; it ends with it (the exit hook above).
      child.unref();
      (child.stderr as (NodeJS.ReadableStream & { unref?: () => void }) | null)?.unref?.();
      return { socket, close };
    }
    const state = await Promise.race([exited.then((code) => ({ code })), spawnError.then((error) => ({ error })), new Promise<undefined>((r) => setTimeout(() => r(undefined), 25))]);
    if (state && 'error' in state) {
      children.delete(child);
      throw new Error(`cannot run ssh (${state.error.message}); install OpenSSH's client`);
    }
    if (state) {
      children.delete(child);
      const why = stderr.trim().split('\n').filter(Boolean).pop() ?? `ssh exited ${state.code}`;
      throw new Error(`ssh to ${target.destination} failed: ${why}`);
    }
    if (Date.now() > deadline) {
      close();
      throw new Error(`ssh to ${target.destination} did not forward ${target.socket} within ${Math.round((options.timeoutMs ?? 20_000) / 1000)} s`);
    }
  }
}
