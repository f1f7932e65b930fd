/**
 * Brings a session's proxy back when it dies while the agent still runs (squid crashed, was
 * killed, the container was stopped by hand). Until then the agent has no network at all: its
 * only way out is the proxy's socket (fail closed). The proxy is started again as it was (the
 * same container and state directory), so the policy and rules file are the same and squid
 * appends to the same access log: the live events and the audit log go on where they stopped,
 * each request once. Run by whoever looks after the session on the host: the attached `paude`
 * that started it, or the keeper of a detached one.
 */
import type { SessionBackend } from '../backends/session-backend.js';
import { faultPoint } from '../faults.js';

export interface SupervisorOptions {
  /** How often the proxy's state is asked (one engine call). */
  intervalMs?: number;
  /** One line per restart or failed restart (the keeper's log). */
  report?: (line: string) => void;
  /** Each restart (`error` unset) or failed restart, for the audit log. */
  onRestart?: (restarts: number, error?: string) => Promise<void>;
}

/** A proxy that dies again this soon after a restart is restarted after a growing pause. */
const STABLE_MS = 10_000;
const MAX_BACKOFF_MS = 60_000;

export class ProxySupervisor {
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;
  private lastRestart = 0;
  private backoffMs = 0;
  /** When the proxy seen dead is to be started (later than at once when it keeps dying). */
  private dueAt: number | undefined;
  /** How many times the proxy was started again. */
  restarts = 0;

  constructor(
    private readonly backend: SessionBackend,
    private readonly id: string,
    private readonly options: SupervisorOptions = {},
  ) {}

  start(): void {
    if (!this.backend.proxyState || !this.backend.startProxy || this.timer) return;
    this.timer = setInterval(() => void this.check(), this.options.intervalMs ?? 1000);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.checking;
  }

  /** One look; restarts the proxy when it is down and the agent runs. */
  check(): Promise<void> {
    this.checking ??= this.look().finally(() => (this.checking = undefined));
    return this.checking;
  }

  private async look(): Promise<void> {
    const backend = this.backend;
    if (!backend.proxyState || !backend.startProxy) return;
    try {
      if ((await backend.proxyState(this.id)) !== 'exited') return;
      // A session whose command ended stops its proxy on purpose (and paude stop stops the agent
      // first): only a proxy that died under a running agent is brought back.
      if ((await backend.inspect(this.id))?.agent !== 'running') return;
      const now = Date.now();
      if (this.dueAt === undefined) {
        this.backoffMs = now - this.lastRestart < STABLE_MS ? Math.min(MAX_BACKOFF_MS, Math.max(1000, this.backoffMs * 2)) : 0;
        this.dueAt = now + this.backoffMs;
      }
      if (now < this.dueAt) return;
      this.dueAt = undefined;
      this.lastRestart = now;
      faultPoint('proxy.restarting');
      await backend.startProxy(this.id);
      this.restarts++;
      this.options.report?.(`${this.id}: its proxy had stopped while the agent ran (the agent had no network meanwhile); started it again with the same policy`);
      await this.options.onRestart?.(this.restarts).catch(() => undefined);
    } catch (error) {
      const why = (error as Error).message.split('\n')[0] ?? '';
      this.options.report?.(`${this.id}: could not start its proxy again (${why}); the agent has no network`);
      await this.options.onRestart?.(this.restarts, why).catch(() => undefined);
    }
  }
}
