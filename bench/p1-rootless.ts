/**
 * P1 warm start on rootless Podman: `paude --shell -- true` run as the rootless user against
 * their own Podman service, against that user's bare `podman run --rm --entrypoint= IMAGE true`
 * (the podman CLI, with the user's own storage configuration). Both go through the same
 * user switch (runuser when the benchmarks run as root), so it costs both alike.
 */
import { chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchContext } from './context.js';
import { interleaved, removeLeftovers, timedRun } from './p1-warm-start.js';
import type { RootlessProbe } from './rootless.js';
import { median } from './stats.js';
import { row, type Row } from './table.js';

export async function measureRootless(ctx: BenchContext, rootless: RootlessProbe & { available: true }): Promise<Row[]> {
  const { user } = rootless;
  const b = rootless.probe.bench;
  const [agent, proxy] = await Promise.all([b.agentImage(), b.proxyImage()]);
  const dir = await mkdtemp(join(tmpdir(), 'paude-bench-p1r-'));
  b.defer(() => rm(dir, { recursive: true, force: true }));
  const paths = { config: join(dir, 'config'), home: join(dir, 'home'), ws: join(dir, 'ws'), data: join(dir, 'data'), cache: join(dir, 'cache') };
  await Promise.all([paths.config, paths.home, paths.ws].map((d) => mkdir(d)));
  const socket = join(user.runtimeDir, 'podman', 'podman.sock');
  await writeFile(join(dir, 'config', 'paude.json'), JSON.stringify({ backend: { type: 'podman', podman: { socket: `unix://${socket}` } }, image: { agent, proxy } }));
  for (const p of [dir, paths.config, paths.home, paths.ws, join(paths.config, 'paude.json')]) await chown(p, user.uid, user.uid);
  b.defer(() => removeLeftovers(b, paths.ws));

  const base = { PATH: '/usr/bin:/bin', XDG_RUNTIME_DIR: user.runtimeDir };
  const paudeEnv = { ...base, HOME: paths.home, PAUDE_CONFIG_DIR: paths.config, PAUDE_DATA_DIR: paths.data, PAUDE_CACHE_DIR: paths.cache };
  const [paudeCmd, paudeArgs] = user.as(user.node, [user.paudeBin, '--shell', '--', 'true'], paudeEnv);
  // The podman CLI reads the user's storage.conf under their real home.
  const [bareCmd, bareArgs] = user.as('podman', ['run', '--rm', '--entrypoint=', agent, 'true'], { ...base, HOME: user.home });
  // runuser is found on this process's PATH; the user's command gets only what as() gives it.
  const here = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' };
  const paude = (): Promise<number> => timedRun(paudeCmd, paudeArgs, paths.ws, here);
  const bare = (): Promise<number> => timedRun(bareCmd, bareArgs, paths.ws, here);
  const runs = ctx.smoke ? 1 : 10;
  const times = await interleaved(runs, ctx.smoke, paude, bare);
  const m = { paude: median(times.paude), bare: median(times.bare) };
  return [
    row({
      benchmark: 'P1 warm start --shell -- true',
      engine: 'podman rootless',
      figure: { value: m.paude / 1000, unit: 's' },
      baseline: { value: m.bare / 1000, unit: 's' },
      target: '<= 1.3x',
      ok: m.paude <= 1.3 * m.bare,
      runs,
      details: { user: user.name, paudeMs: times.paude, bareMs: times.bare },
    }),
  ];
}
