/** paude sessions: every session the engines know of, with what paude remembers about it. */
import { join } from 'node:path';
import { discoverEngines, defaultDiscoveryEnv } from '../../backends/engine/discovery.js';
import { LocalBackend } from '../../backends/local/local-backend.js';
import type { ComponentState, SessionSummary } from '../../backends/session-backend.js';
import { loadConfig } from '../../config/load-config.js';
import { LogFollower } from '../../policy/log-follower.js';
import { parseAccessLine } from '../../policy/proxy-event.js';
import { listSessionRecords, sessionDir, type SessionRecord } from '../../sessions/session-record.js';
import type { CliContext } from '../program.js';

export interface SessionRow {
  id: string;
  status: 'running' | 'starting' | 'stopped' | 'degraded';
  backend: string;
  started?: string;
  workspace?: string;
  network?: string;
  blocked: number;
}

export function statusOf(agent: ComponentState, proxy: ComponentState): SessionRow['status'] {
  if (agent === 'running' && proxy === 'running') return 'running';
  if (agent === 'running') return 'degraded'; // no proxy: the agent has no network
  if (agent === 'created') return 'starting';
  return 'stopped';
}

export async function sessions(ctx: CliContext, opts: { json?: boolean }): Promise<void> {
  const resolved = await loadConfig({ cwd: ctx.cwd, env: ctx.env, trust: 'ignore' });
  const { backend } = resolved.config;
  const found = await discoverEngines(defaultDiscoveryEnv(ctx.env), backend.type, { podman: backend.podman?.socket, docker: backend.docker?.host }, { all: true, startService: false });
  // One engine can answer through several strategies (a socket and DOCKER_HOST): list it once.
  const engines = [...new Map(found.flatMap((r) => (r.engine ? [[r.engine.endpoint, r.engine] as const] : []))).values()];
  const { records, warnings } = await listSessionRecords(resolved.paths.sessionsDir);
  for (const w of warnings) ctx.stderr.write(`paude: warning: ${w}\n`);
  const byId = new Map(records.map((r) => [r.id, r]));
  const rows: SessionRow[] = [];
  const seen = new Set<string>();
  for (const engine of engines) {
    let summaries: SessionSummary[];
    try {
      summaries = await new LocalBackend(engine).list();
    } catch (error) {
      ctx.stderr.write(`paude: warning: ${engine.flavor} at ${engine.endpoint} could not be listed (${(error as Error).message.split('\n')[0]})\n`);
      continue;
    }
    for (const s of summaries) {
      if (seen.has(s.id)) continue;
      seen.add(s.id);
      rows.push(await row(s, byId.get(s.id), resolved.paths.sessionsDir));
    }
  }
  rows.sort((a, b) => (b.started ?? '').localeCompare(a.started ?? ''));
  if (opts.json) {
    ctx.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return;
  }
  if (rows.length === 0) {
    ctx.stdout.write(engines.length ? 'no sessions\n' : 'no container engine answered (see paude doctor)\n');
    return;
  }
  const header = ['ID', 'STATUS', 'BACKEND', 'STARTED', 'WORKSPACE', 'NETWORK', 'BLOCKED'];
  const cells = rows.map((r) => [r.id, r.status, r.backend, r.started ? ago(r.started) : '-', r.workspace ?? '-', r.network ?? '-', String(r.blocked)]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  for (const line of [header, ...cells]) ctx.stdout.write(`${line.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()}\n`);
}

async function row(s: SessionSummary, record: SessionRecord | undefined, sessionsDir: string): Promise<SessionRow> {
  let blocked = 0;
  const follower = new LogFollower(join(sessionDir(sessionsDir, s.id), 'proxy', 'log', 'access.log'), (lines) => {
    for (const l of lines) if (parseAccessLine(l.line, s.id, l.offset)?.decision === 'deny') blocked++;
  });
  await follower.poll();
  return {
    id: s.id,
    status: statusOf(s.agent, s.proxy),
    backend: s.backend,
    ...(record?.startedAt ?? s.createdAt ? { started: record?.startedAt ?? s.createdAt } : {}),
    ...(record?.projectRoot ?? s.projectRoot ? { workspace: record?.projectRoot ?? s.projectRoot } : {}),
    ...(record ? { network: record.policy.mode } : {}),
    blocked,
  };
}

function ago(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} days ago`;
}
