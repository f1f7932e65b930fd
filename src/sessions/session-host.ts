/**
 * The host side of a running session: the background tasks that look after it while some paude
 * process on this host does (the foreground `paude` that started it, then the keeper of a
 * detached one), with one start and one stop. The hand-over from the foreground to the keeper
 * is a stop here and a start there; the tasks are made so that nothing is lost between the two
 * (the guard's journal, the relay's saved totals, the file watch's manifest, squid's log).
 *
 *   guard       moves protected paths the agent creates to the quarantine as they appear
 *   supervisor  starts the proxy again when it dies under a running agent
 *   bridge      a remote session's proxy state, mirrored to this host's state directory
 *   relay       a local session's OTLP relay (token totals, forwarding to the collector)
 *   files       workspace changes for the audit log (local engines, with an audit log)
 *   reaper      detaches terminals whose paude died (the keeper only)
 *   watchers    relays the heartbeats of whoever watches every session (the dashboard,
 *               `paude approvals --watch`: DATA/watchers) into this session's proxy state, from
 *               before the agent starts, so that ask mode holds its first request for them
 */
import { join } from 'node:path';
import type { AuditLog } from '../audit/audit-log.js';
import { WorkspaceWatch } from '../audit/file-watch.js';
import type { SessionBackend } from '../backends/session-backend.js';
import { watchersDirOf } from '../config/paths.js';
import { relayWatchers } from '../policy/approval-broker.js';
import { ProxyStateDir } from '../policy/proxy-state.js';
import type { OtlpProtocol } from '../telemetry/forward.js';
import { OtlpRelay } from '../telemetry/relay.js';
import { ProtectedPathGuard, quarantineDir } from '../workspace/protected-guard.js';
import { reapClients } from './clients.js';
import { noteQuarantined } from './quarantine-note.js';
import { ProxySupervisor } from './proxy-supervisor.js';
import { StateBridge } from './state-bridge.js';

export interface HostedSession {
  id: string;
  backend: SessionBackend;
  sessionDir: string;
  dataDir: string;
  projectRoot: string;
  /** The protected paths to guard (the session record's `watched`) and git's submodule tree. */
  watched: readonly string[];
  gitModules?: ConstructorParameters<typeof ProtectedPathGuard>[3];
}

export interface HostOptions {
  audit?: AuditLog | undefined;
  /** Paths the file watch leaves out (isolated paths, .claude). */
  unwatched?: readonly string[];
  /** The relay, for a local session whose telemetry is relayed: where it forwards, if anywhere. */
  relay?: { forward?: { endpoint: string; protocol: OtlpProtocol; headers: Record<string, string> }; spoolDir: string };
  /** Detach terminals whose paude died (the keeper does; an attached paude is such a terminal). */
  reapClients?: boolean;
  /** One line per proxy restart (the keeper's log). */
  report?: (line: string) => void;
  /** Each proxy restart, for the audit log. */
  onProxyRestart?: (restarts: number, error?: string) => Promise<void>;
}

export class SessionHost {
  readonly guard: ProtectedPathGuard;
  readonly supervisor: ProxySupervisor;
  private bridge: StateBridge | undefined;
  private relay: OtlpRelay | undefined;
  private files: WorkspaceWatch | undefined;
  private reaper: NodeJS.Timeout | undefined;
  private watcherRelay: NodeJS.Timeout | undefined;
  private guarding = false;
  private running = false;

  constructor(
    private readonly session: HostedSession,
    private readonly options: HostOptions = {},
  ) {
    const s = session;
    this.guard = new ProtectedPathGuard(s.projectRoot, [...s.watched], quarantineDir(s.dataDir, s.id), s.gitModules);
    this.supervisor = new ProxySupervisor(s.backend, s.id, {
      ...(options.report ? { report: options.report } : {}),
      ...(options.onProxyRestart ? { onRestart: options.onProxyRestart } : {}),
    });
  }

  /** Guards the workspace from now on (before the agent exists, so nothing it makes is missed). */
  guardWorkspace(): void {
    if (this.guarding) return;
    this.guarding = true;
    this.guard.start();
  }

  /**
   * Starts every task for a session whose containers exist. `proxy: false` leaves the proxy
   * unsupervised (a session being started detached: its keeper will look after it).
   */
  async start(what: { proxy?: boolean } = {}): Promise<void> {
    if (this.running) return;
    this.running = true;
    const { id, backend, sessionDir, projectRoot, dataDir } = this.session;
    this.guardWorkspace();
    const state = new ProxyStateDir(join(sessionDir, 'proxy'));
    const relay = (): Promise<void> => relayWatchers(watchersDirOf(dataDir), state).catch(() => undefined);
    await relay();
    this.watcherRelay = setInterval(() => void relay(), 1000);
    this.watcherRelay.unref();
    if (this.options.audit && !backend.remote) {
      this.files = new WorkspaceWatch(this.options.audit, id, projectRoot, [...(this.options.unwatched ?? [])], sessionDir);
      this.files.start();
    }
    if (this.options.relay && !backend.remote) {
      const { forward, spoolDir } = this.options.relay;
      this.relay = new OtlpRelay(join(sessionDir, 'proxy'), sessionDir, forward ? { forwardTo: forward.endpoint, protocol: forward.protocol, headers: forward.headers, spoolDir } : {});
      await this.relay.start();
    }
    if (backend.remote) {
      this.bridge = new StateBridge(backend, id, state);
      this.bridge.start();
    }
    if (this.options.reapClients) this.reaper = setInterval(() => void reapClients(backend, id, sessionDir).catch(() => undefined), 2000);
    if (what.proxy !== false) this.superviseProxy();
  }

  /** Starts looking after the proxy (once the agent runs), and looks once now. */
  superviseProxy(): void {
    this.supervisor.start();
    void this.supervisor.check();
  }

  /**
   * Stops every task (once) and takes the guard's last look (each call looks again); returns
   * everything moved to the quarantine, also noted in the session's directory for
   * `paude sessions` and `paude attach`.
   */
  async stop(): Promise<string[]> {
    if (this.reaper) clearInterval(this.reaper);
    if (this.watcherRelay) clearInterval(this.watcherRelay);
    this.reaper = this.watcherRelay = undefined;
    await this.supervisor.stop();
    const [bridge, relay, files] = [this.bridge, this.relay, this.files];
    this.bridge = this.relay = this.files = undefined;
    await bridge?.stop().catch(() => undefined);
    await relay?.stop();
    await files?.stop();
    this.running = false;
    const moved = await this.guard.stop();
    if (moved.length > 0) await noteQuarantined(this.session.sessionDir, moved);
    return moved;
  }

  /** How often the proxy was started again while this host looked after it. */
  get proxyRestarts(): number {
    return this.supervisor.restarts;
  }
}
