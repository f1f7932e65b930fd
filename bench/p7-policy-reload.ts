/**
 * P7: how long a policy change takes to apply, and that applying it drops nothing. Inside the
 * agent, one loop keeps requesting reload.test and stamps each answer with the container's
 * clock (the host's: same kernel); three more loops keep requests to the allowed stream.test in
 * flight (immediate, 200 ms and 1 s answers). The host then, again and again, writes a rules
 * file without reload.test, waits for a fresh 403, writes one that allows it, and measures from
 * writeRules resolving to the first 200. Every stream.test request must succeed throughout.
 */
import { randomBytes } from 'node:crypto';
import { perEngine, type BenchContext, type Benchmark } from './context.js';
import type { BenchEngine } from './engines.js';
import { execLines, execOk } from './exec.js';
import { benchSandbox, PROXY_URL } from './sandbox.js';
import { median, percentile, sleep } from './stats.js';
import { row, type Row } from './table.js';

export const p7PolicyReload: Benchmark = {
  id: 'p7',
  run: (ctx) => perEngine(ctx, 'P7 policy change', (b) => measure(ctx, b)),
};

interface Answer {
  /** ms since the epoch */
  start: number;
  end: number;
  status: string;
}

async function measure(ctx: BenchContext, b: BenchEngine): Promise<Row[]> {
  const { docker } = b.engine;
  const s = await benchSandbox(b);
  const { state, agentId } = s.sandbox;
  const changes = ctx.smoke ? 3 : 20;

  const probes: Answer[] = [];
  const streams: Answer[] = [];
  const waiters = new Set<() => void>();
  const onLine = (line: string): void => {
    const [kind, start, end, status] = line.split(' ');
    if (start === undefined || end === undefined || status === undefined) return;
    const answer = { start: Number(start) * 1000, end: Number(end) * 1000, status };
    (kind === 'R' ? probes : streams).push(answer);
    for (const w of waiters) w();
  };
  const until = <T>(find: () => T | undefined, what: string, timeoutMs = 5000): Promise<T> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const found = find();
        if (found === undefined) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(found);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`${what}: nothing within ${timeoutMs} ms`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });

  await state.writeRules(s.rules(false));
  const stop = `/tmp/paude-bench-stop-${randomBytes(4).toString('hex')}`;
  const loops = execLines(docker, agentId, ['bash', '-c', loopScript(stop)], onLine);
  const latencies: number[] = [];
  try {
    await until(() => (streams.length >= 3 ? true : undefined), 'background stream start');
    for (let i = 0; i < changes; i++) {
      const denied = Date.now();
      await state.writeRules(s.rules(false));
      await until(() => (probes.some((p) => p.start > denied && p.status === '403') ? true : undefined), 'deny taking effect');
      const writing = Date.now();
      await state.writeRules(s.rules(true));
      const written = Date.now();
      const first = await until(() => probes.find((p) => p.end >= writing && p.status === '200'), 'allow taking effect');
      latencies.push(Math.max(0, first.end - written));
      // A little while allowed, for the baseline: one proxied request to the now allowed host.
      await sleep(ctx.smoke ? 20 : 100);
    }
  } finally {
    await execOk(docker, agentId, ['touch', stop]);
    await loops;
  }
  const baseline = probes.filter((p) => p.status === '200').map((p) => p.end - p.start);
  const failed = streams.filter((a) => a.status !== '200');
  ctx.log(`P7 [${b.name}]: ${changes} changes, ${streams.length} background requests, ${failed.length} failed`);
  const med = median(latencies);
  return [
    row({
      benchmark: 'P7 change to effective median',
      engine: b.name,
      figure: { value: med, unit: 'ms' },
      baseline: { value: median(baseline), unit: 'ms' },
      target: '<= 500 ms',
      ok: med <= 500,
      runs: changes,
      details: { latenciesMs: latencies, requestMs: baseline },
    }),
    row({
      benchmark: 'P7 change to effective max',
      engine: b.name,
      figure: { value: Math.max(...latencies), unit: 'ms' },
      baseline: { value: percentile(baseline, 100), unit: 'ms' },
      target: '<= 500 ms',
      ok: Math.max(...latencies) <= 500,
      runs: changes,
    }),
    row({
      benchmark: 'P7 dropped during changes',
      engine: b.name,
      figure: { value: failed.length, unit: 'requests' },
      baseline: { value: streams.length, unit: 'requests' },
      target: '0 failed',
      ok: failed.length === 0,
      runs: changes,
      details: { failed },
    }),
  ];
}

/** R: the probe of reload.test; S: the background stream (three loops). One echo is one atomic pipe write. */
function loopScript(stop: string): string {
  const curl = `curl -s -o /dev/null -x ${PROXY_URL} -w '%{http_code}'`;
  return [
    `end=$((SECONDS + 600))`,
    `running() { [ ! -e ${stop} ] && [ $SECONDS -lt $end ]; }`,
    `probe() { while running; do s=$EPOCHREALTIME; c=$(${curl} --max-time 5 http://reload.test/); echo "R $s $EPOCHREALTIME $c"; done; }`,
    `stream() { while running; do s=$EPOCHREALTIME; c=$(${curl} --max-time 10 "http://stream.test/$1"); echo "S $s $EPOCHREALTIME $c"; done; }`,
    `probe & stream '' & stream slow/200 & stream slow/1000 & wait`,
  ].join('\n');
}
