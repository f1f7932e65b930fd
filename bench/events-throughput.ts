/**
 * Events per second: a synthetic access log in the production format (ACCESS_LOG_FORMAT),
 * followed with LogFollower and parsed with parseAccessLine into a bounded summary (counts
 * per host and decision, as `paude blocked` keeps), against the follower alone (the baseline).
 * Memory: the heap after a full garbage collection before and after the parse must be the same.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { LogFollower, type LogLine } from '../dist/policy/log-follower.js';
import { parseAccessLine } from '../dist/policy/proxy-event.js';
import { guarded, type Benchmark } from './context.js';
import { median } from './stats.js';
import { row } from './table.js';

const MB = 1024 * 1024;

export const eventsThroughput: Benchmark = {
  id: 'events',
  run: (ctx) =>
    guarded(ctx, 'events', '-', async () => {
      const lines = ctx.smoke ? 20_000 : 1_000_000;
      const reps = ctx.smoke ? 1 : 3;
      const dir = await mkdtemp(join(tmpdir(), 'paude-bench-events-'));
      try {
        const log = join(dir, 'access.log');
        await writeSyntheticLog(log, lines);
        const gc = (globalThis as { gc?: () => void }).gc;
        const raw: number[] = [];
        const parsed: number[] = [];
        let memory = { before: 0, after: 0, peak: 0, hostsSeen: 0, measure: gc ? 'heapUsed after gc' : 'rss (run with --expose-gc for the heap)' };
        for (let i = 0; i < reps; i++) {
          raw.push(await follow(log, lines, () => undefined).then((r) => r.linesPerSecond));
          const before = usage(gc);
          const summary = new Map<string, number>();
          const r = await follow(log, lines, parseInto(summary), gc);
          parsed.push(r.linesPerSecond);
          // The last repetition's memory is kept: the first one also loads and compiles code.
          memory = { ...memory, before, after: r.memoryAtEnd, peak: r.peakHeap, hostsSeen: summary.size };
        }
        ctx.log(`events: ${lines} lines x ${reps}`);
        const rate = median(parsed);
        return [
          row({
            benchmark: `events/s parsed, ${lines.toLocaleString('en-US')} lines`,
            engine: '-',
            figure: { value: rate, unit: 'lines/s' },
            baseline: { value: median(raw), unit: 'lines/s' },
            target: '>= 5,000 lines/s',
            ok: rate >= 5000,
            runs: reps,
            details: { parsedLinesPerSecond: parsed, followOnlyLinesPerSecond: raw },
          }),
          row({
            benchmark: `events memory (${gc ? 'heap after gc' : 'rss'})`,
            engine: '-',
            figure: { value: memory.after / MB, unit: 'MB' },
            baseline: { value: memory.before / MB, unit: 'MB' },
            target: '<= 1.10x (flat)',
            ok: memory.after <= memory.before * 1.1,
            runs: 1,
            details: { ...memory, peakHeapMB: memory.peak / MB },
          }),
        ];
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }),
};

/** Heap after a full collection when gc is exposed, else the resident set. */
function usage(gc: (() => void) | undefined): number {
  gc?.();
  return gc ? process.memoryUsage().heapUsed : process.memoryUsage.rss();
}

/** Reads the whole log through a LogFollower; `onLine` sees every line. Memory is measured with the follower still alive. */
async function follow(path: string, expected: number, onLine: (l: LogLine) => void, gc?: () => void): Promise<{ linesPerSecond: number; peakHeap: number; memoryAtEnd: number }> {
  let count = 0;
  let peakHeap = 0;
  const follower = new LogFollower(path, (batch) => {
    for (const l of batch) onLine(l);
    count += batch.length;
    if (count % 100_000 < batch.length) peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  });
  const start = performance.now();
  await follower.poll();
  const seconds = (performance.now() - start) / 1000;
  const memoryAtEnd = usage(gc);
  if (count !== expected || follower.offset === 0) throw new Error(`the follower delivered ${count} of ${expected} lines`);
  return { linesPerSecond: count / seconds, peakHeap, memoryAtEnd };
}

/** What a consumer keeps: a count per host and decision, bounded by the hosts seen. */
function parseInto(summary: Map<string, number>): (l: LogLine) => void {
  return (l) => {
    const event = parseAccessLine(l.line, 'paude-bench', l.offset);
    if (!event) throw new Error(`a synthetic line did not parse: ${l.line}`);
    const key = `${event.decision} ${event.host}`;
    summary.set(key, (summary.get(key) ?? 0) + 1);
  };
}

const HOSTS = ['api.anthropic.com', 'registry.test', 'github.com', 'objects.githubusercontent.com', 'packages.example.test', 'files.example.test', 'blocked.example', 'telemetry.example.net'];

/** `%ts.%03tu %>a %rm %>rd %>rP %>Hs %<st %Ss %{decision}note %{rule}note %tr`, like squid writes it. */
async function writeSyntheticLog(path: string, lines: number): Promise<void> {
  const out = createWriteStream(path);
  let t = 1_790_000_000_000;
  let chunk: string[] = [];
  for (let i = 0; i < lines; i++) {
    t += i % 7;
    const host = HOSTS[i % HOSTS.length] ?? 'x.test';
    const denied = host.endsWith('.example') || host.endsWith('.net');
    const connect = i % 3 !== 0;
    const ts = `${Math.floor(t / 1000)}.${String(t % 1000).padStart(3, '0')}`;
    chunk.push(
      denied
        ? `${ts} 127.0.0.1 ${connect ? 'CONNECT' : 'GET'} ${host} ${connect ? 443 : '-'} 403 3950 TCP_DENIED deny not-allowed 0`
        : `${ts} 127.0.0.1 ${connect ? 'CONNECT' : 'GET'} ${host} ${connect ? 443 : 80} 200 ${(i * 7919) % 500_000} ${connect ? 'TCP_TUNNEL' : 'TCP_MISS'} allow .${host} ${i % 900}`,
    );
    if (chunk.length === 10_000) {
      if (!out.write(`${chunk.join('\n')}\n`)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      chunk = [];
    }
  }
  if (chunk.length > 0) out.write(`${chunk.join('\n')}\n`);
  out.end();
  await finished(out);
}
