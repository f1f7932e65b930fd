/**
 * `paude [ARGS]` and `paude --shell [-- CMD]`: one session from start to exit. Loads the
 * configuration, finds the engine, gets the images, starts proxy and agent together, copies
 * the Claude configuration and secrets into the container's own storage, connects the
 * terminal, and removes everything when the command ends. Returns the command's exit code.
 */
import { existsSync, statSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { constants as osConstants, homedir } from 'node:os';
import { join, relative } from 'node:path';
import { loadConfig, type FlagOverrides } from '../config/load-config.js';
import type { ResolvedConfig } from '../config/load-config.js';
import { defaultDiscoveryEnv, findEngine } from '../backends/engine/discovery.js';
import { LocalBackend } from '../backends/local/local-backend.js';
import type { SessionBackend } from '../backends/session-backend.js';
import { kubernetesBackend } from '../backends/connect-backend.js';
import { ExitCode, PaudeError } from '../errors.js';
import { buildEffectivePolicy } from '../policy/effective-policy.js';
import { readScopedRules, projectRulesFile } from '../policy/policy-stores.js';
import { registryGroupsOfTexts, sharedRegistryResolver, withRegistryHosts, type RegistryGroupResolver } from '../policy/registry-groups.js';
import { proxyEnvironment } from '../policy/proxy-env.js';
import { copyClaudeConfig } from './claude-config.js';
import { agentCredentials, SECRETS_DIR } from './credentials.js';
import { newSessionId } from './session-id.js';
import { sessionImages } from './session-images.js';
import { passthrough, type Stdio } from '../sessions/terminal.js';
import { workspaceLayout } from '../workspace/workspace-mounts.js';
import { copyWorkspaceIn, neverSyncedBack, pullWorkspace } from '../sync/session-sync.js';
import { applyClaudeChange, claudeChanges } from './claude-sync.js';
import { packDirectory, packTar, readTar } from '../fs/tar.js';
import { quarantineDir } from '../workspace/protected-guard.js';
import { writeSessionRecord } from '../sessions/session-record.js';
import { otelEnvironment } from '../telemetry/otel-env.js';
import { AUDIT_HOOKS, flushSinks, hookSpoolOf, openAuditLog, recordProxyRestart, recordQuarantined, recordSessionStart, settleSession } from '../audit/audit-service.js';
import { attachTerminal, showLastScreen } from '../sessions/attach.js';
import { ensureKeeper } from '../sessions/keeper.js';
import { SessionHost } from '../sessions/session-host.js';
import { claimOwner, releaseOwner } from '../sessions/owner.js';
import { tmuxKey } from '../config/detach-key.js';
import { faultPoint } from '../faults.js';
import { WriteError, writeFailure } from '../fs/atomic-write.js';

export type SessionCommand = { kind: 'claude'; args: string[] } | { kind: 'shell'; command: string[] };

export interface RunOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  flags: FlagOverrides;
  command: SessionCommand;
  rebuild: boolean;
  stdio: Stdio;
  /** Loads configuration (the CLI passes its trust-prompting loader). */
  load?: (flags: FlagOverrides) => Promise<ResolvedConfig>;
  /** Extra name -> address entries for the proxy's hosts file (tests). */
  extraHosts?: Record<string, string>;
  labels?: Record<string, string>;
  /** Offer the session's changes to the project's .claude/ (paude --sync-claude-config). */
  syncClaudeConfig?: boolean;
  /** Asks the user a yes/no question; absent when nobody can answer. */
  confirm?: (question: string) => Promise<boolean>;
  /** Called once the session is up (tests and the detach path use it). */
  onStarted?: (session: { id: string; backend: SessionBackend }) => void;
  /** Start the session in the background, print its id and return (paude --detach). */
  detach?: boolean;
  /**
   * The user's interrupts (the CLI passes SIGTERM, SIGHUP and SIGINT): calls back with each and
   * returns the unsubscribe. While starting, an interrupt takes the session along; once attached
   * it only detaches (the terminal closed), and runSession returns.
   */
  interrupts?: (onInterrupt: (signal: NodeJS.Signals) => void) => () => void;
  /** Resolves @npm, @pypi and the other registry groups from the package managers' configuration (default: this process's). */
  registryGroups?: RegistryGroupResolver;
}

const HOME_IN_CONTAINER = '/home/paude';

export async function runSession(o: RunOptions): Promise<number> {
  const resolved = await (o.load ? o.load(o.flags) : loadConfig({ cwd: o.cwd, env: o.env, flags: o.flags, trust: 'require' }));
  const { config, paths, project } = resolved;
  for (const w of resolved.warnings) o.stdio.stderr.write(`paude: warning: ${w}\n`);
  if (config.network.mode === 'open') {
    o.stdio.stderr.write('paude: WARNING: network filtering is OFF for this session (open mode): the agent can reach any host.\n');
  }
  // Package registry groups the configuration uses are looked up while the engine and images get
  // ready (the clients take a moment); nothing runs when it uses none. resolve() never rejects.
  const registryGroups = o.registryGroups ?? sharedRegistryResolver();
  void registryGroups.resolve(registryGroupsOfTexts([...config.network.allowlist, ...config.network.denylist]));

  const { backend, images } = await sessionBackend(config, paths, o, project.devcontainerJson);

  const home = o.env.HOME ?? homedir();
  const agentUser = agentIdentity(project.root);
  if (agentUser.warning) o.stdio.stderr.write(`paude: warning: ${agentUser.warning}\n`);
  const creds = agentCredentials(config, o.env, home, existsSync);
  for (const w of creds.warnings) o.stdio.stderr.write(`paude: warning: ${w}\n`);
  const id = newSessionId();
  const project_ = await readScopedRules(projectRulesFile(paths.dataDir, project.root));
  // OpenTelemetry: the user's OTEL_* variables, or telemetry.otel; the collector is allowed.
  // Local engines get paude's relay next to the proxy (token counts, forwarding to the collector).
  const facts = { id, workspace: project.root, backend: backend.kind, networkMode: config.network.mode };
  // A cluster session with a collector image exports through a collector next to its proxy,
  // like the relay of local engines; other remote sessions export directly.
  const collectorImage = backend.kind === 'kubernetes' ? config.backend.kubernetes?.otelCollectorImage : undefined;
  const viaCollector = collectorImage ? otelEnvironment(config, o.env, facts, true) : undefined;
  const relayed = !backend.remote || viaCollector?.forward !== undefined;
  const otel = viaCollector?.forward ? viaCollector : otelEnvironment(config, o.env, facts, relayed);
  const collector =
    collectorImage && otel.forward
      ? {
          image: collectorImage,
          ...otel.forward,
          attributes: { 'paude.session_id': id, 'paude.workspace': project.root, 'paude.backend': backend.kind, 'paude.network_mode': config.network.mode, ...(config.telemetry.otel.enabled ? config.telemetry.otel.attributes : {}) },
        }
      : undefined;
  const { policy } = await withRegistryHosts(
    buildEffectivePolicy({ config, sources: resolved.sources, projectApprovals: project_, session: { allow: [...creds.allow, ...otel.allow], deny: [] } }),
    registryGroups,
  );
  for (const w of registryGroups.takeWarnings()) o.stdio.stderr.write(`paude: warning: ${w}\n`);

  const sessionDir = join(paths.sessionsDir, id);
  await mkdir(sessionDir, { recursive: true, mode: 0o700 }).catch((error: unknown) => {
    throw writeFailure(sessionDir, error);
  });
  faultPoint('start.dir-created');
  const layout = workspaceLayout(project.root, config.protect, config.isolate);
  const workdir = relative(project.root, o.cwd).startsWith('..') ? project.root : o.cwd;
  const tty = o.stdio.stdin.isTTY === true && o.stdio.stdout.isTTY === true;
  // A terminal session runs in tmux inside the agent, so that it can be detached and attached
  // again; without a terminal (paude -p, pipes) the command's stdio is connected directly.
  const inTmux = tty || o.detach === true;
  const command = o.command.kind === 'claude' ? ['claude', ...config.claude.args, ...o.command.args] : o.command.command.length ? o.command.command : ['bash', '-l'];
  const hasSecrets = Object.keys(creds.secrets).length > 0;
  const labels = { ...o.labels };

  // What never comes back from a remote session's copy of the workspace.
  const remoteSkip = neverSyncedBack(config);
  const quarantine = quarantineDir(paths.dataDir, id);
  // The session's story (audit): its start, its end, and the proxy's requests, recorded from
  // the access log before the session's directory (and that log) goes.
  const audit = openAuditLog(resolved);
  // Its host tasks while this paude looks after it: the workspace is guarded from now on; the
  // proxy is brought back if it dies; the relay, the file watch or the state bridge once it runs.
  const host = new SessionHost(
    { id, backend, sessionDir, dataDir: paths.dataDir, projectRoot: project.root, watched: layout.watched, ...(layout.gitModules ? { gitModules: layout.gitModules } : {}) },
    {
      audit,
      unwatched: [...config.isolate, '.claude'],
      ...(relayed ? { relay: { ...(otel.forward ? { forward: otel.forward } : {}), spoolDir: join(paths.dataDir, 'otlp-spool') } } : {}),
      onProxyRestart: (restarts, error) => recordProxyRestart(audit, id, restarts, error),
    },
  );
  host.guardWorkspace();
  const ended: { exitCode: number | null; how: string; startedAt?: string } = { exitCode: null, how: 'start failed' };
  const cleanup = async (): Promise<void> => {
    await host.stop();
    // The proxy's last requests reach its access log as it stops (read by settleSession below).
    if (ended.startedAt && audit && !backend.remote) {
      await backend.stop(id, 0).catch(() => undefined);
      // The agent has ended: what it left at protected paths goes now, and is in the story.
      await host.stop();
    }
    if (ended.startedAt) {
      await settleSession(audit, paths, id, ended, hookSpoolOf(backend, id)).catch((error: unknown) => {
        // The start failed for the same reason (a full disk): that one sentence says it.
        if (!(error instanceof WriteError && failed.error instanceof WriteError && error.code === failed.error.code)) o.stdio.stderr.write(`paude: warning: the audit log could not be written (${(error as Error).message})\n`);
      });
    }
    await backend.remove(id).catch(() => undefined);
    await rm(sessionDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
    // The guard's very last look, without a note in the directory just removed.
    const moved = await host.guard.stop();
    if (ended.startedAt && moved.length > 0) await recordQuarantined(audit, paths, id).catch(() => undefined);
    await flushSinks(audit);
    if (moved.length > 0) {
      o.stdio.stderr.write(
        `paude: the session created ${moved.join(', ')}, which paude protects (they configure or run things on your host); moved to ${quarantine} — review before moving anything back\n`,
      );
    }
  };
  // A paude that is told to stop while the session is starting takes it along, leaving nothing
  // behind. Once a terminal session is attached, a signal (the terminal closed) only detaches:
  // the session goes on, as in tmux. A session without tmux ends with its paude.
  const stopped: { by?: NodeJS.Signals } = {};
  const stoppedCode = (): number | undefined => (stopped.by ? 128 + (osConstants.signals[stopped.by] ?? 1) : undefined);
  const handover: { detach?: () => void } = {};
  const onSignal = (signal: NodeJS.Signals): void => {
    if (handover.detach) return handover.detach();
    stopped.by ??= signal;
    void backend.killAgent(id);
  };
  const stopInterrupts = o.interrupts?.(onSignal) ?? ((): void => undefined);
  let keep = false;
  const failed: { error?: unknown } = {};
  try {
    await claimOwner(sessionDir, 'starter');
    faultPoint('start.owner-claimed');
    await backend.create({
      id,
      stateDir: sessionDir,
      dataDir: paths.dataDir,
      projectRoot: project.root,
      workdir,
      policy,
      labels,
      proxy: { image: images.proxy, extraHosts: { ...config.network.hosts, ...o.extraHosts }, ...(creds.proxyProvider ? { provider: creds.proxyProvider } : {}), ...(collector ? { collector } : {}) },
      agent: {
        image: images.agent,
        command,
        env: {
          ...proxyEnvironment(),
          ...otel.env,
          ...config.devcontainer?.containerEnv,
          ...creds.env,
          TERM: o.env.TERM ?? 'xterm-256color',
          PAUDE_SESSION: id,
          ...(hasSecrets ? { PAUDE_SECRETS: '1' } : {}),
          ...(inTmux
            ? {
                PAUDE_TMUX: '1',
                PAUDE_DETACH_KEY: tmuxKey(config.sessions.detachKeys),
                PAUDE_IDLE_SECONDS: String(Math.round(config.sessions.idleTimeoutMinutes * 60)),
                ...(o.env.PAUDE_IDLE_CHECK_SECONDS ? { PAUDE_IDLE_CHECK_SECONDS: o.env.PAUDE_IDLE_CHECK_SECONDS } : {}),
                // The terminal's size, also when stdout is captured (id=$(paude --detach ...)).
                PAUDE_ROWS: String(o.stdio.stdout.rows ?? (o.stdio.stderr as { rows?: number }).rows ?? 24),
                PAUDE_COLS: String(o.stdio.stdout.columns ?? (o.stdio.stderr as { columns?: number }).columns ?? 80),
                PAUDE_WAIT_CLIENT: o.detach ? '0' : '1',
              }
            : {}),
          ...(o.command.kind === 'shell' ? {} : { CLAUDE_CONFIG_DIR: `${HOME_IN_CONTAINER}/.claude` }),
        },
        user: { uid: agentUser.uid, gid: agentUser.gid },
        tty: tty && !inTmux,
        mounts: [...layout.mounts, ...creds.mounts],
        tmpfs: { [SECRETS_DIR]: 'rw,mode=1777,size=1m', '/tmp': 'rw,exec,mode=1777', '/var/tmp': 'rw,exec,mode=1777', '/run/lock': 'rw,mode=1777' },
        localVolumes: [
          // The agent's home: a session volume, filled from the image on first use.
          { name: 'home', target: HOME_IN_CONTAINER },...layout.isolated.map((v) => ({ name: v.suffix, target: v.target })), ...(layout.claudeDir ? [{ name: 'claude', target: layout.claudeDir }] : [])],
        resources: { memory: config.resources.memory, pids: config.resources.pids, cpus: config.resources.cpus },
      },
    });
    ended.startedAt = new Date().toISOString();
    await writeSessionRecord(paths.sessionsDir, {
      version: 1,
      id,
      projectRoot: project.root,
      workdir,
      backend: backend.kind,
      endpoint: backend.endpoint,
      startedAt: ended.startedAt,
      command,
      tmux: inTmux,
      watched: layout.watched,
      gitModules: layout.gitModules,
      policy: {
        mode: policy.mode,
        approvalTimeoutSeconds: policy.approvalTimeoutSeconds,
        // Project approvals are read live from their store, not frozen here.
        allow: policy.allow.filter((e) => e.source !== 'approval').map((e) => ({ text: e.text, source: e.source })),
        deny: policy.deny.filter((e) => e.source !== 'approval').map((e) => ({ text: e.text, source: e.source })),
      },
    });
    faultPoint('start.record-written');

    await recordSessionStart(
      audit,
      {
        id,
        workspace: project.root,
        backend: backend.kind,
        endpoint: backend.endpoint,
        image: images.agent,
        command,
        mode: policy.mode,
        allow: policy.allow.map((e) => ({ text: e.text, source: e.source })),
        deny: policy.deny.map((e) => ({ text: e.text, source: e.source })),
      },
      o.env,
    );
    faultPoint('start.audit-recorded');

    // Workspace changes seen from the host (a local engine writes the directory itself), the
    // relay, a remote session's state bridge; the proxy is supervised once the agent runs.
    await host.start({ proxy: false });
    const owner = { uid: agentUser.uid, gid: agentUser.gid };
    if (backend.remote) await copyWorkspaceIn(backend, id, project.root, sessionDir, [...config.isolate, '.claude'], owner, creds.mounts, o.stdio.stderr);

    // The container's own copy of ~/.claude and the project's .claude (nothing goes back).
    // Claude Code's hooks report each tool use to the audit log (as agent-hook events).
    const settings = audit ? { ...creds.settings, hooks: AUDIT_HOOKS } : creds.settings;
    const copy = await copyClaudeConfig({ home, workspace: project.root, owner, plugins: config.plugins, settings, copyHostConfig: config.claude.copyHostConfig });
    for (const w of copy.warnings) o.stdio.stderr.write(`paude: warning: ${w}\n`);
    await backend.copyIntoAgent(id, HOME_IN_CONTAINER, packTar(copy.entries));
    if (layout.claudeDir) {
      // Unpacked from the workspace root so that the '.claude/' entry gives the (fresh, root-owned)
      // volume to the agent's user; every entry lies under .claude/, i.e. in the volume.
      await backend.copyIntoAgent(id, project.root, packDirectory(layout.claudeDir, '.claude', owner));
    }
    faultPoint('start.config-copied');

    const early = stoppedCode();
    if (early !== undefined) return early;
    const secrets = async (): Promise<void> => {
      for (const [name, value] of Object.entries(creds.secrets)) await backend.writeAgentFile(id, `${SECRETS_DIR}/${name}`, value, owner);
      if (hasSecrets) await backend.writeAgentFile(id, `${SECRETS_DIR}/.ready`, '', owner);
    };
    if (inTmux) {
      await backend.startAgent(id);
      faultPoint('start.agent-started');
      if (!o.detach) host.superviseProxy();
      await secrets();
      faultPoint('start.secrets-written');
      const late = stoppedCode();
      if (late !== undefined) return late;
      o.onStarted?.({ id, backend });
      const short = id.slice('paude-'.length);
      const handOver = async (): Promise<void> => {
        // From here on the keeper looks after the session.
        await host.stop();
        await ensureKeeper(sessionDir, id, o.env);
        // Only now: a start whose keeper could not be started (a full disk) is removed again.
        keep = true;
        faultPoint('detach.keeper-started');
        await releaseOwner(sessionDir, 'starter');
        faultPoint('detach.handed-over');
      };
      if (o.detach) {
        await handOver();
        o.stdio.stdout.write(`${id}\n`);
        o.stdio.stderr.write(`paude: ${id} runs in the background: paude attach ${short} to see it, paude stop ${short} to end it\n`);
        return 0;
      }
      // Leaving a session the user wants to go on: if its keeper cannot be started, it goes on
      // without one (paude attach starts one) rather than being removed.
      const leave = (): Promise<void> =>
        handOver().catch((error: unknown) => {
          keep = true;
          o.stdio.stderr.write(`paude: warning: ${(error as Error).message}; ${id} goes on without a keeper until paude attach ${short}\n`);
        });
      // An interrupt while attached (the terminal closed) detaches: the session goes on.
      let bySignal = (): void => undefined;
      const detachedBySignal = new Promise<'signal'>((resolve) => (bySignal = () => resolve('signal')));
      handover.detach = bySignal;
      const farewell = await Promise.race([attachTerminal(backend, id, o.stdio, { term: o.env.TERM ?? 'xterm-256color', sessionDir }), detachedBySignal]);
      const running = farewell === 'signal' || farewell === 'detached' || (farewell === undefined && (await backend.inspect(id))?.agent === 'running');
      if (running) {
        await leave();
        o.stdio.stderr.write(`paude: detached from ${id}, which goes on: paude attach ${short} to return, paude stop ${short} to end it\n`);
        return 0;
      }
      const code = await backend.waitAgent(id);
      Object.assign(ended, { exitCode: code, how: 'exited' });
      await showLastScreen(backend, id, o.stdio.stdout);
      if (backend.remote) await pullWorkspace(backend, id, project.root, sessionDir, paths.dataDir, remoteSkip, o.stdio.stderr);
      if (layout.claudeDir && (config.claude.persistProjectConfig || o.syncClaudeConfig)) {
        await bringBackClaudeConfig(backend, id, layout.claudeDir, config.claude.persistProjectConfig, o);
      }
      return stoppedCode() ?? code;
    }
    const io = await backend.attachAgent(id);
    const terminal = passthrough(io, o.stdio, tty);
    try {
      await backend.startAgent(id);
      faultPoint('start.agent-started');
      host.superviseProxy();
      if (tty && o.stdio.stdout.rows && o.stdio.stdout.columns) await io.resize(o.stdio.stdout.rows, o.stdio.stdout.columns);
      await secrets();
      faultPoint('start.secrets-written');
      o.onStarted?.({ id, backend });
      const [code] = await Promise.all([backend.waitAgent(id), io.ended]);
      Object.assign(ended, { exitCode: code, how: stopped.by ? `stopped by ${stopped.by}` : 'exited' });
      terminal.restore();
      if (backend.remote) await pullWorkspace(backend, id, project.root, sessionDir, paths.dataDir, remoteSkip, o.stdio.stderr);
      if (layout.claudeDir && (config.claude.persistProjectConfig || o.syncClaudeConfig)) {
        await bringBackClaudeConfig(backend, id, layout.claudeDir, config.claude.persistProjectConfig, o);
      }
      return stoppedCode() ?? code;
    } finally {
      terminal.restore();
    }
  } catch (error) {
    failed.error = error;
    throw error;
  } finally {
    await host.supervisor.stop();
    const restarts = host.proxyRestarts;
    if (restarts > 0 && !keep) o.stdio.stderr.write(`paude: the session's proxy stopped ${restarts === 1 ? 'once' : `${restarts} times`} and was started again (the agent had no network meanwhile)\n`);
    if (!keep) await cleanup();
    stopInterrupts();
  }
}

/**
 * Where the session runs and with which images: a local (or ssh://) engine, which builds the
 * images as needed, or a cluster, which pulls the images named in backend.kubernetes.
 */
async function sessionBackend(config: ResolvedConfig['config'], paths: ResolvedConfig['paths'], o: RunOptions, devcontainerFile: ResolvedConfig['project']['devcontainerJson']): Promise<{ backend: SessionBackend; images: { agent: string; proxy: string } }> {
  if (config.backend.type === 'kubernetes') {
    const k = config.backend.kubernetes ?? {};
    const missing = [!k.agentImage && 'agentImage', !k.proxyImage && 'proxyImage'].filter(Boolean);
    if (missing.length) {
      throw new PaudeError(`the kubernetes backend needs images the cluster can pull: set backend.kubernetes.${missing.join(' and backend.kubernetes.')} in your paude.json (docs/KUBERNETES.md says how to build and push them)`, ExitCode.config);
    }
    return { backend: await kubernetesBackend(config.backend, o.env), images: { agent: k.agentImage ?? '', proxy: k.proxyImage ?? '' } };
  }
  const engine = await findEngine(defaultDiscoveryEnv(o.env, { sshConfigFile: config.backend.sshConfig }), config.backend.type, { podman: config.backend.podman?.socket, docker: config.backend.docker?.host });
  const images = await sessionImages(engine, config, paths, { rebuild: o.rebuild, out: o.stdio.stderr, devcontainerFile });
  return { backend: new LocalBackend(engine), images };
}

/**
 * The session's changes to .claude/: all of them when the user opted in for good
 * (claude.persistProjectConfig, global only), else shown one by one and kept only when the
 * user says yes. Without a terminal to ask, they are shown and not applied.
 */
async function bringBackClaudeConfig(backend: SessionBackend, id: string, dir: string, persist: boolean, o: RunOptions): Promise<void> {
  const changes = await claudeChanges(dir, readTar(await backend.copyFromAgent(id, dir)));
  const out = o.stdio.stderr;
  if (changes.length === 0) {
    if (o.syncClaudeConfig) out.write('paude: the session did not change .claude/\n');
    return;
  }
  const applied: string[] = [];
  for (const change of changes) {
    let take = persist;
    if (!persist) {
      out.write(`${change.diff}\n`);
      take = o.confirm ? await o.confirm(`Apply this change to .claude/${change.path} (${change.kind})?`) : false;
    }
    if (take) {
      await applyClaudeChange(dir, change);
      applied.push(`${change.path} (${change.kind})`);
    }
  }
  const kept = applied.length ? `applied to .claude/: ${applied.join(', ')}` : 'nothing applied to .claude/';
  const why = !persist && !o.confirm ? ' (no terminal to ask; set claude.persistProjectConfig in your global paude.json to keep such changes)' : '';
  out.write(`paude: ${kept}${why}\n`);
}

/**
 * The agent writes the workspace as its owner, so files stay the user's. It is never root: a
 * root-owned workspace (paude run as root) gets uid 1000, which cannot write it — said once.
 */
function agentIdentity(root: string): { uid: number; gid: number; warning?: string } {
  const st = statSync(root);
  if (st.uid !== 0) return { uid: st.uid, gid: st.gid };
  const uid = process.getuid?.() ?? 1000;
  if (uid !== 0) return { uid, gid: process.getgid?.() ?? uid };
  return { uid: 1000, gid: 1000, warning: `${root} belongs to root; the agent runs as uid 1000 and cannot write to it (chown it, or run paude as the workspace's owner)` };
}
