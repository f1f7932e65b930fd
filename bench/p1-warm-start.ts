/**
 * P1 warm start: `paude --shell -- true` vs `ENGINE run --rm --entrypoint= IMAGE true` with the
 * same agent image (its entry point waits for a session proxy that a bare run does not have, so
 * it is switched off). Each is a fresh process timed from spawn to exit. paude finds its images
 * as a user's paude does (nothing configured but the base: each start works out the recipes and
 * looks for their cached builds), under a prefix of this run's own (PAUDE_IMAGE_PREFIX); one
 * untimed start first builds them or finds them. One more traced paude run gives the profile
 * (p1-profile.ts).
 */
import { spawn } from 'node:child_process';
import { chown, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { guarded, perEngine, type BenchContext, type Benchmark } from './context.js';
import { measureRootless } from './p1-rootless.js';
import { BASE_IMAGE, ignoreNotFound, type BenchEngine } from './engines.js';
import { resolvePaths } from '../dist/config/paths.js';
import { PAUDE_BIN } from './p6-cli-cold-start.js';
import { profileRun } from './p1-profile.js';
import { median } from './stats.js';
import { row, type Row } from './table.js';

export const p1WarmStart: Benchmark = {
  id: 'p1',
  run: async (ctx) => {
    const rows = await perEngine(ctx, 'P1 warm start', (b) => measure(ctx, b));
    const rootless = ctx.rootless;
    if (rootless?.available) rows.push(...(await guarded(ctx, 'P1 warm start', 'podman rootless', () => measureRootless(ctx, rootless))));
    else if (rootless) rows.push(row({ benchmark: 'P1 warm start', engine: 'podman rootless', target: '-', runs: 0, note: `not run: ${rootless.reason}` }));
    return rows;
  },
};

export interface Session {
  ws: string;
  env: NodeJS.ProcessEnv;
}

async function measure(ctx: BenchContext, b: BenchEngine): Promise<Row[]> {
  // The bench's own build of the same recipes first: paude's first start then finds its layers.
  await Promise.all([b.agentImage(), b.proxyImage()]);
  const session = await sessionSetup(b, { base: BASE_IMAGE }, { ownImages: true });
  const runs = ctx.smoke ? 1 : 10;
  const paude = (): Promise<number> => timedRun(process.execPath, [PAUDE_BIN, '--shell', '--', 'true'], session.ws, session.env);
  const first = await paude();
  const agent = await imageOf(b, `${session.env.PAUDE_IMAGE_PREFIX}-agent`);
  ctx.log(`P1 [${b.name}] paude's first start (images built or found: ${agent}) took ${(first / 1000).toFixed(1)} s`);
  const bare = (): Promise<number> => timedRun(b.name, ['run', '--rm', '--entrypoint=', agent, 'true'], session.ws, process.env);
  const times = await interleaved(runs, ctx.smoke, paude, bare);
  const profile = await profileRun(b, session);
  ctx.log(`P1 [${b.name}] profile of one traced run (ms from spawn):\n${profile.text}`);
  const m = { paude: median(times.paude), bare: median(times.bare) };
  return [
    row({
      benchmark: 'P1 warm start --shell -- true',
      engine: b.name,
      figure: { value: m.paude / 1000, unit: 's' },
      baseline: { value: m.bare / 1000, unit: 's' },
      target: '<= 1.3x',
      ok: m.paude <= 1.3 * m.bare,
      runs,
      details: { paudeMs: times.paude, bareMs: times.bare, profile: profile.data },
    }),
  ];
}

/**
 * paude and its baseline, `runs` times each, alternating; outside smoke runs one of each first,
 * not counted (page cache, engine caches and node's compile cache warm up alike).
 */
export async function interleaved(runs: number, smoke: boolean, paude: () => Promise<number>, bare: () => Promise<number>): Promise<{ paude: number[]; bare: number[] }> {
  if (!smoke) {
    await paude();
    await bare();
  }
  const times = { paude: [] as number[], bare: [] as number[] };
  for (let i = 0; i < runs; i++) {
    times.paude.push(await paude());
    times.bare.push(await bare());
  }
  return times;
}

/**
 * A throwaway config (the run's images, this engine), data, cache, home and workspace. With
 * `ownImages`, paude builds and finds its images itself under a prefix of the session's own
 * (removed at the end), with the Claude Code package from this user's cache.
 */
export async function sessionSetup(b: BenchEngine, images: { agent: string; proxy: string } | { base: string }, o: { ownImages?: boolean } = {}): Promise<Session> {
  const dir = await mkdtemp(join(tmpdir(), 'paude-bench-p1-'));
  b.defer(() => rm(dir, { recursive: true, force: true }));
  const ws = join(dir, 'ws');
  await Promise.all(['config', 'home', 'ws'].map((d) => mkdir(join(dir, d))));
  // The agent writes the workspace as its owner; root's workspace would get a warning each run.
  if (process.getuid?.() === 0) await chown(ws, 1000, 1000);
  const backend = b.name === 'podman' ? { type: 'podman', podman: { socket: `unix://${b.socketPath}` } } : { type: 'docker', docker: { host: `unix://${b.socketPath}` } };
  await writeFile(join(dir, 'config', 'paude.json'), JSON.stringify({ backend, image: images }));
  // Whatever a failed run leaves behind carries the workspace label: removed at the end.
  b.defer(() => removeLeftovers(b, ws));
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: join(dir, 'home'), PAUDE_CONFIG_DIR: join(dir, 'config'), PAUDE_DATA_DIR: join(dir, 'data'), PAUDE_CACHE_DIR: join(dir, 'cache') };
  if (o.ownImages) {
    const prefix = `localhost/${b.uniqueName('own')}`;
    env.PAUDE_IMAGE_PREFIX = prefix;
    await mkdir(join(dir, 'cache'));
    await symlink(join(resolvePaths().cacheDir, 'claude-code'), join(dir, 'cache', 'claude-code'));
    b.defer(() => removeImages(b, prefix));
  }
  return { ws, env };
}

/** The image paude built or found under this repository name. */
async function imageOf(b: BenchEngine, repository: string): Promise<string> {
  const ref = (await b.engine.docker.listImages({ filters: JSON.stringify({ reference: [repository] }) })).flatMap((i) => i.RepoTags ?? []).find((t) => t.startsWith(`${repository}:`));
  if (!ref) throw new Error(`paude's first start left no image named ${repository}`);
  return ref;
}

/** paude's images under this prefix, by name (an identical build may carry the bench's own name too). */
async function removeImages(b: BenchEngine, prefix: string): Promise<void> {
  for (const what of ['agent', 'proxy']) {
    const repository = `${prefix}-${what}`;
    const images = await b.engine.docker.listImages({ filters: JSON.stringify({ reference: [repository] }) });
    for (const tag of images.flatMap((i) => i.RepoTags ?? []).filter((t) => t.startsWith(`${repository}:`))) await b.engine.docker.getImage(tag).remove().catch(ignoreNotFound);
  }
}

export async function removeLeftovers(b: BenchEngine, ws: string): Promise<void> {
  const { docker } = b.engine;
  const filters = JSON.stringify({ label: [`paude.workspace=${ws}`] });
  for (const c of await docker.listContainers({ all: true, filters })) await docker.getContainer(c.Id).remove({ force: true, v: true });
  for (const v of (await docker.listVolumes({ filters })).Volumes ?? []) await docker.getVolume(v.Name).remove({ force: true });
}

/** Spawn to exit, in ms; a non-zero exit is an error with the output. */
export function timedRun(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, extraEnv: NodeJS.ProcessEnv = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(command, args, { cwd, env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - start;
      if (code === 0) resolve(ms);
      else reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${output.trim().slice(-400)}`));
    });
  });
}
