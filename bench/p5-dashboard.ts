/**
 * P5, the dashboard under load: 200 sessions and 5,000 proxy events per second from a synthetic
 * source, rendered by Ink for real (into ink-testing-library's terminal, 100 columns), with the
 * real controller and store. Measured: how long an event takes to reach the screen, how long a
 * key takes to show (arrow down moves the selection), renders per second, and memory (RSS).
 *
 * It runs in a process of its own (bench/p5-process.ts), started with the node flags `paude ui`
 * is started with (bin/node-flags.js) and loading what `paude ui` loads (the live services, and
 * with them the engine and cluster clients): its RSS is the dashboard's, not the benchmark
 * runner's, which holds every other benchmark's modules and leftovers. The baseline is that
 * process before the dashboard started.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createElement } from 'react';
import { render } from 'ink-testing-library';
import { UI_NODE_FLAGS } from '../bin/node-flags.js';
import { App } from '../dist/ui/app.js';
import { startController } from '../dist/ui/controller.js';
import { keyTable } from '../dist/ui/keys.js';
import { createDashboardStore, type FeedEvent, type SessionRow } from '../dist/ui/store.js';
import type { DashboardServices } from '../dist/ui/services.js';
import type { Benchmark } from './context.js';
import { median, percentile, sleep } from './stats.js';
import { row, type Row } from './table.js';

export const p5Dashboard: Benchmark = {
  id: 'p5',
  run: (ctx) => inOwnProcess(ctx.smoke),
};

/** Runs measure() in a fresh Node process (same flags: --expose-gc, the .ts loader) and reads its rows. */
function inOwnProcess(smoke: boolean): Promise<Row[]> {
  return new Promise((resolve, reject) => {
    const script = fileURLToPath(new URL('./p5-process.ts', import.meta.url));
    // With the node flags `paude ui` runs with.
    const child = spawn(process.execPath, [...UI_NODE_FLAGS, ...process.execArgv, script, ...(smoke ? ['--smoke'] : [])], { stdio: ['ignore', 'pipe', 'inherit'], env: process.env });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`the P5 process exited with ${code}`));
      try {
        resolve(JSON.parse(out) as Row[]);
      } catch (error) {
        reject(new Error(`the P5 process printed no rows: ${(error as Error).message}`));
      }
    });
  });
}

const SESSIONS = 200;
const EVENTS_PER_SECOND = 5000;

export async function measure(smoke: boolean): Promise<Row[]> {
  const seconds = smoke ? 3 : 20;
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const rows: SessionRow[] = Array.from({ length: SESSIONS }, (_, i) => ({
    id: `paude-${i.toString(36).padStart(6, '0')}`,
    status: i % 7 === 0 ? 'attached' : 'detached',
    backend: i % 2 ? 'podman' : 'docker',
    workspace: `/src/project-${i}`,
    network: 'restricted',
    blocked: i,
    attachable: true,
    started: new Date(Date.now() - i * 60_000).toISOString(),
  }));
  let emit: ((events: FeedEvent[]) => void) | undefined;
  let seq = 0;
  const services: DashboardServices = {
    cwd: '/src',
    listSessions: () => Promise.resolve({ rows }),
    followEvents: (_sessions, onEvents) => {
      emit = onEvents;
      return () => (emit = undefined);
    },
    followApprovals: () => () => undefined,
    decide: () => Promise.resolve(''),
    policy: () => Promise.resolve([]),
    checkEntry: () => undefined,
    changePolicy: () => Promise.resolve(''),
    removeSessionEntry: () => Promise.resolve(''),
    preview: () => Promise.resolve(() => Promise.resolve()),
    attach: () => Promise.resolve(''),
    stop: () => Promise.resolve(''),
    remove: () => Promise.resolve(''),
    notify: () => Promise.resolve(),
    newSession: () => Promise.resolve(''),
  };
  const store = createDashboardStore();
  const controller = startController(store, services, { listEveryMs: 1000 });
  const app = render(createElement(App, { store, services, keys: keyTable(), paint: () => 'green', onAttach: () => undefined, onQuit: () => undefined, refreshPolicy: () => Promise.resolve() }));
  store.getState().setView('network');
  await sleep(200);

  // The source: every 20 ms a batch, so 5,000 a second; one marked event per batch is timed.
  const sent = new Map<string, number>();
  const source = setInterval(() => {
    const batch: FeedEvent[] = [];
    const n = EVENTS_PER_SECOND / 50;
    for (let i = 0; i < n; i++) {
      seq++;
      const marked = i === n - 1;
      const host = marked ? `mark${seq}.test` : `host${seq % 500}.test`;
      if (marked) sent.set(host, performance.now());
      batch.push({ key: `b:${seq}`, time: Date.now(), session: rows[seq % SESSIONS]?.id ?? '', host, port: 443, method: 'CONNECT', decision: seq % 3 ? 'allow' : 'deny', rule: 'bench' });
    }
    emit?.(batch);
  }, 20);

  // Watch the frames for the marked hosts.
  const latencies: number[] = [];
  const frameWatch = setInterval(() => {
    const frame = app.lastFrame() ?? '';
    for (const [host, at] of sent) {
      if (frame.includes(host)) {
        latencies.push(performance.now() - at);
        sent.delete(host);
      }
    }
    // Markers that scrolled away unseen are dropped after a second (not counted as fast).
    for (const [host, at] of sent) if (performance.now() - at > 1000) sent.delete(host);
    // The test terminal keeps every frame; the dashboard does not: count them and let them go.
    frameCount += app.frames.length;
    app.frames.length = 0;
  }, 5);

  // Keys: on the sessions view arrow down every 100 ms; time until a frame shows the new selection.
  const keyTimes: number[] = [];
  let frameCount = 0;
  app.frames.length = 0;
  const started = performance.now();
  const half = (seconds * 1000) / 2;
  await sleep(half);
  store.getState().setView('sessions');
  await sleep(100);
  while (performance.now() - started < seconds * 1000) {
    const before = store.getState().selected;
    const t0 = performance.now();
    app.stdin.write('\u001B[B');
    for (let i = 0; i < 100; i++) {
      await sleep(2);
      const now = store.getState().selected;
      if (now !== before && (app.lastFrame() ?? '').includes(now ?? '~')) break;
    }
    keyTimes.push(performance.now() - t0);
    await sleep(100);
  }
  const elapsed = (performance.now() - started) / 1000;
  const renders = (frameCount + app.frames.length) / elapsed;
  clearInterval(source);
  clearInterval(frameWatch);
  global.gc?.();
  const rssAfter = process.memoryUsage().rss;
  const heapAfter = process.memoryUsage().heapUsed;
  app.unmount();
  await controller.stop();

  const mb = (b: number): number => b / 1024 / 1024;
  return [
    row({
      benchmark: `P5 dashboard: event to screen (${SESSIONS} sessions, ${EVENTS_PER_SECOND}/s)`,
      engine: '-',
      figure: { value: median(latencies), unit: 'ms' },
      target: '<= 250 ms',
      ok: percentile(latencies, 95) <= 250,
      runs: latencies.length,
      note: `p95 ${percentile(latencies, 95).toFixed(0)} ms; ${renders.toFixed(1)} renders/s`,
      details: { latenciesMs: latencies, rendersPerSecond: renders },
    }),
    row({
      benchmark: 'P5 dashboard: key to screen under load',
      engine: '-',
      figure: { value: median(keyTimes), unit: 'ms' },
      target: '<= 50 ms (20 fps)',
      ok: percentile(keyTimes, 95) <= 50,
      runs: keyTimes.length,
      note: `p95 ${percentile(keyTimes, 95).toFixed(0)} ms`,
      details: { keyMs: keyTimes },
    }),
    row({
      benchmark: 'P5 dashboard: memory (RSS) under load',
      engine: '-',
      figure: { value: mb(rssAfter), unit: 'MB' },
      baseline: { value: mb(rssBefore), unit: 'MB' },
      target: '<= 200 MB',
      ok: mb(rssAfter) <= 200,
      runs: 1,
      note: `heap after GC ${mb(heapAfter).toFixed(0)} MB`,
    }),
  ];
}
