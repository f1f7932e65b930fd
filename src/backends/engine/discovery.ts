/**
 * Finds a container engine. An ordered list of small strategies, each of which either yields
 * an endpoint that answers or says why it does not apply; `paude doctor` prints that reasoning.
 * Side effects (environment, file system, starting a Podman service) come in through `DiscoveryEnv`.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { PaudeError, ExitCode } from '../../errors.js';
import type { BackendType } from '../../config/schema.js';
import { connectEngine, type Engine, type EngineFlavor } from './engine.js';

export interface DiscoveryEnv {
  env: NodeJS.ProcessEnv;
  uid: number;
  exists(path: string): boolean;
  /** Connects; the flavour says which default socket an ssh:// endpoint without a path means. */
  connect(endpoint: string, flavor: EngineFlavor | 'any'): Promise<Engine>;
  /** Finds an executable on PATH. */
  which(name: string): string | undefined;
  /** Starts `podman system service` on a socket; resolves when it answers. */
  startPodmanService(socket: string): Promise<void>;
}

export interface StrategyResult {
  strategy: string;
  engine?: Engine;
  /** Why it did not apply or did not answer. */
  reason?: string;
  /** The socket exists, but this user may not connect to it. */
  denied?: string;
}

interface Strategy {
  name: string;
  flavor: EngineFlavor | 'any';
  endpoint(d: DiscoveryEnv): string | { skip: string };
}

const sock = (path: string, d: DiscoveryEnv): string | { skip: string } => (d.exists(path) ? `unix://${path}` : { skip: `no socket at ${path}` });

const STRATEGIES: Strategy[] = [
  { name: 'DOCKER_HOST', flavor: 'any', endpoint: (d) => d.env.DOCKER_HOST || { skip: 'DOCKER_HOST is not set' } },
  { name: 'CONTAINER_HOST', flavor: 'podman', endpoint: (d) => d.env.CONTAINER_HOST || { skip: 'CONTAINER_HOST is not set' } },
  {
    name: 'rootless Podman socket',
    flavor: 'podman',
    endpoint: (d) => (d.env.XDG_RUNTIME_DIR ? sock(join(d.env.XDG_RUNTIME_DIR, 'podman', 'podman.sock'), d) : { skip: 'XDG_RUNTIME_DIR is not set' }),
  },
  { name: 'rootful Podman socket', flavor: 'podman', endpoint: (d) => sock('/run/podman/podman.sock', d) },
  { name: 'Docker socket', flavor: 'docker', endpoint: (d) => sock('/var/run/docker.sock', d) },
  { name: 'Docker Desktop socket', flavor: 'docker', endpoint: (d) => sock(join(d.env.HOME ?? homedir(), '.docker', 'run', 'docker.sock'), d) },
];

export function podmanServiceSocket(d: DiscoveryEnv): string {
  const dir = d.env.XDG_RUNTIME_DIR ? join(d.env.XDG_RUNTIME_DIR, 'paude') : d.uid === 0 ? '/run/paude' : join(d.env.HOME ?? homedir(), '.cache', 'paude');
  return join(dir, 'podman.sock');
}

/** Tries the strategies in order; returns what each one found (the first engine is the pick). */
export async function discoverEngines(
  d: DiscoveryEnv,
  want: BackendType,
  configured: { podman?: string; docker?: string } = {},
  options: { all?: boolean; startService?: boolean } = {},
): Promise<StrategyResult[]> {
  const results: StrategyResult[] = [];
  const tryEndpoint = async (strategy: string, endpoint: string, flavor: EngineFlavor | 'any'): Promise<boolean> => {
    try {
      const engine = await d.connect(endpoint, flavor);
      if (flavor !== 'any' && engine.flavor !== flavor) {
        results.push({ strategy, reason: `${endpoint} answers, but it is ${engine.flavor}, not ${flavor}` });
        return false;
      }
      if (want !== 'auto' && want !== 'kubernetes' && engine.flavor !== want) {
        results.push({ strategy, reason: `${endpoint} is ${engine.flavor}; --backend ${want} was asked for` });
        return false;
      }
      results.push({ strategy, engine });
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const denied = (code === 'EACCES' || code === 'EPERM') && endpoint.startsWith('unix://') ? { denied: endpoint.slice('unix://'.length) } : {};
      results.push({ strategy, reason: `${endpoint} does not answer (${(error as Error).message.split('\n')[0]})`, ...denied });
      return false;
    }
  };

  const explicit: Array<[string, string | undefined, EngineFlavor]> = [
    ['paude.json backend.podman.socket', configured.podman, 'podman'],
    ['paude.json backend.docker.host', configured.docker, 'docker'],
  ];
  let remoteConfigured = false;
  for (const [name, endpoint, flavor] of explicit) {
    if (!endpoint) continue;
    if (want !== 'auto' && want !== flavor) continue;
    remoteConfigured ||= endpoint.startsWith('ssh://');
    if ((await tryEndpoint(name, endpoint, flavor)) && !options.all) return results;
  }
  // A remote engine named in paude.json is a choice of machine: when it does not answer, paude
  // says so rather than quietly running the session (workspace, credentials) on this one.
  if (remoteConfigured && !results.some((r) => r.engine)) {
    for (const s of STRATEGIES) results.push({ strategy: s.name, reason: 'not tried: paude.json names a remote engine, which did not answer' });
    return results;
  }
  for (const s of STRATEGIES) {
    if (want !== 'auto' && s.flavor !== 'any' && s.flavor !== want) {
      results.push({ strategy: s.name, reason: `not ${want}` });
      continue;
    }
    const endpoint = s.endpoint(d);
    if (typeof endpoint !== 'string') {
      results.push({ strategy: s.name, reason: endpoint.skip });
      continue;
    }
    if ((await tryEndpoint(s.name, endpoint, s.flavor)) && !options.all) return results;
  }
  if (want === 'auto' || want === 'podman') {
    const name = 'start podman system service';
    const podman = d.which('podman');
    if (!podman) results.push({ strategy: name, reason: 'no podman on PATH' });
    else if (options.startService === false) results.push({ strategy: name, reason: `would start ${podman} system service if nothing else answered` });
    else if (!results.some((r) => r.engine)) {
      const socket = podmanServiceSocket(d);
      try {
        await d.startPodmanService(socket);
        await tryEndpoint(name, `unix://${socket}`, 'podman');
      } catch (error) {
        results.push({ strategy: name, reason: `could not start it: ${(error as Error).message}` });
      }
    }
  }
  return results;
}

export async function findEngine(d: DiscoveryEnv, want: BackendType, configured: { podman?: string; docker?: string } = {}): Promise<Engine> {
  if (want === 'kubernetes') throw new PaudeError('backend.type is kubernetes: its sessions run in a cluster, which has no container engine to find', ExitCode.engine);
  const results = await discoverEngines(d, want, configured);
  const found = results.find((r) => r.engine)?.engine;
  if (found) return found;
  throw noEngineError(results, want);
}

/** The one sentence for "no engine": where paude looked and what to do. */
export function noEngineError(results: readonly StrategyResult[], want: BackendType): PaudeError {
  const what = want === 'auto' ? 'Podman or Docker' : want;
  // An engine is there, but not for this user: "start one" would send them the wrong way.
  const denied = [...new Set(results.flatMap((r) => (r.denied ? [r.denied] : [])))];
  if (denied.length > 0) {
    return new PaudeError(
      `paude may not use ${denied.join(' or ')} (permission denied for this user); run paude as a user allowed to use that socket (for Docker, a member of the group that owns it), or use an engine of your own (rootless Podman), then see "paude doctor"`,
      ExitCode.engine,
    );
  }
  return new PaudeError(`no ${what} engine answered (${results.map((r) => `${r.strategy}: ${r.reason}`).join('; ')}); start one, or run "paude doctor" for details`, ExitCode.engine);
}

export function defaultDiscoveryEnv(env: NodeJS.ProcessEnv = process.env, options: { sshConfigFile?: string } = {}): DiscoveryEnv {
  return {
    env,
    uid: process.getuid?.() ?? 1000,
    exists: existsSync,
    connect: (endpoint, flavorHint) => connectEngine(endpoint, { flavorHint, ...options }),
    which: (name) => (env.PATH ?? '').split(':').map((dir) => join(dir, name)).find((p) => existsSync(p)),
    startPodmanService: async (socket) => {
      mkdirSync(join(socket, '..'), { recursive: true, mode: 0o700 });
      // Exits by itself after 10 idle minutes; it belongs to no paude process.
      const child = spawn('podman', ['system', 'service', '--time=600', `unix://${socket}`], { detached: true, stdio: 'ignore' });
      child.unref();
      for (let i = 0; i < 100; i++) {
        if (existsSync(socket)) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`podman system service did not create ${socket} within 5 s`);
    },
  };
}
