/**
 * The session's proxy container: squid with the policy helper, listening on its own loopback
 * and on the session link socket, with a normal network for the way out. It runs as squid's
 * unprivileged user with no capabilities and a read-only root filesystem; it writes only to
 * the session's proxy state directory and the link volume.
 */
import { readFile } from 'node:fs/promises';
import { PaudeError } from '../../errors.js';
import { PROXY_STATE_MOUNT, type ProxyStateDir } from '../../policy/proxy-state.js';
import { isHttpStatus, type Engine } from '../engine/engine.js';
import { LINK_MOUNT } from './session-link.js';

export interface ProxyContainerSpec {
  name: string;
  image: string;
  link: string;
  /** The normal network the proxy reaches the outside through (engine default when unset). */
  egressNetwork?: string;
  state: ProxyStateDir;
  /** A volume holding the state instead of the host directory (engines on another machine). */
  stateVolume?: string;
  /** name -> address entries for the proxy's /etc/hosts (tests, split-horizon setups). */
  extraHosts?: Record<string, string>;
  labels: Record<string, string>;
}

export async function createProxyContainer(engine: Engine, spec: ProxyContainerSpec): Promise<string> {
  const container = await engine.docker.createContainer({
    name: spec.name,
    Image: spec.image,
    Labels: spec.labels,
    HostConfig: {
      NetworkMode: spec.egressNetwork ?? (engine.flavor === 'podman' ? 'podman' : 'bridge'),
      Binds: [`${spec.stateVolume ?? spec.state.root}:${PROXY_STATE_MOUNT}:rw`, `${spec.link}:${LINK_MOUNT}:rw`],
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      ReadonlyRootfs: true,
      Tmpfs: { '/tmp': 'rw,size=64m', '/var/spool/squid': 'rw,size=16m', '/var/log/squid': 'rw,size=16m', '/run/squid': 'rw,size=1m' },
      Memory: 512 * 1024 * 1024,
      // One socat process per agent connection (max-children in paude-proxy-start) plus squid's:
      // the limit stays above what the link admits, so a busy agent waits instead of breaking it.
      PidsLimit: 1024,
      ExtraHosts: Object.entries(spec.extraHosts ?? {}).map(([host, ip]) => `${host}:${ip}`),
      RestartPolicy: { Name: 'no' },
    },
  });
  return container.id;
}

/**
 * Waits until squid accepts connections; a proxy that dies on the way is an error with its log.
 * `since`: where in cache.log this start's lines begin (a restarted proxy appends to it).
 */
export async function waitForProxy(engine: Engine, containerId: string, state: ProxyStateDir, timeoutMs = 20_000, since = 0): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const log = ((await readFile(state.cacheLog).catch(() => undefined)) ?? Buffer.alloc(0)).subarray(since).toString('utf8');
    if (/Accepting HTTP Socket connections/.test(log)) return;
    const info = await engine.docker.getContainer(containerId).inspect();
    if (!info.State.Running) {
      const tail = log.split('\n').filter(Boolean).slice(-5).join(' | ');
      throw new PaudeError(`the session proxy stopped while starting (exit code ${info.State.ExitCode})${tail ? `: ${tail}` : ''}`);
    }
    if (Date.now() > deadline) throw new PaudeError(`the session proxy did not start within ${timeoutMs / 1000} s; see ${state.cacheLog}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Stops a session's proxy without losing a line of its access log, quickly: TERM, then KILL as
 * soon as squid has begun its shutdown ("Preparing for shutdown" in cache.log) and had 50 ms
 * more. By then it has logged every request that ended (stdio logging writes each line as its
 * request ends); what its graceful shutdown would add is two seconds of closing modules. Without
 * a cache log on this host (a remote engine), it waits for squid's own exit, up to 3 s.
 */
export async function stopProxy(engine: Engine, containerId: string): Promise<void> {
  const container = engine.docker.getContainer(containerId);
  const ignore = (error: unknown): void => {
    if (!isHttpStatus(error, 304, 404, 409, 500)) throw error;
  };
  const info = await container.inspect().catch(() => undefined);
  if (!info?.State.Running) return;
  const source = info.Mounts.find((m) => m.Destination === PROXY_STATE_MOUNT && m.Type === 'bind')?.Source;
  const cacheLog = source ? `${source}/log/cache.log` : undefined;
  const before = cacheLog ? ((await readFile(cacheLog).catch(() => undefined))?.length ?? 0) : 0;
  await container.kill({ signal: 'SIGTERM' }).catch(ignore);
  const deadline = Date.now() + 3000;
  while (Date.now() < deadline) {
    if (cacheLog && /Preparing for shutdown/.test(((await readFile(cacheLog).catch(() => undefined)) ?? Buffer.alloc(0)).subarray(before).toString('utf8'))) {
      await new Promise((r) => setTimeout(r, 50));
      break;
    }
    if (!(await container.inspect().catch(() => undefined))?.State.Running) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  await container.kill().catch(ignore);
}
