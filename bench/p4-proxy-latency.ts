/**
 * P4: a request through the session proxy vs the same request without paude. Both run curl
 * inside a container on the same engine against the same local server: proxied from the agent
 * (link forwarder -> unix socket -> squid -> policy helper -> server), direct from a container
 * on the proxy's own network. Every request opens a new connection, as a fresh tool run does.
 * A third path, curl inside the proxy container straight to squid, shows how much of the
 * difference is squid and its policy helper and how much the session link's two socat hops.
 */
import type Docker from 'dockerode';
import { perEngine, type BenchContext, type Benchmark } from './context.js';
import type { BenchEngine } from './engines.js';
import { execOk } from './exec.js';
import { benchSandbox, PROXY_URL } from './sandbox.js';
import { median, percentile } from './stats.js';
import { row, type Row } from './table.js';

const MB = 1024 * 1024;

export const p4ProxyLatency: Benchmark = {
  id: 'p4',
  run: (ctx) => perEngine(ctx, 'P4 proxied vs direct', (b) => measure(ctx, b)),
};

interface Path {
  container: string;
  curlArgs: string;
}

async function measure(ctx: BenchContext, b: BenchEngine): Promise<Row[]> {
  const { docker } = b.engine;
  const s = await benchSandbox(b);
  const proxied: Path = { container: s.sandbox.agentId, curlArgs: `-x ${PROXY_URL}` };
  const direct: Path = { container: s.directId, curlArgs: `--noproxy '*'` };
  // Squid from inside its own container: the proxied path without the session link's two hops.
  const squid: Path = { container: s.sandbox.proxyId, curlArgs: `-x ${PROXY_URL}` };
  const rounds = ctx.smoke ? 1 : 5;
  const perRound = ctx.smoke ? 5 : 60;
  const warmup = ctx.smoke ? 2 : 20;

  for (const path of [proxied, direct, squid]) await requests(docker, path, 'http://bench.test/', warmup);
  const lat = { proxied: [] as number[], direct: [] as number[], squid: [] as number[] };
  // Alternating rounds, so a slow patch of the machine hits both paths alike.
  for (let i = 0; i < rounds; i++) {
    lat.proxied.push(...(await requests(docker, proxied, 'http://bench.test/', perRound)).map((r) => r.seconds * 1000));
    lat.direct.push(...(await requests(docker, direct, 'http://bench.test/', perRound)).map((r) => r.seconds * 1000));
    lat.squid.push(...(await requests(docker, squid, 'http://bench.test/', perRound)).map((r) => r.seconds * 1000));
  }
  ctx.log(`P4 [${b.name}]: latency done`);

  const size = (ctx.smoke ? 8 : 100) * MB;
  const downloads = ctx.smoke ? 1 : 5;
  const rate = { proxied: [] as number[], direct: [] as number[], squid: [] as number[] };
  for (let i = 0; i < downloads; i++) {
    for (const [name, path] of [['proxied', proxied], ['direct', direct], ['squid', squid]] as const) {
      const [r] = await requests(docker, path, `http://bench.test/bytes/${size}`, 1);
      if (!r || r.bytes !== size) throw new Error(`${name} download got ${r?.bytes ?? 0} of ${size} bytes`);
      rate[name].push(r.bytes / MB / r.seconds);
    }
  }
  ctx.log(`P4 [${b.name}]: throughput done`);

  const n = lat.proxied.length;
  const med = { proxied: median(lat.proxied), direct: median(lat.direct), squid: median(lat.squid) };
  const thr = { proxied: median(rate.proxied), direct: median(rate.direct), squid: median(rate.squid) };
  return [
    row({
      benchmark: 'P4 latency median',
      engine: b.name,
      figure: { value: med.proxied, unit: 'ms' },
      baseline: { value: med.direct, unit: 'ms' },
      target: '<= direct + 2 ms',
      ok: med.proxied <= med.direct + 2,
      runs: n,
      details: { proxiedMs: lat.proxied, directMs: lat.direct, squidAloneMs: lat.squid, addedMs: med.proxied - med.direct },
    }),
    row({
      benchmark: 'P4 latency p95',
      engine: b.name,
      figure: { value: percentile(lat.proxied, 95), unit: 'ms' },
      baseline: { value: percentile(lat.direct, 95), unit: 'ms' },
      target: '-',
      runs: n,
    }),
    row({
      benchmark: `P4 throughput ${size / MB} MB`,
      engine: b.name,
      figure: { value: thr.proxied, unit: 'MB/s' },
      baseline: { value: thr.direct, unit: 'MB/s' },
      target: '>= 0.8x',
      ok: thr.proxied / thr.direct >= 0.8,
      runs: downloads,
      details: { proxiedMBps: rate.proxied, directMBps: rate.direct, squidAloneMBps: rate.squid },
    }),
    // Where the difference comes from: squid and its policy helper alone, without the link.
    row({
      benchmark: 'P4 latency median, squid alone',
      engine: b.name,
      figure: { value: med.squid, unit: 'ms' },
      baseline: { value: med.direct, unit: 'ms' },
      target: '-',
      runs: n,
    }),
    row({
      benchmark: `P4 throughput ${size / MB} MB, squid alone`,
      engine: b.name,
      figure: { value: thr.squid, unit: 'MB/s' },
      baseline: { value: thr.direct, unit: 'MB/s' },
      target: '-',
      runs: downloads,
    }),
  ];
}

interface Sample {
  seconds: number;
  bytes: number;
}

/** `count` sequential requests by one shell loop in the container (one exec, one curl per request). */
async function requests(docker: Docker, path: Path, url: string, count: number): Promise<Sample[]> {
  const script = `for i in $(seq ${count}); do curl -s -o /dev/null --max-time 120 ${path.curlArgs} -w '%{http_code} %{size_download} %{time_total}\\n' '${url}'; done`;
  const out = await execOk(docker, path.container, ['bash', '-c', script]);
  const samples = out
    .trim()
    .split('\n')
    .map((line) => {
      const [status, bytes, seconds] = line.split(' ');
      if (status !== '200') throw new Error(`GET ${url} answered ${status ?? '?'}`);
      return { bytes: Number(bytes), seconds: Number(seconds) };
    });
  if (samples.length !== count) throw new Error(`expected ${count} results from ${url}, got ${samples.length}`);
  return samples;
}
