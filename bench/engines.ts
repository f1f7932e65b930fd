/**
 * The engines the benchmarks run on, each with the images built for this run from the
 * product's recipes (under run-unique repository names) and a stack of cleanups that removes
 * everything the run created on it, and nothing else.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { connectEngine, type Engine } from '../dist/backends/engine/engine.js';
import { resolvePaths } from '../dist/config/paths.js';
import { agentRecipe } from '../dist/images/agent-recipe.js';
import { platformFor, resolveClaudeCode } from '../dist/images/claude-code-package.js';
import { ensureImage } from '../dist/images/image-builder.js';
import { proxyRecipe } from '../dist/images/proxy-recipe.js';

export type EngineName = 'podman' | 'docker';

export const BASE_IMAGE = process.env.PAUDE_BENCH_BASE_IMAGE ?? process.env.PAUDE_LOCAL_BASE_IMAGE ?? 'localhost/paude-local-base:bookworm';
export const BENCH_LABELS: Readonly<Record<string, string>> = { 'paude.bench': 'true' };
export const ENGINE_SOCKETS: Readonly<Record<EngineName, string>> = {
  podman: process.env.PAUDE_BENCH_PODMAN_SOCKET ?? '/run/podman/podman.sock',
  docker: process.env.PAUDE_BENCH_DOCKER_SOCKET ?? '/var/run/docker.sock',
};

export interface BenchEngine {
  name: EngineName;
  socketPath: string;
  engine: Engine;
  /** A name nothing else uses: paude-bench-<prefix>-<random>. */
  uniqueName(prefix: string): string;
  /** The proxy and agent images for this run, built (from the layer cache, usually) on first use. */
  proxyImage(): Promise<string>;
  agentImage(): Promise<string>;
  /** Registers a removal for the end of the run (last registered, first run). */
  defer(cleanup: () => Promise<unknown>): void;
  cleanup(): Promise<void>;
}

export type EngineProbe = { name: EngineName; available: true; bench: BenchEngine } | { name: EngineName; available: false; reason: string };

export async function openEngine(name: EngineName, runId: string, log: (line: string) => void, socketPath = ENGINE_SOCKETS[name]): Promise<EngineProbe> {
  if (!existsSync(socketPath)) return { name, available: false, reason: `no socket at ${socketPath}` };
  let engine: Engine;
  try {
    engine = await connectEngine(`unix://${socketPath}`);
  } catch (error) {
    return { name, available: false, reason: `${socketPath} does not answer: ${(error as Error).message}` };
  }
  if (engine.flavor !== name) return { name, available: false, reason: `${socketPath} is ${engine.flavor}, not ${name}` };
  try {
    await engine.docker.getImage(BASE_IMAGE).inspect();
  } catch {
    return { name, available: false, reason: `base image ${BASE_IMAGE} is missing on ${name} at ${socketPath}` };
  }
  const cleanups: Array<() => Promise<unknown>> = [];
  const defer = (cleanup: () => Promise<unknown>): void => void cleanups.push(cleanup);
  const memo = <T>(make: () => Promise<T>): (() => Promise<T>) => {
    let value: Promise<T> | undefined;
    return () => (value ??= make());
  };
  const build = async (what: 'proxy' | 'agent'): Promise<string> => {
    const started = Date.now();
    const recipe = what === 'proxy' ? await proxyRecipe(BASE_IMAGE) : await agentRecipe({ baseImage: BASE_IMAGE, claude: await claudeCode(engine), certificates: [] });
    const { ref } = await ensureImage(engine.docker, { ...recipe, repository: `localhost/paude-bench-${what}-${runId}`, labels: { ...recipe.labels, ...BENCH_LABELS } });
    defer(() => engine.docker.getImage(ref).remove().catch(ignoreNotFound));
    log(`${name} (${socketPath}): ${what} image ${ref} ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return ref;
  };
  return {
    name,
    available: true,
    bench: {
      name,
      socketPath,
      engine,
      uniqueName: (prefix) => `paude-bench-${prefix}-${randomBytes(4).toString('hex')}`,
      proxyImage: memo(() => build('proxy')),
      agentImage: memo(() => build('agent')),
      defer,
      async cleanup() {
        const errors: unknown[] = [];
        for (const cleanup of cleanups.splice(0).reverse()) {
          // An engine may still be letting go of a container when its image is removed (Podman
          // answers "image in use" for a moment): one more try after a second.
          try {
            await cleanup();
          } catch {
            await new Promise((r) => setTimeout(r, 1000));
            try {
              await cleanup();
            } catch (error) {
              errors.push(error);
            }
          }
        }
        if (errors.length > 0) throw new AggregateError(errors, `cleanup on ${name} failed`);
      },
    },
  };
}

async function claudeCode(engine: Engine): Promise<Parameters<typeof agentRecipe>[0]['claude']> {
  const info = (await engine.docker.info()) as { Architecture?: string };
  return resolveClaudeCode(resolvePaths().cacheDir, undefined, platformFor(info.Architecture ?? 'x86_64'));
}

export function ignoreNotFound(error: unknown): void {
  const status = typeof error === 'object' && error !== null ? (error as { statusCode?: unknown }).statusCode : undefined;
  if (status !== 404) throw error;
}
