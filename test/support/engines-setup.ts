/**
 * vitest globalSetup for the integration project: probes both engines once, hands the result
 * to the tests, and at the end removes anything still labelled with this run's id (tests clean
 * up after themselves; this is the net under them).
 */
import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import type { TestProject } from 'vitest/node';
import { probeEngine, type EngineName, type EngineProbe } from './engine-probe.js';
import { resolvePaths } from '../../src/config/paths.js';
import { agentRecipe } from '../../src/images/agent-recipe.js';
import { platformFor, resolveClaudeCode } from '../../src/images/claude-code-package.js';
import { ensureImage } from '../../src/images/image-builder.js';
import { proxyRecipe } from '../../src/images/proxy-recipe.js';
import { RUN_LABEL } from './engine-test.js';
import { wholeSuite } from './requirements.js';

declare module 'vitest' {
  export interface ProvidedContext {
    engines: EngineProbe[];
    testRunId: string;
    /** Per engine: the agent and proxy images built for this run from assets/ on the base image. */
    testImages: Partial<Record<EngineName, { agent: string; proxy: string }>>;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  // PAUDE_TEST_ENGINES=podman: a run for one engine only (the rootless run: scripts/test-rootless.sh).
  const wanted = (process.env.PAUDE_TEST_ENGINES ?? 'podman,docker').split(',').filter((n): n is EngineName => n === 'podman' || n === 'docker');
  if (wanted.length === 0) throw new Error(`PAUDE_TEST_ENGINES=${process.env.PAUDE_TEST_ENGINES ?? ''} names no engine (expected podman, docker or both, comma-separated)`);
  const engines = await Promise.all(wanted.map((name) => probeEngine(name)));
  for (const e of engines) {
    process.stderr.write(e.available ? `engine ${e.name}: ${e.version}${e.rootless ? ' (rootless)' : ''} at ${e.socketPath}\n` : `engine ${e.name}: NOT AVAILABLE: ${e.reason}\n`);
  }
  const missing = engines.filter((e) => !e.available);
  if (wholeSuite && missing.length > 0) {
    throw new Error(`the whole suite needs its engines (CI or PAUDE_TEST_FULL), but ${missing.map((e) => `${e.name} (${e.reason})`).join('; ')}`);
  }
  project.provide('engines', engines);
  project.provide('testRunId', runId);
  const started = Date.now();
  const built = await Promise.all(engines.filter((e) => e.available).map(async (e) => [e.name, await buildTestImages(e, runId)] as const));
  project.provide('testImages', Object.fromEntries(built));
  process.stderr.write(`test images built in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);

  return async () => {
    for (const e of engines.filter((x) => x.available)) await sweep(e, runId);
  };
}

/** The product's own recipes, tagged for this run only (removed by the sweep below). */
async function buildTestImages(engine: EngineProbe, runId: string): Promise<{ agent: string; proxy: string }> {
  const docker = new Docker({ socketPath: engine.socketPath });
  const labels = { [RUN_LABEL]: runId, 'paude.test': 'true' };
  const info = (await docker.info()) as { Architecture?: string };
  const claude = await resolveClaudeCode(resolvePaths().cacheDir, undefined, platformFor(info.Architecture ?? 'x86_64'));
  const [proxy, agent] = await Promise.all([
    proxyRecipe(engine.baseImage).then((r) => ensureImage(docker, { ...r, repository: `localhost/paude-test-proxy-${runId}`, labels: { ...r.labels, ...labels } })),
    agentRecipe({ baseImage: engine.baseImage, claude, certificates: [] }).then((r) =>
      ensureImage(docker, { ...r, repository: `localhost/paude-test-agent-${runId}`, labels: { ...r.labels, ...labels } }),
    ),
  ]);
  return { agent: agent.ref, proxy: proxy.ref };
}

async function sweep(engine: EngineProbe, runId: string): Promise<void> {
  const docker = new Docker({ socketPath: engine.socketPath });
  const filters = JSON.stringify({ label: [`${RUN_LABEL}=${runId}`] });
  const containers = await docker.listContainers({ all: true, filters });
  for (const c of containers) {
    process.stderr.write(`sweep ${engine.name}: leftover container ${c.Names.join(',')}\n`);
    await docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined);
  }
  for (const n of await docker.listNetworks({ filters })) {
    process.stderr.write(`sweep ${engine.name}: leftover network ${n.Name}\n`);
    await docker.getNetwork(n.Id).remove().catch(() => undefined);
  }
  // By this run's own tags, not by id: an id can carry other tags too (paude's own builds), and
  // removing a tag leaves those alone; the image goes with its last tag.
  for (const i of await docker.listImages({ filters })) {
    for (const tag of (i.RepoTags ?? []).filter((t) => t.includes(`/paude-test-`) && t.includes(runId))) await docker.getImage(tag).remove().catch(() => undefined);
  }
}
