/**
 * Load: ten sessions started at once (all up, listed, each proxy enforcing its own policy, all
 * removed without a trace), and one proxy given 30,000 requests from inside its agent, offered at
 * 1,000 a second for 30 s, every request answered and seen exactly once in the live events and
 * in the audit log (brought up to date while the load runs, and after the session stopped).
 * The rate the proxy reached is printed, not asserted (tests have no timed assertions); the
 * benchmarks measure throughput (bench/p4-proxy-latency.ts).
 *
 * The proxy's log names a request by host and port (no path), so each request of the load is a
 * host and port pair of its own: a<n>.load.test on one of PORTS consecutive ports, of which the
 * policy allows the first ALLOWED_PORTS.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { describeEngines, type EngineHandle } from '../support/engine-test.js';
import { execIn } from '../support/exec.js';
import { waitFor } from '../support/session-fixture.js';
import { gatewayOf, testProject, type TestProject } from '../support/workspace.js';
import { loadConfig } from '../../src/config/load-config.js';
import { liveOwner } from '../../src/sessions/owner.js';
import { liveServices } from '../../src/ui/live-services.js';
import type { FeedEvent } from '../../src/ui/store.js';

const SESSIONS = 10;
/** 30 s of 10 hosts x 100 ports a second: 1,000 requests/s, each host and port once. */
const SECONDS = 30;
const HOSTS_PER_SECOND = 10;
const HOSTS = SECONDS * HOSTS_PER_SECOND;
const PORTS = 100;
const ALLOWED_PORTS = 90;

/**
 * Runs inside the agent (bash and curl 7.88 are in its image). Every second one curl asks the
 * next HOSTS_PER_SECOND hosts on every port, 32 transfers at a time over kept-alive connections
 * (curl's own --rate does not pace --parallel transfers); a second that is late starts at once,
 * with at most 4 curls at work. Each transfer's status, URL and curl exit code go to its
 * second's file; then the start and end (ns) and all the files are printed.
 */
const GENERATOR = String.raw`
set -u
base=$1 ports=$2 seconds=$3 per=$4
out=/tmp/paude-load; rm -rf "$out"; mkdir -p "$out"
last=$((base + ports - 1))
start=$(date +%s%N)
for ((s = 0; s < seconds; s++)); do
  due=$((start + s * 1000000000)); now=$(date +%s%N)
  if ((due > now)); then sleep "0.$(printf %09d $((due - now)))"; fi
  while (($(jobs -rp | wc -l) >= 4)); do wait -n; done
  curl -s --no-progress-meter -x http://127.0.0.1:3128 --parallel --parallel-max 32 --max-time 60 \
    -w '%{stderr}%{http_code} %{url_effective} %{exitcode}\n' "http://a[$((s * per))-$((s * per + per - 1))].load.test:[$base-$last]/" >/dev/null 2>"$out/$s" &
done
wait
echo "$start $(date +%s%N)"
cat "$out"/*
`;

interface Row {
  id: string;
  status: string;
  workspace?: string;
}

interface Request {
  host: string;
  port: number;
  status: number;
}

interface AuditLine {
  id: string;
  event: string;
  data: { host: string; port: number; decision: string; rule: string; status: number; offset: number };
}

/** `count` consecutive ports nobody listens on, between 20000 and 30000 (below the ephemeral range). */
async function freePorts(count: number): Promise<number[]> {
  const free = (port: number): Promise<boolean> =>
    new Promise((resolve) => {
      const probe = createNetServer();
      probe.once('error', () => resolve(false));
      probe.listen(port, () => probe.close(() => resolve(true)));
    });
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * (10_000 - count));
    const ports = Array.from({ length: count }, (_, i) => base + i);
    let ok = true;
    for (const p of ports) if (!(ok = await free(p))) break;
    if (ok) return ports;
  }
  throw new Error(`no ${count} consecutive free ports`);
}

/** A tiny upstream on those ports that counts requests by "host:port" and closes each connection. */
async function countingUpstream(engine: EngineHandle, address: string, ports: number[]): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  const servers: Server[] = [];
  for (const port of ports) {
    const server = createHttpServer((req, res) => {
      const key = req.headers.host ?? '?';
      seen.set(key, (seen.get(key) ?? 0) + 1);
      // A new connection each time: squid would otherwise keep one idle per host and port.
      res.writeHead(200, { connection: 'close', 'content-length': 3 }).end('ok\n');
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, address, resolve);
    });
    servers.push(server);
  }
  engine.defer(() => Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve)))));
  return seen;
}

/** Every event of the session in its audit files (rotated ones included). */
async function auditFile(dataDir: string, id: string): Promise<AuditLine[]> {
  const dir = join(dataDir, 'audit');
  const files = (await readdir(dir)).filter((f) => f.startsWith(`${id}.`) && f.endsWith('.jsonl'));
  const texts = await Promise.all(files.map((f) => readFile(join(dir, f), 'utf8')));
  return texts.flatMap((t) =>
    t
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as AuditLine),
  );
}

async function resources(engine: EngineHandle, id: string): Promise<string[]> {
  const filters = JSON.stringify({ label: [`paude.session=${id}`] });
  const containers = await engine.docker.listContainers({ all: true, filters });
  const volumes = (await engine.docker.listVolumes({ filters })).Volumes ?? [];
  return [...containers.map((c) => `container ${c.Names[0] ?? c.Id}`), ...volumes.map((v) => `volume ${v.Name}`)];
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * Each request exactly once among the events, with its decision: what is missing, what came
 * twice or more, what nobody asked for and what was decided wrongly (the first few of each).
 */
function exactlyOnce(requests: readonly Request[], events: ReadonlyArray<{ host: string; port: number; decision: string; status?: number }>): Record<string, string[]> {
  const byKey = new Map<string, Array<(typeof events)[number]>>();
  for (const e of events) byKey.set(`${e.host}:${e.port}`, [...(byKey.get(`${e.host}:${e.port}`) ?? []), e]);
  const asked = new Set(requests.map((r) => `${r.host}:${r.port}`));
  const problems: Record<string, string[]> = { missing: [], repeated: [], unasked: [], wrong: [] };
  for (const r of requests) {
    const key = `${r.host}:${r.port}`;
    const found = byKey.get(key) ?? [];
    if (found.length === 0) problems.missing?.push(key);
    if (found.length > 1) problems.repeated?.push(`${key} x${found.length}`);
    const want = r.status === 200 ? 'allow' : 'deny';
    if (found[0] && (found[0].decision !== want || (found[0].status !== undefined && found[0].status !== r.status))) problems.wrong?.push(`${key} ${found[0].decision} ${found[0].status ?? ''}`);
  }
  for (const key of byKey.keys()) if (!asked.has(key)) problems.unasked?.push(key);
  return Object.fromEntries(Object.entries(problems).map(([k, v]) => [k, v.slice(0, 5).concat(v.length > 5 ? [`... ${v.length} in all`] : [])]));
}

const NONE = { missing: [], repeated: [], unasked: [], wrong: [] };

describeEngines('load', (engine) => {
  it('runs ten sessions started at once, each behind its own proxy and policy, and removes them without a trace', async () => {
    const gateway = await gatewayOf(engine);
    const [port = 0] = await freePorts(1);
    const hosts = Object.fromEntries(Array.from({ length: SESSIONS }, (_, i) => [`own${i}.test`, gateway]));
    const first = await testProject(engine, { config: { network: { hosts } } });
    const projects: TestProject[] = [first, ...(await Promise.all(Array.from({ length: SESSIONS - 1 }, () => testProject(engine, { sharedWith: first }))))];

    // All at once, each allowed its own host.
    const began = Date.now();
    const starts = await Promise.all(projects.map((p, i) => p.paude(['--detach', '--shell', '--network-allow', `own${i}.test:${port}`])));
    for (const r of starts) expect(r.code, r.stderr).toBe(0);
    const ids = starts.map((r) => r.stdout.trim());
    console.log(`load [${engine.name}]: ${SESSIONS} sessions up in ${((Date.now() - began) / 1000).toFixed(1)} s`);
    expect(new Set(ids).size).toBe(SESSIONS);

    const listed = JSON.parse((await first.paude(['sessions', '--json'])).stdout) as Row[];
    expect(listed.map((r) => [r.id, r.status, r.workspace]).sort()).toEqual(ids.map((id, i) => [id, 'detached', projects[i]?.ws]).sort());

    // Each proxy lets its agent reach its own host and refuses the next session's.
    const seen = await countingUpstream(engine, gateway, [port]);
    const answers = await Promise.all(
      ids.map(async (id, i) => {
        const ask = (host: string): string => `curl -s -o /dev/null -w '%{http_code}\\n' --max-time 20 -x http://127.0.0.1:3128 http://${host}:${port}/`;
        const r = await execIn(engine.docker, id, ['sh', '-c', `${ask(`own${i}.test`)}; ${ask(`own${(i + 1) % SESSIONS}.test`)}`]);
        return r.stdout.trim().split('\n');
      }),
    );
    expect(answers).toEqual(ids.map(() => ['200', '403']));
    expect([...seen].sort()).toEqual(ids.map((_, i) => [`own${i}.test:${port}`, 1]).sort());

    const keepers = await Promise.all(ids.map((id) => liveOwner(join(first.dataDir, 'sessions', id), 'keeper')));
    const stopping = Date.now();
    const stop = await first.paude(['stop', '--rm', ...ids]);
    expect(stop.code, stop.stderr).toBe(0);
    console.log(`load [${engine.name}]: ${SESSIONS} sessions stopped and removed in ${((Date.now() - stopping) / 1000).toFixed(1)} s`);
    expect(stop.stdout.split('\n').filter(Boolean).sort()).toEqual(ids.map((id) => `removed ${id}`).sort());
    expect((await Promise.all(ids.map((id) => resources(engine, id)))).flat()).toEqual([]);
    expect(await readdir(join(first.dataDir, 'sessions'))).toEqual([]);
    expect(JSON.parse((await first.paude(['sessions', '--all', '--json'])).stdout)).toEqual([]);
    // Their keepers have nothing left to keep.
    await waitFor(() => Promise.resolve(keepers.every((pid) => pid === undefined || !alive(pid)) ? true : undefined), 15_000);
  }, 180_000);

  it('answers 30,000 requests offered at 1,000 a second through one proxy: each once at the upstream, in the live events and in the audit log', async () => {
    const gateway = await gatewayOf(engine);
    const ports = await freePorts(PORTS);
    const base = ports[0] ?? 0;
    const hosts = Object.fromEntries(Array.from({ length: HOSTS }, (_, n) => [`a${n}.load.test`, gateway]));
    const allowlist = ports.slice(0, ALLOWED_PORTS).map((p) => `*.load.test:${p}`);
    const p = await testProject(engine, { config: { network: { hosts, allowlist } } });
    const took: Record<string, number> = {};
    const timed = async <T>(what: string, work: () => Promise<T>): Promise<T> => {
      const t = Date.now();
      const result = await work();
      took[what] = (Date.now() - t) / 1000;
      return result;
    };
    const start = await timed('start', () => p.paude(['--detach', '--shell']));
    expect(start.code, start.stderr).toBe(0);
    const id = start.stdout.trim();
    const upstream = await countingUpstream(engine, gateway, ports);

    // The dashboard's live feed of this session, as the user would watch it.
    const services = liveServices(await loadConfig({ cwd: p.ws, env: p.env, trust: 'ignore' }), p.env, process);
    const live: FeedEvent[] = [];
    const unfollow = services.followEvents(() => [id], (events) => live.push(...events));
    engine.defer(() => Promise.resolve(unfollow()));

    const running = execIn(engine.docker, id, ['bash', '-c', GENERATOR, 'load', String(base), String(PORTS), String(SECONDS), String(HOSTS_PER_SECOND)]);
    let finished = false;
    void running.finally(() => (finished = true));
    // The audit log is brought up to date a few times while squid writes (each paude audit back-fills
    // from where the last one stopped, often at a line squid has only half written).
    const midway: number[] = [];
    const auditWhileLoaded = async (): Promise<void> => {
      for (let i = 0; i < 4 && !finished; i++) {
        await new Promise((r) => setTimeout(r, 5000));
        const r = await p.paude(['audit', id, '--event', 'network', '--json']);
        expect(r.code, r.stderr).toBe(0);
        midway.push(r.stdout.split('\n').filter(Boolean).length);
      }
    };
    const [gen] = await timed('load', () => Promise.all([running, auditWhileLoaded()]));
    expect(gen.exitCode, gen.stderr).toBe(0);
    const [timing = '', ...lines] = gen.stdout.trim().split('\n');
    const [t0 = 0, t1 = 0] = timing.split(' ').map(Number);
    // Every transfer got its answer (curl exit code 0), none timed out or was cut.
    expect(lines.filter((l) => !/^(200|403) \S+ 0$/.test(l)).slice(0, 5)).toEqual([]);
    const requests: Request[] = lines.map((line) => {
      const [status, url] = line.split(' ');
      const u = new URL(url ?? '');
      return { host: u.hostname, port: Number(u.port), status: Number(status) };
    });
    const seconds = (t1 - t0) / 1e9;
    expect(requests).toHaveLength(HOSTS * PORTS);
    const refused = requests.filter((r) => r.status === 403).length;
    expect(refused).toBe(HOSTS * (PORTS - ALLOWED_PORTS));
    expect(requests.length - refused).toBe(HOSTS * ALLOWED_PORTS);
    console.log(`load [${engine.name}]: ${requests.length} requests (${refused} refused) in ${seconds.toFixed(1)} s: ${Math.round(requests.length / seconds)} requests/s`);

    // The upstream got each allowed request once, and none of the refused ones.
    expect([...upstream].filter(([, n]) => n !== 1).slice(0, 5)).toEqual([]);
    expect(upstream.size).toBe(HOSTS * ALLOWED_PORTS);

    const stopped = await timed('stop', () => p.paude(['stop', id]));
    expect(stopped.code, stopped.stderr).toBe(0);
    await timed('live', () => waitFor(() => Promise.resolve(live.length >= requests.length ? true : undefined), 30_000).catch(() => undefined));
    const audit = await timed('audit', () => p.paude(['audit', id, '--event', 'network', '--json']));
    expect(audit.code, audit.stderr).toBe(0);
    expect(midway).toEqual([...midway].sort((a, b) => a - b));
    // Anything the feed delivers twice has arrived by now: it is stopped only here.
    unfollow();
    const recorded = audit.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as AuditLine);
    console.log(`load [${engine.name}]: ${live.length} live events, ${recorded.length} audit events (${midway.join(', ')} while loaded)`);

    expect(new Set(live.map((e) => e.key)).size).toBe(live.length);
    expect(exactlyOnce(requests, live)).toEqual(NONE);
    expect(new Set(recorded.map((e) => e.id)).size).toBe(recorded.length);
    expect(exactlyOnce(requests, recorded.map((e) => e.data))).toEqual(NONE);
    // The same lines of the same log: the feed's key is the audit event's offset.
    expect(new Set(recorded.map((e) => `${id}:${e.data.offset}`))).toEqual(new Set(live.map((e) => e.key)));
    // The file itself, not only what paude audit shows (it prints an id once, whatever the file holds).
    const audited = await auditFile(p.dataDir, id);
    expect(audited.filter((e) => e.event === 'network')).toHaveLength(requests.length);
    expect(new Set(audited.map((e) => e.id)).size).toBe(audited.length);
    // Each decided by the rule that should have: its port's allowlist entry, or none.
    const ruled = (e: AuditLine['data']): boolean => e.rule === (e.decision === 'allow' ? `*.load.test:${e.port}` : 'not-allowed');
    expect(recorded.filter((e) => !ruled(e.data)).slice(0, 5)).toEqual([]);

    const rm = await timed('rm', () => p.paude(['rm', id]));
    expect(rm.code, rm.stderr).toBe(0);
    console.log(`load [${engine.name}]: seconds taken by ${Object.entries(took).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`);
    expect(await resources(engine, id)).toEqual([]);
  }, 180_000);
});
