/**
 * A connection to one container engine speaking the Docker API: Docker itself, or Podman
 * through its compatible service. The flavour matters in a few places (network creation,
 * status codes), so it is detected once from the version endpoint.
 */
import { stat } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { http } from '../../node-http.js';
import type { Duplex } from 'node:stream';
import Docker from 'dockerode';
import { parseSshEndpoint, sshTunnel } from './ssh-tunnel.js';

export type EngineFlavor = 'podman' | 'docker';

export interface Engine {
  flavor: EngineFlavor;
  docker: Docker;
  /** How it was reached, for messages: unix:///run/podman/podman.sock, ssh://host... */
  endpoint: string;
  version: string;
  /**
   * On another machine (ssh://, tcp://): the engine cannot see this host's files, so nothing
   * is bind-mounted from here; the workspace is copied and synced instead.
   */
  remote: boolean;
}

export interface ConnectOptions {
  /** An ssh_config file for ssh:// endpoints (backend.sshConfig). */
  sshConfigFile?: string;
  /** Which engine an ssh:// endpoint without a socket path means (its default socket). */
  flavorHint?: EngineFlavor | 'any';
}

export async function connectEngine(endpoint: string, options: ConnectOptions = {}): Promise<Engine> {
  let local = endpoint;
  if (endpoint.startsWith('ssh://')) {
    const tunnel = await sshTunnel(parseSshEndpoint(endpoint, options.flavorHint), { configFile: options.sshConfigFile });
    local = `unix://${tunnel.socket}`;
  }
  const remote = !local.startsWith('unix://') && !local.startsWith('/');
  const engine = await connectLocal(local, endpoint);
  return { ...engine, remote: remote || endpoint.startsWith('ssh://') };
}

async function connectLocal(local: string, endpoint: string): Promise<Omit<Engine, 'remote'>> {
  const docker = new Docker(modemOptions(local));
  // GET /_ping answers in a millisecond where Podman 4.3 takes ~0.4 s for /version; its
  // headers say which engine it is (Podman adds Libpod-Api-Version) and which version.
  const ping = await pingHeaders(docker);
  const header = (name: string): string => {
    const value = ping[name];
    return typeof value === 'string' ? value : '';
  };
  const podmanVersion = header('libpod-api-version');
  if (podmanVersion) return { flavor: 'podman', docker, endpoint, version: podmanVersion };
  const server = header('server');
  const dockerVersion = /Docker\/([0-9.]+)/.exec(server)?.[1];
  if (dockerVersion) return { flavor: 'docker', docker, endpoint, version: dockerVersion };
  const version = await docker.version();
  const isPodman = (version.Components ?? []).some((c) => /podman/i.test(c.Name));
  return { flavor: isPodman ? 'podman' : 'docker', docker, endpoint, version: version.Version };
}

function pingHeaders(docker: Docker): Promise<Record<string, string | string[] | undefined>> {
  return new Promise((resolve, reject) => {
    docker.modem.dial(
      { path: '/_ping', method: 'GET', isStream: true, statusCodes: { 200: true, 500: 'server error' }, options: {} },
      (error: unknown, result: unknown) => {
        const res = result as IncomingMessage | null;
        if (error || !res) return reject(error instanceof Error ? error : new Error(JSON.stringify(error)));
        res.resume();
        resolve(res.headers);
      },
    );
  });
}

function modemOptions(endpoint: string): Docker.DockerOptions {
  if (endpoint.startsWith('unix://')) return { socketPath: endpoint.slice('unix://'.length) };
  if (endpoint.startsWith('/')) return { socketPath: endpoint };
  const url = new URL(endpoint);
  return { protocol: url.protocol === 'https:' ? 'https' : 'http', host: url.hostname, port: Number(url.port || 2375) };
}

/** dockerode raises on statuses it does not expect; Podman answers some calls with 201 or 204. */
export function isHttpStatus(error: unknown, ...codes: number[]): boolean {
  return typeof error === 'object' && error !== null && 'statusCode' in error && codes.includes((error as { statusCode: number }).statusCode);
}

/** Calls a raw API path (Podman's libpod API has no dockerode method). */
export function rawRequest<T>(engine: Engine, options: { path: string; method: 'GET' | 'POST' | 'DELETE'; body?: unknown; statusCodes: Record<number, boolean | string> }): Promise<T> {
  return new Promise((resolve, reject) => {
    engine.docker.modem.dial(
      { path: options.path, method: options.method, options: options.body ?? {}, statusCodes: options.statusCodes, isStream: false },
      (error: unknown, data: unknown) => (error ? reject(error instanceof Error ? error : new Error(JSON.stringify(error))) : resolve(data as T)),
    );
  });
}

/**
 * Attaches to a container's stdio as a raw two-way stream (the attach must come before start,
 * or early output is lost). Done by hand rather than with dockerode: its attach sends its
 * options as a JSON body, or with stdin open a chunked body whose terminator, and Podman
 * delivers both to the container's stdin. Here the request has no body at all.
 */
export function attachContainer(engine: Engine, id: string): Promise<Duplex> {
  const modem = engine.docker.modem as { socketPath?: string; host?: string; port?: number | string; protocol?: string };
  return new Promise((resolve, reject) => {
    const req = http.request({
      ...(modem.socketPath ? { socketPath: modem.socketPath } : { host: modem.host, port: modem.port }),
      path: `/containers/${encodeURIComponent(id)}/attach?stream=1&stdin=1&stdout=1&stderr=1`,
      method: 'POST',
      headers: { Host: 'docker', Connection: 'Upgrade', Upgrade: 'tcp', 'Content-Length': '0' },
    });
    req.on('upgrade', (_res, socket, head) => {
      if (head.length > 0) socket.unshift(head);
      resolve(socket);
    });
    req.on('response', (res) => {
      if (res.statusCode !== 200) {
        // The engine's JSON answer ({"message": ...}), raised the way dockerode raises its errors.
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8').trim();
          let message = text;
          try {
            message = (JSON.parse(text) as { message?: string }).message ?? text;
          } catch {
            // not JSON: the text as it is
          }
          reject(Object.assign(new Error(`(HTTP code ${res.statusCode}) attach - ${message}`), { statusCode: res.statusCode, json: { message: message || `HTTP ${res.statusCode}` } }));
        });
        return;
      }
      // Some engines answer 200 and then speak raw on the same connection.
      resolve(res.socket);
    });
    req.on('error', reject);
    req.end();
  });
}

/** How the engine keeps containers: as root or rootless, and its storage driver. */
export interface EngineSecurity {
  rootless: boolean;
  driver: string;
  /** Overlay through fuse-overlayfs (rootless Podman where the kernel's overlay is not allowed). */
  fuseOverlay: boolean;
  /** The cgroup version ('1' or '2') and, when the engine says, the controllers it may use. */
  cgroups?: { version: string; controllers?: string[] };
}

interface LibpodInfo {
  host?: { security?: { rootless?: boolean }; cgroupVersion?: string; cgroupControllers?: string[] };
  store?: { graphDriverName?: string; graphOptions?: Record<string, unknown> };
}

/**
 * Podman's Docker-compatible /info does not say it is rootless (4.3); its own libpod /info does.
 * Docker names it among its security options.
 */
async function askSecurity(engine: Engine): Promise<EngineSecurity> {
  if (engine.flavor === 'podman') {
    const info = await rawRequest<LibpodInfo>(engine, { path: '/v4.0.0/libpod/info', method: 'GET', statusCodes: { 200: true, 500: 'server error' } });
    const host = info.host;
    const cgroups = host?.cgroupVersion ? { cgroups: { version: host.cgroupVersion.replace(/^v/, ''), controllers: host.cgroupControllers ?? [] } } : {};
    return { rootless: host?.security?.rootless === true, driver: info.store?.graphDriverName ?? 'unknown', fuseOverlay: info.store?.graphOptions?.['overlay.mount_program'] !== undefined, ...cgroups };
  }
  const info = (await engine.docker.info()) as { SecurityOptions?: string[]; Driver?: string; CgroupVersion?: string };
  const rootless = (info.SecurityOptions ?? []).some((o) => o.split(',').includes('name=rootless'));
  return { rootless, driver: info.Driver ?? 'unknown', fuseOverlay: info.Driver === 'fuse-overlayfs', ...(info.CgroupVersion ? { cgroups: { version: info.CgroupVersion } } : {}) };
}

const security = new WeakMap<Engine, Promise<EngineSecurity>>();

/**
 * Whether the engine runs rootless (as a normal user, in a user namespace) and how it stores
 * containers: asked once per connection, and only by what needs it (creating an agent, paude
 * doctor), so listing and attaching pay no extra round trip.
 */
export function engineSecurity(engine: Engine): Promise<EngineSecurity> {
  let known = security.get(engine);
  if (!known) {
    known = askSecurity(engine);
    security.set(engine, known);
  }
  return known;
}

/**
 * Whether a session's agent on this engine runs in a rootless user namespace, cheaply enough for
 * every start: a local Podman service's socket belongs to the user it runs as (its libpod /info
 * says so too, but takes ~0.4 s); Docker's /info answers in milliseconds. An engine on another
 * machine is asked.
 */
export async function runsRootless(engine: Engine): Promise<boolean> {
  const socket = (engine.docker.modem as { socketPath?: string }).socketPath;
  if (engine.flavor === 'podman' && socket && !engine.remote) {
    const owner = await stat(socket).then((st) => st.uid, () => undefined);
    if (owner !== undefined) return owner !== 0;
  }
  return (await engineSecurity(engine)).rootless;
}
