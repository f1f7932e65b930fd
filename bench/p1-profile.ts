/**
 * Where a warm start's time goes: one `paude --shell -- true` run with p1-engine-trace.ts
 * preloaded (every engine API call, timed in the process) and the engine's own events for the
 * session's containers (create, start, die, destroy), on one timeline from spawn.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import type { BenchEngine } from './engines.js';
import { PAUDE_BIN } from './p6-cli-cold-start.js';
import type { Session } from './p1-warm-start.js';

const TRACE_MODULE = new URL('./p1-engine-trace.ts', import.meta.url).href;

interface Trace {
  timeOrigin: number;
  loadedAt: number;
  exitAt: number;
  calls: Array<{ method: string; path: string; start: number; answered?: number; end?: number; status?: number }>;
}

interface EngineEvent {
  Type?: string;
  Action: string;
  timeNano: number;
  Actor?: { Attributes?: Record<string, string> };
}

export interface Profile {
  /** Phases in ms. */
  phases: Record<string, number>;
  /** [ms from spawn, what] */
  timeline: Array<[number, string]>;
}

export async function profileRun(b: BenchEngine, session: Session): Promise<{ text: string; data: Profile }> {
  const dir = await mkdtemp(join(tmpdir(), 'paude-bench-trace-'));
  try {
    const file = join(dir, 'trace.json');
    const spawnedAt = Date.now();
    const closedAt = await new Promise<number>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', TRACE_MODULE, PAUDE_BIN, '--shell', '--', 'true'], {
        cwd: session.ws,
        env: { ...session.env, PAUDE_BENCH_TRACE: file },
        stdio: 'ignore',
      });
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve(Date.now()) : reject(new Error(`the traced paude run exited ${code}`))));
    });
    const trace = JSON.parse(await readFile(file, 'utf8')) as Trace;
    const events = await engineEvents(b, spawnedAt, closedAt, sessionOf(trace));
    const data = summarize(trace, events, spawnedAt, closedAt);
    return { data, text: render(data) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function sessionOf(trace: Trace): string | undefined {
  for (const c of trace.calls) {
    const m = /[?&]name=(paude-[a-z0-9]+)-proxy\b/.exec(c.path);
    if (m) return m[1];
  }
  return undefined;
}

async function engineEvents(b: BenchEngine, from: number, to: number, session: string | undefined): Promise<EngineEvent[]> {
  if (!session) return [];
  // The stream must end: Docker ends it at an `until` in the past; Podman 4 answers nothing
  // when given `until`, but ends with what it has when told stream=false.
  const since = Math.floor(from / 1000);
  let options: Dockerode.GetEventsOptions & { stream?: boolean } = { since, stream: false };
  if (b.name === 'docker') {
    await new Promise((r) => setTimeout(r, Math.max(0, Math.ceil(to / 1000) * 1000 + 50 - Date.now())));
    options = { since, until: Math.ceil(to / 1000) };
  }
  const stream = await b.engine.docker.getEvents(options);
  let text = '';
  for await (const chunk of stream) text += String(chunk);
  return text
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => JSON.parse(l) as EngineEvent)
    .filter((e) => e.Type === 'container' && (e.Actor?.Attributes?.name ?? '').startsWith(session));
}

function summarize(trace: Trace, events: EngineEvent[], spawnedAt: number, closedAt: number): Profile {
  const at = (t: number): number => trace.timeOrigin + t - spawnedAt;
  const calls = trace.calls;
  const first = calls[0];
  const starts = calls.filter((c) => c.method === 'POST' && /\/containers\/[^/]+\/start/.test(c.path));
  const agentStart = starts[starts.length - 1];
  const wait = calls.find((c) => /\/containers\/[^/]+\/wait/.test(c.path));
  const lastEnd = Math.max(...calls.map((c) => c.end ?? c.answered ?? c.start));
  const timeline: Array<[number, string]> = [
    [0, 'spawn'],
    [at(0), 'node time origin'],
    [at(trace.loadedAt), 'preload ran (paude modules start loading)'],
    ...calls.map((c): [number, string] => [at(c.start), `${c.method} ${shortPath(c.path)} -> ${c.status ?? '?'} in ${((c.end ?? c.answered ?? c.start) - c.start).toFixed(0)} ms`]),
    ...events.map((e): [number, string] => [e.timeNano / 1e6 - spawnedAt, `engine: ${e.Actor?.Attributes?.name ?? '?'} ${e.Action}`]),
    [at(trace.exitAt), 'process exit'],
    [closedAt - spawnedAt, 'exit seen by the parent'],
  ];
  timeline.sort((a, b) => a[0] - b[0]);
  const phases: Record<string, number> = {
    'spawn to first engine call (node, module load, config, discovery)': first ? at(first.start) : Number.NaN,
    'first engine call to agent start (version, link, creates, proxy start, config copy, attach)': first && agentStart ? agentStart.start - first.start : Number.NaN,
    'agent start to exit (runs true; nothing waits for squid)': agentStart && wait?.end !== undefined ? wait.end - agentStart.start : Number.NaN,
    'teardown (remove agent, stop proxy, remove proxy and link)': wait?.end !== undefined ? lastEnd - wait.end : Number.NaN,
    'process exit': closedAt - spawnedAt - at(lastEnd),
    total: closedAt - spawnedAt,
  };
  return { phases, timeline };
}

function shortPath(path: string): string {
  return path.replace(/[0-9a-f]{64}/g, (id) => id.slice(0, 8)).replace(/^\/v[0-9.]+/, '').slice(0, 90);
}

function render(p: Profile): string {
  const lines = Object.entries(p.phases).map(([name, ms]) => `  ${ms.toFixed(0).padStart(6)} ms  ${name}`);
  lines.push('  timeline:', ...p.timeline.map(([ms, what]) => `  ${ms.toFixed(0).padStart(6)}  ${what}`));
  return lines.join('\n');
}
