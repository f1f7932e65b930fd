/**
 * Sessions across every engine that answers: what the engine reports (labels, states) merged
 * with what paude remembers (session records) and who looks after each (owner pid files).
 * The engine is the source of truth; a record without engine resources is stale metadata,
 * engine resources without a record are still listed. One service for the CLI's sessions,
 * attach, stop, rm and gc and for the dashboard.
 */
import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BackendRegistry, recordedEndpoints } from '../backends/registry.js';
import type { SessionBackend, SessionSummary } from '../backends/session-backend.js';
import type { ResolvedConfig } from '../config/load-config.js';
import { PaudeError, UsageError } from '../errors.js';
import { quote } from '../errors.js';
import { createProxyEventStreams, type ProxyEventStreams, type ProxyEventSubscription } from '../policy/proxy-event-stream.js';
import { ProxyStateDir } from '../policy/proxy-state.js';
import { SESSION_ID } from '../policy/squid-config.js';
import { ProtectedPathGuard, quarantineDir } from '../workspace/protected-guard.js';
import { noteQuarantined } from './quarantine-note.js';
import { liveOwner } from './owner.js';
import { liveLeases, reapClients } from './clients.js';
import { readTokenTotals } from '../telemetry/relay.js';
import type { TokenTotals } from '../telemetry/otlp-metrics.js';
import { listSessionRecords, sessionDir, type SessionRecord } from './session-record.js';
import { faultPoint } from '../faults.js';

/**
 * starting: being created by a live paude; running: attached by the paude that started it
 * without tmux (paude -p); attached / detached: a tmux session with / without a terminal;
 * degraded: the agent runs without its proxy (no network); stopped: the command ended or was
 * stopped, state kept; error: left behind by an interrupted start, or only metadata left.
 */
export type SessionStatus = 'starting' | 'running' | 'attached' | 'detached' | 'degraded' | 'stopped' | 'error';

export interface SessionView {
  id: string;
  status: SessionStatus;
  /** Why it is in error, or how it stopped. */
  detail?: string;
  backend: string;
  endpoint: string;
  started?: string;
  workspace?: string;
  network?: string;
  blocked: number;
  exitCode?: number;
  /** Writable terminals attached (tmux sessions only). */
  clients?: number;
  /** Tokens and cost from the agent's telemetry (paude's relay), when any arrived. */
  tokens?: TokenTotals;
  record?: SessionRecord;
  /** undefined when only metadata is left. */
  summary?: SessionSummary;
  /** undefined when the session's engine did not answer. */
  backendHandle?: SessionBackend;
}

export interface SessionList {
  sessions: SessionView[];
  /** Engines (or recorded endpoints) that did not answer, with why. */
  unreachable: string[];
  warnings: string[];
  /** How many engines and clusters answered; 0: nothing could be listed (the first unreachable line says why). */
  reached: number;
}

type Paths = ResolvedConfig['paths'];

export class SessionService {
  /** Where sessions may be: engines and clusters, found and connected once per service. */
  readonly backends: BackendRegistry;
  /**
   * A non-following subscription to each listed session's proxy-event stream, for its BLOCKED
   * count: kept while the session is listed, so a service that lists every second (the
   * dashboard) reads each log once and then only what was added. It holds no watcher or timer.
   */
  private readonly counting = new Map<string, ProxyEventSubscription>();

  constructor(
    readonly paths: Paths,
    backendConfig: ResolvedConfig['config']['backend'],
    env: NodeJS.ProcessEnv,
    /** Shared with whoever else reads these sessions' proxy events in this process (the dashboard's feed). */
    private readonly streams: ProxyEventStreams = createProxyEventStreams(),
  ) {
    this.backends = new BackendRegistry({ config: backendConfig, env });
  }

  /** Denied requests of the agent in a session's access log (the stream's one definition). */
  private async blockedCount(id: string): Promise<number> {
    let sub = this.counting.get(id);
    if (!sub) {
      const accessLog = new ProxyStateDir(join(sessionDir(this.paths.sessionsDir, id), 'proxy')).accessLog;
      sub = this.streams.subscribe({ session: id, accessLog }, undefined, { follow: false });
      this.counting.set(id, sub);
    }
    await sub.poll();
    return sub.blocked;
  }

  /** Lets go of the counts of sessions no longer listed (their streams close if no one else reads them). */
  private forgetCounts(listed: ReadonlySet<string>): void {
    for (const [id, sub] of this.counting) {
      if (listed.has(id)) continue;
      sub.unsubscribe();
      this.counting.delete(id);
    }
  }

  /** Lets go of every count (a service that is done with listing). */
  close(): void {
    this.forgetCounts(new Set());
  }

  async list(options: { clients?: boolean } = {}): Promise<SessionList> {
    const { records, warnings } = await listSessionRecords(this.paths.sessionsDir);
    const byId = new Map(records.map((r) => [r.id, r]));
    const { backends, unreachable } = await this.backends.discover(recordedEndpoints(records));
    const reached = new Set<string>();
    const listed = await Promise.all(
      backends.map(async (backend) => {
        try {
          const summaries = await backend.list();
          reached.add(backend.endpoint);
          // Sessions of another data directory (another user or setup on a shared engine) are theirs.
          return { backend, summaries: summaries.filter((x) => x.dataDir === this.paths.dataDir) };
        } catch (error) {
          unreachable.push(`${backend.kind} at ${backend.endpoint} could not be listed (${(error as Error).message.split('\n')[0]})`);
          return { backend, summaries: [] as SessionSummary[] };
        }
      }),
    );
    // One engine may be reached two ways (a socket and an ssh:// tunnel to it): the session is
    // listed once, through the way it was started.
    const chosen = new Map<string, { backend: SessionBackend; summary: SessionSummary }>();
    for (const { backend, summaries } of listed) {
      for (const summary of summaries) {
        const current = chosen.get(summary.id);
        if (!current || byId.get(summary.id)?.endpoint === backend.endpoint) chosen.set(summary.id, { backend, summary });
      }
    }
    const seen = new Set(chosen.keys());
    const views: SessionView[] = await Promise.all([...chosen.values()].map(({ backend, summary }) => this.view(summary, byId.get(summary.id), backend, { clients: options.clients !== false, blocked: true })));
    // Records the engines know nothing of: stale metadata where their engine answered, else unknown.
    for (const r of records) {
      if (seen.has(r.id)) continue;
      if (!reached.has(r.endpoint)) {
        if (!unreachable.some((u) => u.includes(r.endpoint))) unreachable.push(`${r.backend} at ${r.endpoint} (recorded for ${r.id}) did not answer`);
        continue;
      }
      if ((await liveOwner(sessionDir(this.paths.sessionsDir, r.id), 'starter')) !== undefined) continue;
      views.push({ ...this.fromRecord(r), status: 'error', detail: 'only metadata left: its containers are gone', blocked: 0 });
    }
    views.sort((a, b) => (b.started ?? '').localeCompare(a.started ?? ''));
    this.forgetCounts(new Set(views.map((v) => v.id)));
    return { sessions: views, unreachable, warnings, reached: reached.size };
  }

  private fromRecord(r: SessionRecord): Omit<SessionView, 'status' | 'blocked'> {
    return { id: r.id, backend: r.backend, endpoint: r.endpoint, started: r.startedAt, workspace: r.projectRoot, network: r.policy.mode, record: r };
  }

  /** @internal */
  async view(s: SessionSummary, record: SessionRecord | undefined, backend: SessionBackend, want: { clients: boolean; blocked: boolean }): Promise<SessionView> {
    const withClients = want.clients;
    const dir = sessionDir(this.paths.sessionsDir, s.id);
    const view: SessionView = {
      id: s.id,
      status: 'error',
      backend: s.backend,
      endpoint: backend.endpoint,
      blocked: want.blocked ? await this.blockedCount(s.id) : 0,
      summary: s,
      backendHandle: backend,
      ...(record ? { record, network: record.policy.mode } : {}),
      ...((record?.startedAt ?? s.createdAt) ? { started: record?.startedAt ?? s.createdAt } : {}),
      ...((record?.projectRoot ?? s.projectRoot) ? { workspace: record?.projectRoot ?? s.projectRoot } : {}),
      ...(s.exitCode !== undefined ? { exitCode: s.exitCode } : {}),
    };
    const tokens = await readTokenTotals(dir);
    if (tokens) view.tokens = tokens;
    const starting = s.agent === 'created' || s.agent === 'missing' ? (await liveOwner(dir, 'starter')) !== undefined : false;
    if (starting) view.status = 'starting';
    else if (s.agent === 'created' || s.agent === 'missing') {
      view.status = 'error';
      // Without a record the start never got as far as the agent.
      view.detail = s.agent === 'created' || !record ? 'its start was interrupted' : 'its agent container is gone';
    } else if (s.agent === 'exited') {
      view.status = 'stopped';
      if (s.exitCode !== undefined) view.detail = record?.tmux && s.exitCode === 124 ? 'idle timeout, exit 124' : `exit ${s.exitCode}`;
    } else if (s.proxy !== 'running') {
      view.status = 'degraded';
      view.detail = 'its proxy is not running: the agent has no network';
    } else if (record?.tmux) {
      if (withClients) await reapClients(backend, s.id, dir);
      // Every terminal attached from this host holds a lease first: with none alive, nothing is
      // attached, and the exec that asks tmux (about 0.8 s per session on Podman with 50 running,
      // 42 s for the list) is left out. A remote engine's sessions may have terminals elsewhere.
      const asked = withClients && (backend.remote || (await liveLeases(dir)) > 0);
      const clients = asked ? await attachedClients(backend, s.id) : withClients ? 0 : undefined;
      if (clients !== undefined) view.clients = clients;
      view.status = clients ? 'attached' : 'detached';
    } else view.status = 'running';
    return view;
  }

  /**
   * The quick way to one session (attach, where every millisecond shows): its record names its
   * engine, which is asked about this session only. Falls back to find() when the reference
   * matches no single record or the recorded engine does not answer.
   */
  async findQuick(ref: string): Promise<SessionView> {
    return (await quickView(this.paths, ref)) ?? this.find(ref);
  }

  /** A session by full id or unique prefix (with or without "paude-"), else the usage error. */
  async find(ref: string): Promise<SessionView> {
    const { sessions, unreachable } = await this.list();
    const wanted = ref.startsWith('paude-') ? ref : `paude-${ref}`;
    const exact = sessions.find((s) => s.id === wanted);
    if (exact) return exact;
    const matches = sessions.filter((s) => s.id.startsWith(wanted));
    if (matches.length === 1 && matches[0]) return matches[0];
    if (matches.length > 1) throw new UsageError(`${quote(ref)} matches ${matches.map((m) => m.id).join(', ')}; give more of the id`);
    const known = sessions.map((s) => s.id);
    const note = unreachable.length ? `; not reachable: ${unreachable.join('; ')}` : '';
    throw new PaudeError(`no session ${quote(ref)}${known.length ? ` (sessions: ${known.join(', ')})` : ' (there are none)'}${note}`);
  }

  /**
   * Stops the agent (its command gets SIGHUP, then SIGKILL after graceSeconds) and the proxy,
   * and checks the workspace's protected paths once more. Everything else is kept.
   */
  async stop(view: SessionView, graceSeconds = 5): Promise<string[]> {
    const backend = this.reachable(view);
    await backend.stop(view.id, graceSeconds);
    return this.finalGuard(view);
  }

  /**
   * Ends a live session's command at once (SIGKILL), before it is removed: its end is recorded
   * only once it has ended, so a paude killed between the two leaves a stopped session, not a
   * running one the audit log calls ended.
   */
  async end(view: SessionView): Promise<void> {
    if (!view.backendHandle || view.summary?.agent !== 'running') return;
    await view.backendHandle.killAgent(view.id);
    await view.backendHandle.waitAgent(view.id).catch(() => undefined);
  }

  /** Removes every resource of the session and its metadata (the quarantine is kept). */
  async remove(view: SessionView): Promise<string[]> {
    if (view.backendHandle) await view.backendHandle.remove(view.id);
    faultPoint('rm.engine-cleared');
    const moved = view.record ? await this.finalGuard(view) : [];
    await rm(sessionDir(this.paths.sessionsDir, view.id), { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
    return moved;
  }

  private reachable(view: SessionView): SessionBackend {
    if (!view.backendHandle) throw new PaudeError(`${view.id} is on ${view.endpoint}, which does not answer; start that engine and try again`);
    return view.backendHandle;
  }

  private async finalGuard(view: SessionView): Promise<string[]> {
    if (!view.record?.watched?.length && !view.record?.gitModules) return [];
    const guard = new ProtectedPathGuard(view.record.projectRoot, view.record.watched ?? [], quarantineDir(this.paths.dataDir, view.id), view.record.gitModules);
    const moved = await guard.stop();
    if (moved.length > 0) await noteQuarantined(sessionDir(this.paths.sessionsDir, view.id), moved);
    return moved;
  }

  /**
   * What `paude gc` removes: sessions in error (interrupted starts, containers gone), session
   * directories no engine resource belongs to, and with `stopped` the stopped sessions too.
   */
  async garbage(options: { stopped?: boolean } = {}): Promise<{ sessions: SessionView[]; directories: string[]; unreachable: string[]; reached: number }> {
    const { sessions, unreachable, reached } = await this.list({ clients: false });
    const doomed = sessions.filter((s) => s.status === 'error' || (options.stopped && s.status === 'stopped'));
    // Directories without a readable record (a start killed before writing it, or a corrupt file).
    const known = new Set(sessions.map((s) => s.id));
    const directories: string[] = [];
    if (unreachable.length === 0) {
      for (const name of await readdir(this.paths.sessionsDir).catch(() => [] as string[])) {
        if (!SESSION_ID.test(name) || known.has(name)) continue;
        const dir = sessionDir(this.paths.sessionsDir, name);
        if ((await liveOwner(dir, 'starter')) !== undefined || (await liveOwner(dir, 'keeper')) !== undefined) continue;
        directories.push(dir);
      }
    }
    return { sessions: doomed, directories, unreachable, reached };
  }
}

/** Writable tmux clients attached to the session; undefined when that cannot be told. */
async function attachedClients(backend: SessionBackend, id: string): Promise<number | undefined> {
  try {
    const r = await backend.exec(id, ['tmux', 'list-clients', '-t', 'paude', '-F', '#{client_readonly}']);
    if (r.exitCode !== 0) return r.stderr.includes('no server') || r.stderr.includes("can't find") ? 0 : undefined;
    return r.stdout.split('\n').filter((l) => l.trim() === '0').length;
  } catch {
    return undefined;
  }
}

/** Protected paths the guard moved out of the workspace during the session, if any. */
export async function quarantined(sessionsDir: string, id: string): Promise<string[]> {
  try {
    const parsed: unknown = JSON.parse(await readFile(join(sessionDir(sessionsDir, id), 'quarantined.json'), 'utf8'));
    return Array.isArray(parsed) ? parsed.filter((p): p is string => typeof p === 'string') : [];
  } catch {
    return [];
  }
}

/**
 * A session found through its record alone (no configuration, no engine discovery): undefined
 * when the reference matches no single record or its engine does not answer about it.
 */
export async function quickView(paths: Paths, ref: string): Promise<SessionView | undefined> {
  const { records } = await listSessionRecords(paths.sessionsDir);
  const wanted = ref.startsWith('paude-') ? ref : `paude-${ref}`;
  const matches = records.filter((r) => r.id.startsWith(wanted));
  const record = matches.find((r) => r.id === wanted) ?? (matches.length === 1 ? matches[0] : undefined);
  if (!record) return undefined;
  // The backend configuration only matters for finding engines, which is not done here.
  const service = new SessionService(paths, { type: 'auto' }, {});
  try {
    // Remote engines and clusters need the configuration (ssh settings, kubeconfig): the full way.
    if (!service.backends.selfContained(record.endpoint)) return undefined;
    const backend = await service.backends.connect(record.endpoint, record.backend);
    const summary = await backend.inspect(record.id);
    if (!summary || summary.dataDir !== paths.dataDir) return undefined;
    return await service.view(summary, record, backend, { clients: false, blocked: false });
  } catch {
    return undefined;
  }
}
