/**
 * Scaling with sessions: P1 (`paude --shell -- true`) and `paude sessions --json` with 1, 10
 * and 50 detached `paude --shell` sessions running on the engine (smoke: 1 and 2). Each figure
 * is against the same measurement with one session running, in the same process; with 10
 * running, `ENGINE ps -a --format json` (the engine's own CLI listing the same containers) is
 * printed beside `paude sessions --json`.
 */
import { perEngine, type BenchContext, type Benchmark } from './context.js';
import type { BenchEngine } from './engines.js';
import { startDetached } from './p2-attach.js';
import { PAUDE_BIN } from './p6-cli-cold-start.js';
import { sessionSetup, timedRun, type Session } from './p1-warm-start.js';
import { median } from './stats.js';
import { row, type Row } from './table.js';

export const scaling: Benchmark = {
  id: 'scaling',
  run: (ctx) => perEngine(ctx, 'scaling', (b) => measure(ctx, b)),
};

interface Point {
  sessions: number;
  p1: number[];
  list: number[];
  ps: number[];
}

async function measure(ctx: BenchContext, b: BenchEngine): Promise<Row[]> {
  const [agent, proxy] = await Promise.all([b.agentImage(), b.proxyImage()]);
  const session = await sessionSetup(b, { agent, proxy });
  const steps = ctx.smoke ? [1, 2] : [1, 10, 50];
  const runs = ctx.smoke ? 1 : 7;
  const points: Point[] = [];
  let running = 0;
  for (const target of steps) {
    // Started a few at a time: the start is not what is measured here.
    while (running < target) {
      const batch = Math.min(5, target - running);
      await Promise.all(Array.from({ length: batch }, () => startDetached(session)));
      running += batch;
    }
    ctx.log(`scaling [${b.name}]: ${running} sessions running`);
    points.push(await measureAt(b, session, running, runs));
  }
  const one = points[0];
  if (!one) return [];
  const rows: Row[] = [];
  for (const p of points.slice(1)) {
    const last = p === points.at(-1);
    rows.push(
      row({
        benchmark: `P1 warm start with ${p.sessions} sessions running`,
        engine: b.name,
        figure: { value: median(p.p1) / 1000, unit: 's' },
        baseline: { value: median(one.p1) / 1000, unit: 's' },
        target: last ? '<= 1.2x (of 1 session)' : '-',
        ...(last ? { ok: median(p.p1) <= 1.2 * median(one.p1) } : {}),
        runs,
        details: { sessions: p.sessions, ms: p.p1, oneSessionMs: one.p1 },
      }),
      row({
        benchmark: `P6 paude sessions --json with ${p.sessions} sessions`,
        engine: b.name,
        figure: { value: median(p.list), unit: 'ms' },
        baseline: { value: median(one.list), unit: 'ms' },
        target: last ? '<= 1.2x (of 1 session)' : '-',
        ...(last ? { ok: median(p.list) <= 1.2 * median(one.list) } : {}),
        runs,
        details: { sessions: p.sessions, ms: p.list, oneSessionMs: one.list },
      }),
    );
    if (p.sessions === 10 || (ctx.smoke && last)) {
      rows.push(
        row({
          benchmark: `P6 paude sessions --json vs ${b.name} ps, ${p.sessions} sessions`,
          engine: b.name,
          figure: { value: median(p.list), unit: 'ms' },
          baseline: { value: median(p.ps), unit: 'ms' },
          target: '<= 1x',
          ok: median(p.list) <= median(p.ps),
          runs,
          details: { sessions: p.sessions, paudeMs: p.list, psMs: p.ps },
        }),
      );
    }
  }
  return rows;
}

async function measureAt(b: BenchEngine, session: Session, sessions: number, runs: number): Promise<Point> {
  const point: Point = { sessions, p1: [], list: [], ps: [] };
  // Interleaved, so each sees the same machine; one of each first, not counted.
  for (let i = 0; i <= runs; i++) {
    const p1 = await timedRun(process.execPath, [PAUDE_BIN, '--shell', '--', 'true'], session.ws, session.env);
    const list = await timedRun(process.execPath, [PAUDE_BIN, 'sessions', '--json'], session.ws, session.env);
    const ps = await timedRun(b.name, ['ps', '-a', '--format', 'json'], session.ws, process.env);
    if (i === 0) continue;
    point.p1.push(p1);
    point.list.push(list);
    point.ps.push(ps);
  }
  return point;
}
