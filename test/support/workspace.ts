/**
 * A throwaway project for tests that run the real binary: a git workspace owned by the agent's
 * uid, and config/data/cache/home directories of its own, with paude pointed at the suite's
 * engine and images. Everything is removed when the suite ends, sessions included.
 */
import { chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EngineHandle } from './engine-test.js';
import { runPaude, type CliResult } from './run-cli.js';
import { removeByWorkspace } from './session-fixture.js';

export interface TestProject {
  dir: string;
  ws: string;
  env: NodeJS.ProcessEnv;
  dataDir: string;
  paude(args: string[]): Promise<CliResult>;
}

export interface ProjectOptions {
  /** Extra global paude.json content (merged at the top level). */
  config?: Record<string, unknown>;
  /** Share another project's config and data dirs (several workspaces, one user). */
  sharedWith?: TestProject;
}

/**
 * The uid a test workspace belongs to, which the agent runs as: 1000 when the tests run as root
 * (the workspace is given to it), else the user running them (rootless).
 */
export const WORKSPACE_UID = process.getuid?.() === 0 ? 1000 : (process.getuid?.() ?? 1000);

export async function testProject(engine: EngineHandle, options: ProjectOptions = {}): Promise<TestProject> {
  const dir = await mkdtemp(join(tmpdir(), 'paude-proj-'));
  engine.defer(() => rm(dir, { recursive: true, force: true }));
  const ws = join(dir, 'ws');
  engine.defer(() => removeByWorkspace(engine, ws));
  await mkdir(join(ws, '.git'), { recursive: true });
  if (process.getuid?.() === 0) {
    await chown(ws, 1000, 1000);
    await chown(join(ws, '.git'), 1000, 1000);
  }
  let env: NodeJS.ProcessEnv;
  if (options.sharedWith) env = options.sharedWith.env;
  else {
    const config = {
      backend: engine.name === 'podman' ? { type: 'podman', podman: { socket: `unix://${engine.socketPath}` } } : { type: 'docker', docker: { host: `unix://${engine.socketPath}` } },
      image: { agent: engine.images.agent, proxy: engine.images.proxy },
      ...options.config,
    };
    await mkdir(join(dir, 'config'));
    await writeFile(join(dir, 'config', 'paude.json'), JSON.stringify(config));
    await mkdir(join(dir, 'home'));
    env = { PAUDE_CONFIG_DIR: join(dir, 'config'), PAUDE_DATA_DIR: join(dir, 'data'), PAUDE_CACHE_DIR: join(dir, 'cache'), HOME: join(dir, 'home') };
  }
  const dataDir = env.PAUDE_DATA_DIR ?? '';
  return { dir, ws, env, dataDir, paude: (args) => runPaude(args, { cwd: ws, env }) };
}

/**
 * The gateway of the engine's default network: where a test's upstream listens for the proxy.
 * A rootless engine's networks live in the user's network namespace, which reaches the host
 * through slirp4netns as any outside machine does: at one of the host's own addresses.
 */
export async function gatewayOf(engine: EngineHandle): Promise<string> {
  if (engine.rootless) {
    const address = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
    if (!address) throw new Error('a rootless engine reaches this host at one of its addresses, and it has no IPv4 address but loopback');
    return address;
  }
  const net = (await engine.docker.getNetwork(engine.name === 'podman' ? 'podman' : 'bridge').inspect()) as { IPAM: { Config: Array<{ Gateway?: string; Subnet?: string }> } };
  const ipam = net.IPAM.Config[0];
  // Docker's default bridge does not always report its gateway: it is the subnet's first address.
  return ipam?.Gateway ?? (ipam?.Subnet ?? '').replace(/\.0\/\d+$/, '.1');
}
