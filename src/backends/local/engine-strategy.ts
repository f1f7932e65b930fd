/**
 * Sessions on a container engine: Podman or Docker on this host, or on another one over
 * ssh:// or tcp:// (the engine module's transports; a remote engine copies the workspace
 * instead of mounting it). Which engine a new session uses is the engine discovery's ordered
 * list (engine/discovery.ts); the images are built and cached on that engine.
 */
import { defaultDiscoveryEnv, discoverEngines, findEngine, noEngineError } from '../engine/discovery.js';
import { connectEngine, type Engine } from '../engine/engine.js';
import type { BackendContext, BackendStrategy, Discovered, RecordedEndpoint } from '../backend-strategy.js';
import { recordedFailure } from '../backend-strategy.js';
import type { BackendKind } from '../session-backend.js';
import { LocalBackend } from './local-backend.js';
import { traceStep } from '../../faults.js';

const ENGINE_SCHEMES = ['unix://', 'ssh://', 'tcp://', 'http://', 'https://', 'npipe://'];

/** The engine an ssh:// endpoint without a socket path means, from the recorded backend. */
const engineHint = (kind: BackendKind | undefined): 'podman' | 'docker' | 'any' => (kind === 'podman' || kind === 'docker' ? kind : 'any');

export function engineStrategy(ctx: BackendContext): BackendStrategy {
  const { config, env } = ctx;
  const discoveryEnv = () => defaultDiscoveryEnv(env, { sshConfigFile: config.sshConfig });
  const configured = { podman: config.podman?.socket, docker: config.docker?.host };
  // Engines found once per registry (the dashboard lists every second), with why none was.
  let found: Promise<{ engines: Engine[]; none?: string }> | undefined;
  const findAll = async (): Promise<{ engines: Engine[]; none?: string }> => {
    const results = await discoverEngines(discoveryEnv(), config.type, configured, { all: true, startService: false });
    const engines = [...new Map(results.flatMap((r) => (r.engine ? [[r.engine.endpoint, r.engine] as const] : []))).values()];
    return { engines, ...(engines.length === 0 && config.type !== 'kubernetes' ? { none: noEngineError(results, config.type).message } : {}) };
  };
  const backends = new Map<string, LocalBackend>();
  const backendOf = (engine: Engine): LocalBackend => {
    let b = backends.get(engine.endpoint);
    if (!b) backends.set(engine.endpoint, (b = new LocalBackend(engine)));
    return b;
  };

  return {
    name: 'container engine',
    forStart: (c) => (c.type === 'kubernetes' ? { ok: false, because: 'backend.type is kubernetes' } : { ok: true }),
    forEndpoint: (endpoint) => (ENGINE_SCHEMES.some((s) => endpoint.startsWith(s)) || endpoint.startsWith('/') ? { ok: true } : { ok: false, because: `${endpoint} is not an engine address (${ENGINE_SCHEMES.join(', ')})` }),
    // ssh:// goes through the user's ssh settings (backend.sshConfig).
    needsConfig: (endpoint) => endpoint.startsWith('ssh://'),
    connect: async (endpoint, hint) => backendOf(await connectEngine(endpoint, { sshConfigFile: config.sshConfig, flavorHint: engineHint(hint) })),

    async discover(recorded: readonly RecordedEndpoint[]): Promise<Discovered> {
      const { engines, none } = await (found ??= findAll());
      const unreachable: string[] = [];
      // Engines that sessions were started on (a remote one) are asked too, discovered or not.
      // One that answered once stays connected (an ssh tunnel is not opened every second).
      const extra = recorded.filter((r) => !engines.some((e) => e.endpoint === r.endpoint));
      const connected = await Promise.all(
        extra.map(async (r) => {
          try {
            return backends.get(r.endpoint) ?? backendOf(await connectEngine(r.endpoint, { sshConfigFile: config.sshConfig, flavorHint: engineHint(r.kind) }));
          } catch (error) {
            unreachable.push(recordedFailure(r, error));
            return undefined;
          }
        }),
      );
      const all = [...engines.map(backendOf), ...connected.filter((b): b is LocalBackend => b !== undefined)];
      if (all.length === 0 && none) unreachable.unshift(none);
      return { backends: all, unreachable };
    },

    async prepare(options) {
      // The image recipes are loaded only to start a session (not to list or attach).
      const [engine, { sessionImages }] = await Promise.all([findEngine(discoveryEnv(), config.type, configured), import('./local-images.js')]);
      traceStep('start.engine-found');
      const images = await sessionImages(engine, options.config, options.paths, { rebuild: options.rebuild, out: options.out, devcontainerFile: options.devcontainerFile });
      return { backend: backendOf(engine), images };
    },
  };
}
