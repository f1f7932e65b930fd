/**
 * P8 cold first run: `paude --shell -- true` in a new project on an engine that has none of
 * paude's images, nor any layer of them: the base is a fresh image of the run's own (the run's
 * base plus one LABEL step, so a new image id that no build cache has seen), so paude builds the
 * proxy and the agent image from it, their packages and Claude Code included, as the first run
 * on a new machine does (the base itself is local here: its pull is not measured). Also the
 * longest stretch of that run without a line of progress on stderr. Then, with those images
 * cached, a start in a new project each time against a start in a project that has started
 * before (P1's case), alternating, in the same process. The cold build is left out in smoke
 * runs (a minute or more per engine).
 */
import { spawn } from 'node:child_process';
import { perEngine, type BenchContext, type Benchmark } from './context.js';
import { BASE_IMAGE, BENCH_LABELS, ignoreNotFound, type BenchEngine } from './engines.js';
import { interleaved, sessionSetup, timedRun } from './p1-warm-start.js';
import { PAUDE_BIN } from './p6-cli-cold-start.js';
import { median } from './stats.js';
import { row, type Row } from './table.js';
import { ensureImage } from '../dist/images/image-builder.js';

export const p8ColdFirstRun: Benchmark = {
  id: 'p8',
  run: (ctx) => perEngine(ctx, 'P8 cold first run', (b) => measure(ctx, b)),
};

async function measure(ctx: BenchContext, b: BenchEngine): Promise<Row[]> {
  const rows: Row[] = [];
  // Smoke runs build on the run's base, whose layers the bench's own builds left cached.
  if (ctx.smoke) await Promise.all([b.agentImage(), b.proxyImage()]);
  const base = ctx.smoke ? BASE_IMAGE : await freshBase(b);
  const first = await sessionSetup(b, { base }, { ownImages: true });
  if (ctx.smoke) {
    await timedRun(process.execPath, [PAUDE_BIN, '--shell', '--', 'true'], first.ws, first.env);
    rows.push(row({ benchmark: 'P8 cold first run', engine: b.name, target: '<= 60 s', runs: 0, note: 'not run in smoke: builds both images from scratch' }));
  } else {
    const cold = await watchedRun(first.ws, first.env);
    ctx.log(`P8 [${b.name}] cold first run: ${(cold.ms / 1000).toFixed(1)} s, ${cold.lines} lines of progress, longest silence ${(cold.longestSilenceMs / 1000).toFixed(1)} s`);
    rows.push(
      row({ benchmark: 'P8 cold first run', engine: b.name, figure: { value: cold.ms / 1000, unit: 's' }, target: '<= 60 s', ok: cold.ms <= 60_000, runs: 1, details: { lines: cold.lines } }),
      row({ benchmark: 'P8 longest time without progress', engine: b.name, figure: { value: cold.longestSilenceMs / 1000, unit: 's' }, target: '<= 10 s', ok: cold.longestSilenceMs <= 10_000, runs: 1 }),
    );
  }
  // Images cached: a project paude has never seen (a new one each time) against one it has.
  const runs = ctx.smoke ? 1 : 7;
  const inNewProject = async (): Promise<number> => {
    const fresh = await sessionSetup(b, { base }, { ownImages: true });
    return timedRun(process.execPath, [PAUDE_BIN, '--shell', '--', 'true'], fresh.ws, { ...fresh.env, PAUDE_IMAGE_PREFIX: first.env.PAUDE_IMAGE_PREFIX });
  };
  const inKnownProject = (): Promise<number> => timedRun(process.execPath, [PAUDE_BIN, '--shell', '--', 'true'], first.ws, first.env);
  const times = await interleaved(runs, ctx.smoke, inNewProject, inKnownProject);
  const m = { fresh: median(times.paude), known: median(times.bare) };
  rows.push(
    row({
      benchmark: 'P8 new project, images cached',
      engine: b.name,
      figure: { value: m.fresh / 1000, unit: 's' },
      baseline: { value: m.known / 1000, unit: 's' },
      target: '<= 1.1x',
      ok: m.fresh <= 1.1 * m.known,
      runs,
      details: { newProjectMs: times.paude, knownProjectMs: times.bare },
    }),
  );
  return rows;
}

/** The run's base under a new image id (one LABEL step): no build cache holds a layer on it. */
async function freshBase(b: BenchEngine): Promise<string> {
  const repository = `localhost/${b.uniqueName('p8-base')}`;
  const { ref } = await ensureImage(b.engine.docker, {
    repository,
    containerfile: `FROM ${BASE_IMAGE}\nLABEL paude.bench.p8=${repository.slice('localhost/'.length)}\n`,
    files: {},
    buildArgs: {},
    labels: { ...BENCH_LABELS },
  });
  // After the images paude builds on it (deferred removals run last first).
  b.defer(() => b.engine.docker.getImage(ref).remove().catch(ignoreNotFound));
  return ref;
}

/** Spawn to exit, with the longest time between two pieces of output (or from spawn to the first, or the last to exit). */
function watchedRun(cwd: string, env: NodeJS.ProcessEnv): Promise<{ ms: number; lines: number; longestSilenceMs: number }> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    let last = start;
    let longest = 0;
    let lines = 0;
    let output = '';
    const child = spawn(process.execPath, [PAUDE_BIN, '--shell', '--', 'true'], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const seen = (d: Buffer): void => {
      const now = performance.now();
      longest = Math.max(longest, now - last);
      last = now;
      const text = d.toString();
      lines += text.split('\n').length - 1;
      output += text;
    };
    child.stdout.on('data', seen);
    child.stderr.on('data', seen);
    child.on('error', reject);
    child.on('close', (code) => {
      const end = performance.now();
      if (code !== 0) return reject(new Error(`paude --shell -- true exited ${code}: ${output.trim().slice(-400)}`));
      resolve({ ms: end - start, lines, longestSilenceMs: Math.max(longest, end - last) });
    });
  });
}
