import type Docker from 'dockerode';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BackendType } from '../../config/schema.js';
import { ExitCode, PaudeError } from '../../errors.js';
import { discoverEngines, findEngine, podmanServiceSocket, type DiscoveryEnv, type StrategyResult } from './discovery.js';
import type { Engine, EngineFlavor } from './engine.js';

const HOME = '/home/ada';
const XDG = '/run/user/1000';
const ROOTLESS = `${XDG}/podman/podman.sock`;
const ROOTFUL = '/run/podman/podman.sock';
const DOCKER = '/var/run/docker.sock';
const DESKTOP = `${HOME}/.docker/run/docker.sock`;
const PODMAN_BIN = '/usr/bin/podman';

const ORDER = ['DOCKER_HOST', 'CONTAINER_HOST', 'rootless Podman socket', 'rootful Podman socket', 'Docker socket', 'Docker Desktop socket'];
const SERVICE = 'start podman system service';

interface FakeOptions {
  env?: NodeJS.ProcessEnv;
  uid?: number;
  /** Socket files that exist. */
  sockets?: string[];
  /** endpoint -> the engine answering there, or the error connecting to it raises. */
  answers?: Record<string, EngineFlavor | Error>;
  podmanOnPath?: boolean;
  /** What starting the Podman service does; by default it creates a socket that answers as Podman. */
  startService?: (socket: string) => void;
}

interface Fake extends DiscoveryEnv {
  connected: string[];
  started: string[];
}

function fakeEnv(o: FakeOptions = {}): Fake {
  const sockets = new Set(o.sockets ?? []);
  const answers = { ...o.answers };
  const fake: Fake = {
    env: { HOME, ...o.env },
    uid: o.uid ?? 1000,
    connected: [],
    started: [],
    exists: (path) => sockets.has(path),
    connect: (endpoint) => {
      fake.connected.push(endpoint);
      const answer = answers[endpoint] ?? new Error(`connect ENOENT ${endpoint}`);
      if (answer instanceof Error) return Promise.reject(answer);
      return Promise.resolve(engine(answer, endpoint));
    },
    which: (name) => (name === 'podman' && o.podmanOnPath ? PODMAN_BIN : undefined),
    startPodmanService: (socket) => {
      fake.started.push(socket);
      if (o.startService) o.startService(socket);
      else {
        sockets.add(socket);
        answers[`unix://${socket}`] = 'podman';
      }
      return Promise.resolve();
    },
  };
  return fake;
}

function engine(flavor: EngineFlavor, endpoint: string): Engine {
  return { flavor, endpoint, version: flavor === 'podman' ? '5.4.0' : '27.1.0', docker: {} as unknown as Docker, remote: endpoint.startsWith('ssh:') };
}

const unix = (path: string): string => `unix://${path}`;
const names = (results: readonly StrategyResult[]): string[] => results.map((r) => r.strategy);
const picked = (results: readonly StrategyResult[]): StrategyResult | undefined => results.find((r) => r.engine);
const reasonOf = (results: readonly StrategyResult[], strategy: string): string | undefined => results.find((r) => r.strategy === strategy)?.reason;

async function findError(d: DiscoveryEnv, want: BackendType, configured: { podman?: string; docker?: string } = {}): Promise<PaudeError> {
  const error: unknown = await findEngine(d, want, configured).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PaudeError);
  return error as PaudeError;
}

describe('discoverEngines: the order of strategies', () => {
  it('tries every strategy in the documented order and says why each one did not apply', async () => {
    const results = await discoverEngines(fakeEnv(), 'auto');
    expect(results).toEqual([
      { strategy: 'DOCKER_HOST', reason: 'DOCKER_HOST is not set' },
      { strategy: 'CONTAINER_HOST', reason: 'CONTAINER_HOST is not set' },
      { strategy: 'rootless Podman socket', reason: 'XDG_RUNTIME_DIR is not set' },
      { strategy: 'rootful Podman socket', reason: `no socket at ${ROOTFUL}` },
      { strategy: 'Docker socket', reason: `no socket at ${DOCKER}` },
      { strategy: 'Docker Desktop socket', reason: `no socket at ${DESKTOP}` },
      { strategy: SERVICE, reason: 'no podman on PATH' },
    ]);
  });

  it('picks the first strategy that answers and stops there', async () => {
    const d = fakeEnv({ sockets: [ROOTFUL, DOCKER], answers: { [unix(ROOTFUL)]: 'podman', [unix(DOCKER)]: 'docker' } });
    const results = await discoverEngines(d, 'auto');
    expect(names(results)).toEqual(ORDER.slice(0, 4));
    expect(picked(results)?.engine?.endpoint).toBe(unix(ROOTFUL));
    expect(d.connected).toEqual([unix(ROOTFUL)]);
  });

  it('with all, goes on after the first engine so doctor can list every one (the first is still the pick)', async () => {
    const d = fakeEnv({ sockets: [ROOTFUL, DOCKER], answers: { [unix(ROOTFUL)]: 'podman', [unix(DOCKER)]: 'docker' } });
    const results = await discoverEngines(d, 'auto', {}, { all: true, startService: false });
    expect(results.filter((r) => r.engine).map((r) => [r.strategy, r.engine?.flavor])).toEqual([
      ['rootful Podman socket', 'podman'],
      ['Docker socket', 'docker'],
    ]);
    expect(picked(results)?.strategy).toBe('rootful Podman socket');
  });

  it('always lists strategies in the same order, and the only engine found (without all) is the last result', async () => {
    const candidates = [ROOTLESS, ROOTFUL, DOCKER, DESKTOP];
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          dockerHost: fc.option(fc.constantFrom<EngineFlavor | 'dead'>('podman', 'docker', 'dead'), { nil: undefined }),
          containerHost: fc.option(fc.constantFrom<EngineFlavor | 'dead'>('podman', 'docker', 'dead'), { nil: undefined }),
          sockets: fc.array(fc.constantFrom<EngineFlavor | 'dead' | 'missing'>('podman', 'docker', 'dead', 'missing'), { minLength: 4, maxLength: 4 }),
          want: fc.constantFrom<BackendType>('auto', 'podman', 'docker'),
        }),
        async ({ dockerHost, containerHost, sockets, want }) => {
          const answers: Record<string, EngineFlavor | Error> = {};
          const env: NodeJS.ProcessEnv = { XDG_RUNTIME_DIR: XDG };
          const answer = (a: EngineFlavor | 'dead'): EngineFlavor | Error => (a === 'dead' ? new Error('connection refused') : a);
          if (dockerHost) {
            env.DOCKER_HOST = 'tcp://dh:2375';
            answers['tcp://dh:2375'] = answer(dockerHost);
          }
          if (containerHost) {
            env.CONTAINER_HOST = 'tcp://ch:8080';
            answers['tcp://ch:8080'] = answer(containerHost);
          }
          const present: string[] = [];
          sockets.forEach((s, i) => {
            const path = candidates[i] ?? '';
            if (s === 'missing') return;
            present.push(path);
            answers[unix(path)] = answer(s);
          });
          const results = await discoverEngines(fakeEnv({ env, sockets: present, answers }), want, {}, { startService: false });
          const order = names(results).map((n) => [...ORDER, SERVICE].indexOf(n));
          expect(order.every((n) => n >= 0)).toBe(true);
          expect(order).toEqual([...order].sort((a, b) => a - b));
          const found = results.filter((r) => r.engine);
          expect(found.length).toBeLessThanOrEqual(1);
          if (found[0]) {
            expect(results.at(-1)).toBe(found[0]);
            if (want !== 'auto') expect(found[0].engine?.flavor).toBe(want);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('discoverEngines: environment variables', () => {
  it('DOCKER_HOST wins over every socket, whatever engine answers there', async () => {
    const d = fakeEnv({
      env: { DOCKER_HOST: 'tcp://build-host:2375', CONTAINER_HOST: 'ssh://core@vm/run/podman/podman.sock', XDG_RUNTIME_DIR: XDG },
      sockets: [ROOTLESS, ROOTFUL, DOCKER],
      answers: { 'tcp://build-host:2375': 'podman', [unix(ROOTLESS)]: 'podman', [unix(DOCKER)]: 'docker' },
    });
    const results = await discoverEngines(d, 'auto');
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ strategy: 'DOCKER_HOST', engine: { flavor: 'podman', endpoint: 'tcp://build-host:2375' } });
    expect(d.connected).toEqual(['tcp://build-host:2375']);
  });

  it('an empty DOCKER_HOST counts as not set', async () => {
    const results = await discoverEngines(fakeEnv({ env: { DOCKER_HOST: '' } }), 'auto');
    expect(reasonOf(results, 'DOCKER_HOST')).toBe('DOCKER_HOST is not set');
  });

  it('CONTAINER_HOST is used when it answers as Podman', async () => {
    const d = fakeEnv({ env: { CONTAINER_HOST: 'ssh://core@vm:2222/run/podman/podman.sock' }, answers: { 'ssh://core@vm:2222/run/podman/podman.sock': 'podman' } });
    const results = await discoverEngines(d, 'auto');
    expect(picked(results)?.strategy).toBe('CONTAINER_HOST');
  });

  it('CONTAINER_HOST is only for Podman: a Docker answering there is reported and the next strategy is tried', async () => {
    const d = fakeEnv({
      env: { CONTAINER_HOST: 'tcp://ch:2375', XDG_RUNTIME_DIR: XDG },
      sockets: [ROOTLESS],
      answers: { 'tcp://ch:2375': 'docker', [unix(ROOTLESS)]: 'podman' },
    });
    const results = await discoverEngines(d, 'auto');
    expect(reasonOf(results, 'CONTAINER_HOST')).toBe('tcp://ch:2375 answers, but it is docker, not podman');
    expect(picked(results)).toMatchObject({ strategy: 'rootless Podman socket', engine: { endpoint: unix(ROOTLESS) } });
  });

  it('finds the rootless Podman socket under XDG_RUNTIME_DIR', async () => {
    const d = fakeEnv({ env: { XDG_RUNTIME_DIR: XDG }, sockets: [ROOTLESS, DOCKER], answers: { [unix(ROOTLESS)]: 'podman', [unix(DOCKER)]: 'docker' } });
    const results = await discoverEngines(d, 'auto');
    expect(picked(results)).toMatchObject({ strategy: 'rootless Podman socket', engine: { flavor: 'podman', endpoint: `unix://${XDG}/podman/podman.sock` } });
  });

  it('says which rootless socket it looked for when XDG_RUNTIME_DIR is set but nothing is there', async () => {
    const results = await discoverEngines(fakeEnv({ env: { XDG_RUNTIME_DIR: XDG } }), 'auto');
    expect(reasonOf(results, 'rootless Podman socket')).toBe(`no socket at ${ROOTLESS}`);
  });

  it('looks for Docker Desktop under $HOME', async () => {
    const d = fakeEnv({ env: { HOME: '/Users/grace' }, sockets: ['/Users/grace/.docker/run/docker.sock'], answers: { 'unix:///Users/grace/.docker/run/docker.sock': 'docker' } });
    const results = await discoverEngines(d, 'auto');
    expect(picked(results)).toMatchObject({ strategy: 'Docker Desktop socket', engine: { flavor: 'docker' } });
  });
});

describe('discoverEngines: sockets that do not answer', () => {
  it('reports a socket that exists but does not answer, with the first line of the reason, and tries the next strategy', async () => {
    const d = fakeEnv({
      sockets: [ROOTFUL, DOCKER],
      answers: { [unix(ROOTFUL)]: new Error(`connect ECONNREFUSED ${ROOTFUL}\n    at PipeConnectWrap.afterConnect`), [unix(DOCKER)]: 'docker' },
    });
    const results = await discoverEngines(d, 'auto');
    expect(reasonOf(results, 'rootful Podman socket')).toBe(`unix://${ROOTFUL} does not answer (connect ECONNREFUSED ${ROOTFUL})`);
    expect(picked(results)?.strategy).toBe('Docker socket');
    expect(d.connected).toEqual([unix(ROOTFUL), unix(DOCKER)]);
  });

  it('reports a DOCKER_HOST that does not answer and goes on to the sockets', async () => {
    const d = fakeEnv({ env: { DOCKER_HOST: 'tcp://gone:2375' }, sockets: [DOCKER], answers: { 'tcp://gone:2375': new Error('getaddrinfo ENOTFOUND gone'), [unix(DOCKER)]: 'docker' } });
    const results = await discoverEngines(d, 'auto');
    expect(reasonOf(results, 'DOCKER_HOST')).toBe('tcp://gone:2375 does not answer (getaddrinfo ENOTFOUND gone)');
    expect(picked(results)?.strategy).toBe('Docker socket');
  });
});

describe('discoverEngines: --backend', () => {
  it('--backend docker skips the Podman strategies with the reason "not docker"', async () => {
    const d = fakeEnv({ env: { CONTAINER_HOST: 'tcp://ch:1', XDG_RUNTIME_DIR: XDG }, sockets: [ROOTLESS, ROOTFUL, DOCKER], answers: { [unix(DOCKER)]: 'docker' } });
    const results = await discoverEngines(d, 'docker');
    expect(results.slice(0, 4)).toEqual([
      { strategy: 'DOCKER_HOST', reason: 'DOCKER_HOST is not set' },
      { strategy: 'CONTAINER_HOST', reason: 'not docker' },
      { strategy: 'rootless Podman socket', reason: 'not docker' },
      { strategy: 'rootful Podman socket', reason: 'not docker' },
    ]);
    expect(picked(results)?.strategy).toBe('Docker socket');
    // The Podman sockets were never even contacted.
    expect(d.connected).toEqual([unix(DOCKER)]);
  });

  it('--backend docker rejects a Podman answering on DOCKER_HOST and goes on to the Docker sockets', async () => {
    const d = fakeEnv({ env: { DOCKER_HOST: 'tcp://h:2375' }, sockets: [DOCKER], answers: { 'tcp://h:2375': 'podman', [unix(DOCKER)]: 'docker' } });
    const results = await discoverEngines(d, 'docker');
    expect(reasonOf(results, 'DOCKER_HOST')).toBe('tcp://h:2375 is podman; --backend docker was asked for');
    expect(picked(results)).toMatchObject({ strategy: 'Docker socket', engine: { flavor: 'docker' } });
  });

  it('--backend docker never offers to start a Podman service', async () => {
    const d = fakeEnv({ podmanOnPath: true });
    const results = await discoverEngines(d, 'docker');
    expect(names(results)).not.toContain(SERVICE);
    expect(d.started).toEqual([]);
    expect(results.slice(-2)).toEqual([
      { strategy: 'Docker socket', reason: `no socket at ${DOCKER}` },
      { strategy: 'Docker Desktop socket', reason: `no socket at ${DESKTOP}` },
    ]);
  });

  it('--backend podman skips the Docker sockets and rejects a Docker on DOCKER_HOST', async () => {
    const d = fakeEnv({ env: { DOCKER_HOST: 'unix:///var/run/docker.sock' }, sockets: [DOCKER], answers: { [unix(DOCKER)]: 'docker' } });
    const results = await discoverEngines(d, 'podman', {}, { startService: false });
    expect(reasonOf(results, 'DOCKER_HOST')).toBe(`${unix(DOCKER)} is docker; --backend podman was asked for`);
    expect(reasonOf(results, 'Docker socket')).toBe('not podman');
    expect(reasonOf(results, 'Docker Desktop socket')).toBe('not podman');
    expect(picked(results)).toBeUndefined();
  });
});

describe('discoverEngines: sockets configured in paude.json', () => {
  it('tries backend.podman.socket and backend.docker.host before anything else', async () => {
    const d = fakeEnv({
      env: { DOCKER_HOST: 'tcp://h:2375' },
      answers: { 'tcp://h:2375': 'docker', 'unix:///srv/podman.sock': new Error('connect ENOENT /srv/podman.sock'), 'tcp://docker-vm:2375': 'docker' },
    });
    const results = await discoverEngines(d, 'auto', { podman: 'unix:///srv/podman.sock', docker: 'tcp://docker-vm:2375' });
    expect(results).toEqual([
      { strategy: 'paude.json backend.podman.socket', reason: 'unix:///srv/podman.sock does not answer (connect ENOENT /srv/podman.sock)' },
      { strategy: 'paude.json backend.docker.host', engine: expect.objectContaining({ endpoint: 'tcp://docker-vm:2375' }) as unknown },
    ]);
    expect(d.connected).not.toContain('tcp://h:2375');
  });

  it('a configured Podman socket where Docker answers is reported, not used', async () => {
    const d = fakeEnv({ sockets: [DOCKER], answers: { 'unix:///srv/podman.sock': 'docker', [unix(DOCKER)]: 'docker' } });
    const results = await discoverEngines(d, 'auto', { podman: 'unix:///srv/podman.sock' });
    expect(results[0]).toEqual({ strategy: 'paude.json backend.podman.socket', reason: 'unix:///srv/podman.sock answers, but it is docker, not podman' });
    expect(picked(results)?.strategy).toBe('Docker socket');
  });

  it('with --backend docker, a configured Podman socket is not tried', async () => {
    const d = fakeEnv({ answers: { 'unix:///srv/podman.sock': 'podman', 'tcp://docker-vm:2375': 'docker' } });
    const results = await discoverEngines(d, 'docker', { podman: 'unix:///srv/podman.sock', docker: 'tcp://docker-vm:2375' });
    expect(d.connected).toEqual(['tcp://docker-vm:2375']);
    expect(picked(results)?.strategy).toBe('paude.json backend.docker.host');
  });
});

describe('discoverEngines: starting podman system service', () => {
  it('starts it when nothing else answered and podman is on PATH, and uses it', async () => {
    const d = fakeEnv({ env: { XDG_RUNTIME_DIR: XDG }, podmanOnPath: true });
    const results = await discoverEngines(d, 'auto');
    expect(d.started).toEqual([`${XDG}/paude/podman.sock`]);
    expect(results.at(-1)).toMatchObject({ strategy: SERVICE, engine: { flavor: 'podman', endpoint: `unix://${XDG}/paude/podman.sock` } });
  });

  it('also starts it for --backend podman', async () => {
    const d = fakeEnv({ env: { XDG_RUNTIME_DIR: XDG }, podmanOnPath: true });
    const results = await discoverEngines(d, 'podman');
    expect(picked(results)?.strategy).toBe(SERVICE);
  });

  it('does not start it when another engine answered, even when listing all', async () => {
    const d = fakeEnv({ sockets: [DOCKER], answers: { [unix(DOCKER)]: 'docker' }, podmanOnPath: true });
    await discoverEngines(d, 'auto');
    await discoverEngines(d, 'auto', {}, { all: true });
    expect(d.started).toEqual([]);
  });

  it('does not start it without podman on PATH, and says so', async () => {
    const d = fakeEnv();
    const results = await discoverEngines(d, 'auto');
    expect(d.started).toEqual([]);
    expect(reasonOf(results, SERVICE)).toBe('no podman on PATH');
  });

  it('never starts it with startService: false (doctor); the reason says it would', async () => {
    const d = fakeEnv({ podmanOnPath: true });
    const results = await discoverEngines(d, 'auto', {}, { all: true, startService: false });
    expect(d.started).toEqual([]);
    expect(reasonOf(results, SERVICE)).toBe(`would start ${PODMAN_BIN} system service if nothing else answered`);
  });

  it('reports a service that could not be started', async () => {
    const d = fakeEnv({
      podmanOnPath: true,
      startService: () => {
        throw new Error('podman system service did not create /x within 5 s');
      },
    });
    const results = await discoverEngines(d, 'auto');
    expect(reasonOf(results, SERVICE)).toBe('could not start it: podman system service did not create /x within 5 s');
  });

  it('reports a started service that does not answer', async () => {
    const d = fakeEnv({ env: { XDG_RUNTIME_DIR: XDG }, podmanOnPath: true, startService: () => undefined });
    const results = await discoverEngines(d, 'auto');
    expect(reasonOf(results, SERVICE)).toMatch(new RegExp(`^unix://${XDG}/paude/podman.sock does not answer \\(`));
  });

  it('puts the service socket under XDG_RUNTIME_DIR, /run/paude for root, else ~/.cache/paude', () => {
    expect(podmanServiceSocket(fakeEnv({ env: { XDG_RUNTIME_DIR: XDG } }))).toBe(`${XDG}/paude/podman.sock`);
    expect(podmanServiceSocket(fakeEnv({ uid: 0 }))).toBe('/run/paude/podman.sock');
    expect(podmanServiceSocket(fakeEnv({ uid: 1000 }))).toBe(`${HOME}/.cache/paude/podman.sock`);
  });
});

describe('findEngine', () => {
  it('returns the first engine that answers', async () => {
    const d = fakeEnv({ sockets: [DOCKER, DESKTOP], answers: { [unix(DOCKER)]: 'docker', [unix(DESKTOP)]: 'docker' } });
    await expect(findEngine(d, 'auto')).resolves.toMatchObject({ endpoint: unix(DOCKER), flavor: 'docker' });
  });

  it('lists every strategy and its reason in one line, with exit code 5', async () => {
    const d = fakeEnv({ env: { DOCKER_HOST: 'tcp://gone:2375' }, sockets: [ROOTFUL], answers: { 'tcp://gone:2375': new Error('connect ETIMEDOUT\nstack'), [unix(ROOTFUL)]: new Error('EACCES') } });
    const error = await findError(d, 'auto');
    expect(error.exitCode).toBe(ExitCode.engine);
    expect(error.exitCode).toBe(5);
    expect(error.message).not.toMatch(/[\r\n]/);
    expect(error.message).toBe(
      'no Podman or Docker engine answered (' +
        [
          'DOCKER_HOST: tcp://gone:2375 does not answer (connect ETIMEDOUT)',
          'CONTAINER_HOST: CONTAINER_HOST is not set',
          'rootless Podman socket: XDG_RUNTIME_DIR is not set',
          `rootful Podman socket: unix://${ROOTFUL} does not answer (EACCES)`,
          `Docker socket: no socket at ${DOCKER}`,
          `Docker Desktop socket: no socket at ${DESKTOP}`,
          `${SERVICE}: no podman on PATH`,
        ].join('; ') +
        '); start one, or run "paude doctor" for details',
    );
  });

  it('names the backend that was asked for', async () => {
    const error = await findError(fakeEnv({ env: { DOCKER_HOST: 'tcp://h:1' }, answers: { 'tcp://h:1': 'podman' } }), 'docker');
    expect(error.message).toMatch(/^no docker engine answered \(DOCKER_HOST: tcp:\/\/h:1 is podman; --backend docker was asked for; CONTAINER_HOST: not docker;/);
  });

  it('says which socket this user may not use instead of "start one" when the engine is there but not theirs', async () => {
    const denied = (path: string): Error => Object.assign(new Error(`connect EACCES ${path}`), { code: 'EACCES' });
    const d = fakeEnv({ sockets: [ROOTFUL, DOCKER], answers: { [unix(ROOTFUL)]: denied(ROOTFUL), [unix(DOCKER)]: denied(DOCKER) } });
    const error = await findError(d, 'auto', { podman: unix(ROOTFUL) });
    expect(error.exitCode).toBe(ExitCode.engine);
    expect(error.message).toBe(
      `paude may not use ${ROOTFUL} or ${DOCKER} (permission denied for this user); run paude as a user allowed to use that socket (for Docker, a member of the group that owns it), or use an engine of your own (rootless Podman), then see "paude doctor"`,
    );
  });

  it('refuses kubernetes with a clear message, without contacting anything', async () => {
    const d = fakeEnv({ sockets: [DOCKER], answers: { [unix(DOCKER)]: 'docker' } });
    const error = await findError(d, 'kubernetes');
    expect(error.message).toBe('backend.type is kubernetes: its sessions run in a cluster, which has no container engine to find');
    expect(error.exitCode).toBe(ExitCode.engine);
    expect(d.connected).toEqual([]);
  });
});
