/**
 * A running `paude --shell` session started through the real binary, for tests that drive it
 * from outside (policy commands, approvals): its id, its agent container, curl inside it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chown, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { gatewayOf } from './workspace.js';
import { join } from 'node:path';
import type { EngineHandle } from './engine-test.js';
import { execIn, type ExecResult } from './exec.js';
import { PAUDE_BIN } from './run-cli.js';
import { startUpstream, type Upstream } from './upstream.js';

export interface LiveSession {
  id: string;
  ws: string;
  env: NodeJS.ProcessEnv;
  dataDir: string;
  upstream: Upstream;
  child: ChildProcess;
  agentId: string;
  curl(args: string[]): Promise<ExecResult & { status: string }>;
  /** Stops paude with SIGTERM and resolves with its exit code. */
  stop(): Promise<number | null>;
}

export async function startLiveSession(engine: EngineHandle, network: Record<string, unknown>, hosts: string[]): Promise<LiveSession> {
  const dir = await mkdtemp(join(tmpdir(), 'paude-live-'));
  engine.defer(() => rm(dir, { recursive: true, force: true }));
  const ws = join(dir, 'ws');
  await mkdir(join(ws, '.git'), { recursive: true });
  if (process.getuid?.() === 0) await chown(ws, 1000, 1000);
  const gateway = await gatewayOf(engine);
  const config = {
    backend: engine.name === 'podman' ? { type: 'podman', podman: { socket: `unix://${engine.socketPath}` } } : { type: 'docker', docker: { host: `unix://${engine.socketPath}` } },
    image: { agent: engine.images.agent, proxy: engine.images.proxy },
    network: { ...network, hosts: Object.fromEntries(hosts.map((h) => [h, gateway])) },
  };
  await mkdir(join(dir, 'config'));
  await writeFile(join(dir, 'config', 'paude.json'), JSON.stringify(config));
  await mkdir(join(dir, 'home'));
  const dataDir = join(dir, 'data');
  const env = { PATH: process.env.PATH, PAUDE_CONFIG_DIR: join(dir, 'config'), PAUDE_DATA_DIR: dataDir, PAUDE_CACHE_DIR: join(dir, 'cache'), HOME: join(dir, 'home') };
  const child = spawn(process.execPath, [PAUDE_BIN, '--shell', '--', 'sleep', '600'], { cwd: ws, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  engine.defer(async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
  });
  engine.defer(() => removeByWorkspace(engine, ws));

  const id = await waitFor(async () => {
    const names = await readdir(join(dataDir, 'sessions')).catch(() => [] as string[]);
    for (const n of names) if ((await readdir(join(dataDir, 'sessions', n)).catch(() => [] as string[])).includes('session.json')) return n;
    if (child.exitCode !== null) throw new Error(`paude exited ${child.exitCode}: ${stderr}`);
    return undefined;
  }, 60_000);
  const agentId = await waitFor(async () => {
    const running = await engine.docker.listContainers({ filters: JSON.stringify({ label: [`paude.session=${id}`, 'paude.role=agent'] }) });
    return running[0]?.Id;
  }, 30_000);
  // Podman brings up the default bridge (and the host's gateway address) with the first container.
  const upstream = await startUpstream(gateway);
  engine.defer(() => upstream.close());
  return {
    id,
    ws,
    env,
    dataDir,
    upstream,
    child,
    agentId,
    curl: async (args) => {
      const r = await execIn(engine.docker, agentId, ['curl', '-sS', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '20', ...args]);
      return { ...r, status: r.stdout.trim() };
    },
    // The upstream binds the default network's gateway on ports 80/443: one session at a time.
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      const code = await exited;
      await upstream.close();
      return code;
    },
  };
}

/** Whatever a killed paude may have left for this workspace (the binary knows no test labels). */
export async function removeByWorkspace(engine: EngineHandle, ws: string): Promise<void> {
  const filters = JSON.stringify({ label: [`paude.workspace=${ws}`] });
  for (const c of await engine.docker.listContainers({ all: true, filters })) await engine.docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
  for (const v of (await engine.docker.listVolumes({ filters })).Volumes ?? []) await engine.docker.getVolume(v.Name).remove().catch(() => undefined);
}

export async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
