/**
 * describeEngines('title', (engine) => { ... }) runs a suite once per engine (describeOneEngine
 * once, for suites that do not test the engine). Each run gets a
 * real dockerode connection, unique names and labels, and a tracker that removes what the
 * suite created in afterAll. A missing engine is a failure when the whole suite must run (CI, the
 * README's test command) and a visible "NOT RUN" line elsewhere, never a silent pass.
 */
import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import { afterAll, describe, inject, it } from 'vitest';
import type { EngineName, EngineProbe } from './engine-probe.js';
import { wholeSuite } from './requirements.js';

export const RUN_LABEL = 'paude.test.run';

export interface EngineHandle {
  name: EngineName;
  docker: Docker;
  socketPath: string;
  baseImage: string;
  /** Runs rootless: its containers are in the user's namespaces (networking through slirp4netns). */
  rootless: boolean;
  /** The agent and proxy images built for this run (globalSetup). */
  images: { agent: string; proxy: string };
  /** Labels every test resource must carry (the global sweep finds leftovers by them). */
  labels: Record<string, string>;
  /** A name no other test or run uses: paude-test-<prefix>-<random>. */
  uniqueName(prefix: string): string;
  /** Registers something to remove when the suite ends (last registered, first removed). */
  defer(cleanup: () => Promise<unknown>): void;
}

export function describeEngines(title: string, body: (engine: EngineHandle) => void): void {
  const engines = inject('engines');
  for (const probe of engines) {
    const name = `${title} [${probe.name}]`;
    if (!probe.available) {
      if (wholeSuite) {
        describe(name, () => {
          it('has its engine', () => {
            throw new Error(`${probe.name} is not available: ${probe.reason} (the whole suite must run here: CI or PAUDE_TEST_FULL)`);
          });
        });
      } else {
        describe.skip(`${name}: NOT RUN, ${probe.reason}`, () => {
          it('needs the engine', () => undefined);
        });
      }
      continue;
    }
    describeOn(name, probe, body);
  }
}

/**
 * Runs a suite once, on the first available engine in `prefer`'s order, for suites whose subject
 * never touches the local engine: the Kubernetes backend talks to an API server, and the engine
 * only hosts the emulator's pods. (Running them on both engines doubled their 290 s in CI and
 * tested the emulator twice, not paude.) With no engine available, each one says why, as above.
 */
export function describeOneEngine(title: string, body: (engine: EngineHandle) => void, prefer: readonly EngineName[] = ['docker', 'podman']): void {
  const engines = inject('engines');
  // npm test runs each engine's suites in a vitest of its own, and names the one that runs
  // these (PAUDE_TEST_ONE_ENGINE): the other does not define them at all.
  const pinned = process.env.PAUDE_TEST_ONE_ENGINE;
  if (pinned && !engines.some((e) => e.name === pinned)) return;
  if (pinned) prefer = [pinned as EngineName];
  const chosen = prefer.map((name) => engines.find((e) => e.name === name && e.available)).find((e) => e !== undefined);
  if (!chosen) return describeEngines(title, body);
  describeOn(`${title} [${chosen.name}]`, chosen, body);
}

function describeOn(name: string, probe: EngineProbe, body: (engine: EngineHandle) => void): void {
  const runId = inject('testRunId');
  const images = inject('testImages');
  describe(name, () => {
    const built = images[probe.name];
    if (!built) throw new Error(`no test images were built for ${probe.name}`);
    const handle = makeHandle(probe, runId, built);
    afterAll(async () => {
      await handle.cleanupAll();
    });
    body(handle);
  });
}

function makeHandle(probe: EngineProbe, runId: string, images: { agent: string; proxy: string }): EngineHandle & { cleanupAll(): Promise<void> } {
  const cleanups: Array<() => Promise<unknown>> = [];
  return {
    name: probe.name,
    docker: new Docker({ socketPath: probe.socketPath }),
    socketPath: probe.socketPath,
    baseImage: probe.baseImage,
    rootless: probe.rootless === true,
    images,
    labels: { [RUN_LABEL]: runId, 'paude.test': 'true' },
    uniqueName: (prefix) => `paude-test-${prefix}-${randomBytes(4).toString('hex')}`,
    defer: (cleanup) => void cleanups.push(cleanup),
    async cleanupAll() {
      const errors: unknown[] = [];
      for (const cleanup of cleanups.reverse()) {
        try {
          await cleanup();
        } catch (error) {
          if (!isNotFound(error)) errors.push(error);
        }
      }
      if (errors.length > 0) throw new AggregateError(errors, `cleanup failed on ${probe.name}`);
    },
  };
}

export function isNotFound(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'statusCode' in error && (error as { statusCode: number }).statusCode === 404;
}

/** Whether the engine has an image by that name or id (a 404 is "no"; any other error is thrown). */
export function imageExists(docker: Docker, name: string): Promise<boolean> {
  return docker
    .getImage(name)
    .inspect()
    .then(
      () => true,
      (error: unknown) => {
        if (isNotFound(error)) return false;
        throw error;
      },
    );
}

/** Splits the multiplexed stream of a non-TTY container's logs into stdout and stderr. */
export function demuxLogs(buffer: Buffer): { stdout: string; stderr: string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= buffer.length) {
    const kind = buffer[offset];
    const size = buffer.readUInt32BE(offset + 4);
    const chunk = buffer.subarray(offset + 8, offset + 8 + size);
    (kind === 2 ? err : out).push(chunk);
    offset += 8 + size;
  }
  return { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}
