/**
 * One planned session from creation to its end in this process: creates it, records it, copies
 * the Claude configuration and secrets in, then either hands the terminal over (tmux; leaving
 * it running hands the session to its keeper) or connects the command's stdio directly. Its
 * ending is written once: whatever happened, a session that is not handed over is settled in
 * the audit log and removed, and what the guard moved is said.
 */
import { homedir, constants as osConstants } from 'node:os';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ResolvedConfig } from '../../config/load-config.js';
import type { AuditLog } from '../../audit/audit-log.js';
import { AUDIT_HOOKS, flushSinks, hookSpoolOf, openAuditLog, recordProxyRestart, recordQuarantined, recordSessionStart, settleSession } from '../../audit/audit-service.js';
import { faultPoint, traceStep } from '../../faults.js';
import { WriteError } from '../../fs/atomic-write.js';
import { packDirectory, packTar } from '../../fs/tar.js';
import { copyClaudeConfig } from '../../run/claude-config.js';
import { SECRETS_DIR } from '../../run/credentials.js';
import { ensureKeeper } from '../../sessions/keeper.js';
import { claimOwner, releaseOwner } from '../../sessions/owner.js';
import { SessionHost } from '../../sessions/session-host.js';
import { writeSessionRecord } from '../../sessions/session-record.js';
import { passthrough, type Stdio } from '../../sessions/terminal.js';
import { copyWorkspaceIn, neverSyncedBack, pullWorkspace } from '../../sync/session-sync.js';
import { quarantineDir } from '../../workspace/protected-guard.js';
import { handOverTerminal } from '../attach-session.js';
import { bringBackClaudeConfig } from './claude-config-back.js';
import { HOME_IN_CONTAINER, type SessionPlan } from './plan.js';

export interface RunHooks {
  stdio: Stdio;
  env: NodeJS.ProcessEnv;
  detach: boolean;
  syncClaudeConfig: boolean;
  confirm?: (question: string) => Promise<boolean>;
  onStarted?: (session: { id: string; backend: SessionPlan['backend'] }) => void;
  interrupts?: (onInterrupt: (signal: NodeJS.Signals) => void) => () => void;
}

export class SessionRun {
  private readonly audit: AuditLog | undefined;
  private readonly host: SessionHost;
  private readonly ended: { exitCode: number | null; how: string; startedAt?: string } = { exitCode: null, how: 'start failed' };
  /** Set once the session is handed over (to its keeper, or left running): nothing is removed. */
  private keep = false;
  private failure: unknown;
  private stoppedBy: NodeJS.Signals | undefined;
  private detachNow: (() => void) | undefined;
  private readonly short: string;

  constructor(
    private readonly resolved: ResolvedConfig,
    private readonly plan: SessionPlan,
    private readonly o: RunHooks,
  ) {
    const { config, paths, project } = resolved;
    this.short = plan.id.slice('paude-'.length);
    // The session's story (audit): its start, its end, and the proxy's requests, recorded from
    // the access log before the session's directory (and that log) goes.
    this.audit = openAuditLog(resolved);
    const audit = this.audit;
    // Its host tasks while this paude looks after it: the workspace is guarded from now on; the
    // proxy is brought back if it dies; the relay, the file watch or the state bridge once it runs.
    const { layout } = plan;
    this.host = new SessionHost(
      { id: plan.id, backend: plan.backend, sessionDir: plan.sessionDir, dataDir: paths.dataDir, projectRoot: project.root, watched: layout.watched, ...(layout.gitModules ? { gitModules: layout.gitModules } : {}) },
      {
        audit,
        unwatched: [...config.isolate, '.claude'],
        ...(plan.relayed ? { relay: { ...(plan.forward ? { forward: plan.forward } : {}), spoolDir: join(paths.dataDir, 'otlp-spool') } } : {}),
        onProxyRestart: (restarts, error) => recordProxyRestart(audit, plan.id, restarts, error),
      },
    );
    this.host.guardWorkspace();
  }

  private stoppedCode(): number | undefined {
    return this.stoppedBy ? 128 + (osConstants.signals[this.stoppedBy] ?? 1) : undefined;
  }

  /**
   * A paude that is told to stop while the session is starting takes it along, leaving nothing
   * behind. Once a terminal session is attached, a signal (the terminal closed) only detaches:
   * the session goes on, as in tmux. A session without tmux ends with its paude.
   */
  private onInterrupt(signal: NodeJS.Signals): void {
    if (this.detachNow) return this.detachNow();
    this.stoppedBy ??= signal;
    void this.plan.backend.killAgent(this.plan.id);
  }

  async run(): Promise<number> {
    const stopInterrupts = this.o.interrupts?.((signal) => this.onInterrupt(signal)) ?? ((): void => undefined);
    try {
      await this.launch();
      const early = this.stoppedCode();
      if (early !== undefined) return early;
      return this.plan.inTmux ? await this.inTmux() : await this.direct();
    } catch (error) {
      this.failure = error;
      throw error;
    } finally {
      await this.host.supervisor.stop();
      const restarts = this.host.proxyRestarts;
      if (restarts > 0 && !this.keep) this.o.stdio.stderr.write(`paude: the session's proxy stopped ${restarts === 1 ? 'once' : `${restarts} times`} and was started again (the agent had no network meanwhile)\n`);
      if (!this.keep) await this.end();
      stopInterrupts();
    }
  }

  /** Creates the session, records it (file and audit log), and fills the agent's own storage. */
  private async launch(): Promise<void> {
    const { plan, resolved, audit } = this;
    const { config, paths, project } = resolved;
    const { backend, id } = plan;
    await claimOwner(plan.sessionDir, 'starter');
    faultPoint('start.owner-claimed');
    await backend.create(plan.spec);
    this.ended.startedAt = new Date().toISOString();
    const listed = (entries: EffectivePolicyEntries) => entries.map((e) => ({ text: e.text, source: e.source }));
    await writeSessionRecord(paths.sessionsDir, {
      version: 1,
      id,
      projectRoot: project.root,
      workdir: plan.workdir,
      backend: backend.kind,
      endpoint: backend.endpoint,
      startedAt: this.ended.startedAt,
      command: plan.command,
      tmux: plan.inTmux,
      watched: plan.layout.watched,
      gitModules: plan.layout.gitModules,
      policy: {
        mode: plan.policy.mode,
        approvalTimeoutSeconds: plan.policy.approvalTimeoutSeconds,
        // Project approvals are read live from their store, not frozen here.
        allow: listed(plan.policy.allow.filter((e) => e.source !== 'approval')),
        deny: listed(plan.policy.deny.filter((e) => e.source !== 'approval')),
      },
    });
    faultPoint('start.record-written');
    const start = { id, workspace: project.root, backend: backend.kind, endpoint: backend.endpoint, image: plan.spec.agent.image, command: plan.command, mode: plan.policy.mode };
    await recordSessionStart(audit, { ...start, allow: listed(plan.policy.allow), deny: listed(plan.policy.deny) }, this.o.env);
    faultPoint('start.audit-recorded');

    // Workspace changes seen from the host (a local engine writes the directory itself), the
    // relay, a remote session's state bridge; the proxy is supervised once the agent runs.
    await this.host.start({ proxy: false });
    if (backend.remote) await copyWorkspaceIn(backend, id, project.root, plan.sessionDir, [...config.isolate, '.claude'], plan.owner, plan.creds.mounts, this.o.stdio.stderr);

    // The container's own copy of ~/.claude and the project's .claude (nothing goes back).
    // Claude Code's hooks report each tool use to the audit log (as agent-hook events).
    const settings = audit ? { ...plan.creds.settings, hooks: AUDIT_HOOKS } : plan.creds.settings;
    const copy = await copyClaudeConfig({ home: this.o.env.HOME ?? homedir(), workspace: project.root, owner: plan.owner, plugins: config.plugins, settings, copyHostConfig: config.claude.copyHostConfig });
    for (const w of copy.warnings) this.o.stdio.stderr.write(`paude: warning: ${w}\n`);
    await backend.copyIntoAgent(id, HOME_IN_CONTAINER, packTar(copy.entries));
    if (plan.layout.claudeDir) {
      // Into the session's own .claude volume (the backend has given it to the agent's user). Sent
      // to the volume's own path: Podman unpacks a copy aimed at the workspace root into the
      // host's directory beneath the volume, also for entries under .claude/.
      await backend.copyIntoAgent(id, join(project.root, '.claude'), packDirectory(plan.layout.claudeDir, '.', plan.owner));
    }
    faultPoint('start.config-copied');
  }

  private async secrets(): Promise<void> {
    const { backend, id, creds, owner } = this.plan;
    for (const [name, value] of Object.entries(creds.secrets)) await backend.writeAgentFile(id, `${SECRETS_DIR}/${name}`, value, owner);
    if (Object.keys(creds.secrets).length > 0) await backend.writeAgentFile(id, `${SECRETS_DIR}/.ready`, '', owner);
  }

  /** From here on the keeper looks after the session. */
  private async handOver(): Promise<void> {
    await this.host.stop();
    await ensureKeeper(this.plan.sessionDir, this.plan.id, this.o.env);
    // Only now: a start whose keeper could not be started (a full disk) is removed again.
    this.keep = true;
    faultPoint('detach.keeper-started');
    await releaseOwner(this.plan.sessionDir, 'starter');
    faultPoint('detach.handed-over');
  }

  /** A tmux session: detached at once (paude --detach), or attached until detached or ended. */
  private async inTmux(): Promise<number> {
    const { backend, id } = this.plan;
    const err = this.o.stdio.stderr;
    await backend.startAgent(id);
    faultPoint('start.agent-started');
    if (!this.o.detach) this.host.superviseProxy();
    await this.secrets();
    faultPoint('start.secrets-written');
    const late = this.stoppedCode();
    if (late !== undefined) return late;
    this.o.onStarted?.({ id, backend });
    if (this.o.detach) {
      await this.handOver();
      this.o.stdio.stdout.write(`${id}\n`);
      err.write(`paude: ${id} runs in the background: paude attach ${this.short} to see it, paude stop ${this.short} to end it\n`);
      return 0;
    }
    // An interrupt while attached (the terminal closed) detaches: the session goes on.
    const interrupted = new Promise<'signal'>((resolve) => (this.detachNow = () => resolve('signal')));
    const outcome = await handOverTerminal(backend, id, this.o.stdio as Parameters<typeof handOverTerminal>[2], { term: this.o.env.TERM ?? 'xterm-256color', sessionDir: this.plan.sessionDir, interrupted });
    if (outcome.kind === 'detached') {
      // Leaving a session the user wants to go on: if its keeper cannot be started, it goes on
      // without one (paude attach starts one) rather than being removed.
      await this.handOver().catch((error: unknown) => {
        this.keep = true;
        err.write(`paude: warning: ${(error as Error).message}; ${id} goes on without a keeper until paude attach ${this.short}\n`);
      });
      err.write(`paude: detached from ${id}, which goes on: paude attach ${this.short} to return, paude stop ${this.short} to end it\n`);
      return 0;
    }
    Object.assign(this.ended, { exitCode: outcome.code, how: 'exited' });
    await this.bringBack();
    return this.stoppedCode() ?? outcome.code;
  }

  /** No terminal to keep (paude -p, pipes): the command's stdio is the user's, until it ends. */
  private async direct(): Promise<number> {
    const { backend, id, tty } = this.plan;
    const stdio = this.o.stdio;
    const io = await backend.attachAgent(id);
    const terminal = passthrough(io, stdio, tty);
    try {
      await backend.startAgent(id);
      faultPoint('start.agent-started');
      this.host.superviseProxy();
      if (tty && stdio.stdout.rows && stdio.stdout.columns) await io.resize(stdio.stdout.rows, stdio.stdout.columns);
      await this.secrets();
      faultPoint('start.secrets-written');
      this.o.onStarted?.({ id, backend });
      const [code] = await Promise.all([backend.waitAgent(id), io.ended]);
      Object.assign(this.ended, { exitCode: code, how: this.stoppedBy ? `stopped by ${this.stoppedBy}` : 'exited' });
      terminal.restore();
      await this.bringBack();
      return this.stoppedCode() ?? code;
    } finally {
      terminal.restore();
    }
  }

  /** After the command: a remote session's workspace, and .claude/ changes when asked for. */
  private async bringBack(): Promise<void> {
    const { backend, id, layout } = this.plan;
    const { config, paths, project } = this.resolved;
    if (backend.remote) await pullWorkspace(backend, id, project.root, this.plan.sessionDir, paths.dataDir, neverSyncedBack(config), this.o.stdio.stderr);
    if (layout.claudeDir && (config.claude.persistProjectConfig || this.o.syncClaudeConfig)) {
      await bringBackClaudeConfig(backend, id, layout.claudeDir, config.claude.persistProjectConfig, { out: this.o.stdio.stderr, syncClaudeConfig: this.o.syncClaudeConfig, ...(this.o.confirm ? { confirm: this.o.confirm } : {}) });
    }
  }

  /** The end of a session that is not handed over: settled in the audit log, then removed. */
  private async end(): Promise<void> {
    const { backend, id, sessionDir } = this.plan;
    const { paths } = this.resolved;
    const { audit, host, ended } = this;
    traceStep('end.begin');
    await host.stop();
    // Once the command has ended, the agent's hook spool is read while the proxy stops (both
    // are for the story below); otherwise after the agent has been stopped.
    const readSpool = hookSpoolOf(backend, id);
    const spool = ended.exitCode !== null && audit ? readSpool?.().catch(() => undefined) : undefined;
    // The proxy's last requests reach its access log as it stops (read by settleSession below).
    if (ended.startedAt && audit && !backend.remote) {
      await backend.stop(id, 0).catch(() => undefined);
      // The agent has ended: what it left at protected paths goes now, and is in the story.
      await host.stop();
      traceStep('end.proxy-stopped');
    }
    if (ended.startedAt) {
      await settleSession(audit, paths, id, ended, spool ? () => spool : readSpool).catch((error: unknown) => {
        // The start failed for the same reason (a full disk): that one sentence says it.
        const same = error instanceof WriteError && this.failure instanceof WriteError && error.code === this.failure.code;
        if (!same) this.o.stdio.stderr.write(`paude: warning: the audit log could not be written (${(error as Error).message})\n`);
      });
    }
    traceStep('end.settled');
    await backend.remove(id).catch(() => undefined);
    traceStep('end.removed');
    await rm(sessionDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
    // The guard's very last look, without a note in the directory just removed.
    const moved = await host.guard.stop();
    if (ended.startedAt && moved.length > 0) await recordQuarantined(audit, paths, id).catch(() => undefined);
    await flushSinks(audit);
    traceStep('end.done');
    if (moved.length > 0) {
      const quarantine = quarantineDir(paths.dataDir, id);
      this.o.stdio.stderr.write(
        `paude: the session created ${moved.join(', ')}, which paude protects (they configure or run things on your host); moved to ${quarantine} — review before moving anything back\n`,
      );
    }
  }
}

type EffectivePolicyEntries = SessionPlan['policy']['allow'];
