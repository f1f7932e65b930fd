/**
 * vitest globalSetup for the integration project: probes both engines once, hands the result
 * to the tests, and at the end removes anything still labelled with this run's id (tests clean
 * up after themselves; this is the net under them).
 */
import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import type { TestProject } from 'vitest/node';
import { probeEngine, type EngineProbe } from './engine-probe.js';
import { RUN_LABEL } from './engine-test.js';

declare module 'vitest' {
  export interface ProvidedContext {
    engines: EngineProbe[];
    testRunId: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const engines = await Promise.all([probeEngine('podman'), probeEngine('docker')]);
  for (const e of engines) {
    process.stderr.write(e.available ? `engine ${e.name}: ${e.version} at ${e.socketPath}\n` : `engine ${e.name}: NOT AVAILABLE: ${e.reason}\n`);
  }
  const missing = engines.filter((e) => !e.available);
  if (process.env.CI && missing.length > 0) {
    throw new Error(`CI needs both engines, but ${missing.map((e) => `${e.name} (${e.reason})`).join('; ')}`);
  }
  project.provide('engines', engines);
  project.provide('testRunId', runId);

  return async () => {
    for (const e of engines.filter((x) => x.available)) await sweep(e, runId);
  };
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
  for (const i of await docker.listImages({ filters })) {
    await docker.getImage(i.Id).remove({ force: true }).catch(() => undefined);
  }
}
