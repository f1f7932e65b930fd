/**
 * The one place that knows which kinds of backend there are. An ordered list of strategies,
 * each able to say "not for this, because…": a container engine (on this host, or on another
 * one over ssh:// or tcp://, which the engine module's transports handle) and a Kubernetes
 * cluster. Each strategy finds the backends sessions may be on, connects to a recorded
 * endpoint, and gets a new session's backend and images ready. Callers (the start use case,
 * the session service, the CLI's cluster-only commands) never branch on the kind themselves.
 */
import { ExitCode, PaudeError } from '../errors.js';
import { recordedFailure, type BackendConfig, type BackendContext, type BackendStrategy, type Discovered, type PreparedBackend, type PrepareOptions, type RecordedEndpoint } from './backend-strategy.js';
import { engineStrategy } from './local/engine-strategy.js';
import { kubernetesStrategy } from './kubernetes/kube-strategy.js';
import type { BackendKind, SessionBackend } from './session-backend.js';

export type { BackendConfig, BackendContext, BackendStrategy, Discovered, PreparedBackend, PrepareOptions, RecordedEndpoint } from './backend-strategy.js';

export class BackendRegistry {
  readonly strategies: readonly BackendStrategy[];
  private readonly connected = new Map<string, Promise<SessionBackend>>();

  constructor(ctx: BackendContext, strategies?: readonly BackendStrategy[]) {
    this.strategies = strategies ?? [kubernetesStrategy(ctx), engineStrategy(ctx)];
  }

  /** The strategy a new session uses; none fitting is one sentence with each one's reason. */
  forStart(config: BackendConfig): BackendStrategy {
    const reasons: string[] = [];
    for (const s of this.strategies) {
      const fit = s.forStart(config);
      if (fit.ok) return s;
      reasons.push(`${s.name}: ${fit.because}`);
    }
    throw new PaudeError(`no backend can run a session with backend.type "${config.type}" (${reasons.join('; ')})`, ExitCode.config);
  }

  /** A new session's backend, images ready. */
  prepare(options: PrepareOptions): Promise<PreparedBackend> {
    return this.forStart(options.config.backend).prepare(options);
  }

  private owner(endpoint: string): BackendStrategy {
    const reasons: string[] = [];
    for (const s of this.strategies) {
      const fit = s.forEndpoint(endpoint);
      if (fit.ok) return s;
      reasons.push(`${s.name}: ${fit.because}`);
    }
    throw new PaudeError(`no backend can reach ${endpoint} (${reasons.join('; ')})`, ExitCode.engine);
  }

  /** Whether the endpoint can be reached without the user's configuration (a quick lookup). */
  selfContained(endpoint: string): boolean {
    return !this.owner(endpoint).needsConfig(endpoint);
  }

  /** The backend behind a recorded endpoint, connected once per registry. */
  connect(endpoint: string, hint?: BackendKind): Promise<SessionBackend> {
    let backend = this.connected.get(endpoint);
    if (!backend) {
      backend = this.owner(endpoint).connect(endpoint, hint);
      this.connected.set(endpoint, backend);
      // A failed connection is tried again next time.
      backend.catch(() => this.connected.delete(endpoint));
    }
    return backend;
  }

  /** Every backend sessions may be on: found by each strategy, plus the recorded endpoints. */
  async discover(recorded: readonly RecordedEndpoint[]): Promise<Discovered> {
    const mine = (s: BackendStrategy): RecordedEndpoint[] => recorded.filter((r) => s.forEndpoint(r.endpoint).ok);
    const found = await Promise.all(this.strategies.map((s) => s.discover(mine(s))));
    // One engine can answer through several ways (a socket and DOCKER_HOST): listed once.
    const backends = [...new Map(found.flatMap((f) => f.backends).map((b) => [b.endpoint, b] as const)).values()];
    const unowned = recorded.filter((r) => !this.strategies.some((s) => s.forEndpoint(r.endpoint).ok));
    return {
      backends,
      unreachable: [...found.flatMap((f) => f.unreachable), ...unowned.map((r) => recordedFailure(r, new Error('no backend knows this kind of endpoint')))],
    };
  }
}

/** Groups session records by the endpoint they were started on. */
export function recordedEndpoints(records: ReadonlyArray<{ id: string; endpoint: string; backend: BackendKind }>): RecordedEndpoint[] {
  const by = new Map<string, RecordedEndpoint>();
  for (const r of records) {
    const e = by.get(r.endpoint) ?? { endpoint: r.endpoint, kind: r.backend, sessions: [] };
    e.sessions.push(r.id);
    by.set(r.endpoint, e);
  }
  return [...by.values()];
}
