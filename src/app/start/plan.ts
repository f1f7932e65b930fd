/**
 * A new session, worked out before anything is created: its id, who the agent runs as, its
 * credentials, its telemetry, its policy, its workspace layout, and the spec the backend
 * creates. Nothing here starts or writes anything but warnings.
 */
import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, relative } from 'node:path';
import type { PreparedBackend } from '../../backends/registry.js';
import type { SessionBackend, SessionSpec } from '../../backends/session-backend.js';
import { tmuxKey } from '../../config/detach-key.js';
import type { ResolvedConfig } from '../../config/load-config.js';
import { buildEffectivePolicy, type EffectivePolicy } from '../../policy/effective-policy.js';
import { projectRulesFile, readScopedRules } from '../../policy/policy-stores.js';
import { proxyEnvironment } from '../../policy/proxy-env.js';
import { withRegistryHosts, type RegistryGroupResolver } from '../../policy/registry-groups.js';
import { agentCredentials, SECRETS_DIR, type AgentCredentials } from '../../run/credentials.js';
import { newSessionId } from '../../run/session-id.js';
import { otelEnvironment } from '../../telemetry/otel-env.js';
import { workspaceLayout, type WorkspaceLayout } from '../../workspace/workspace-mounts.js';

export const HOME_IN_CONTAINER = '/home/paude';

export type SessionCommand = { kind: 'claude'; args: string[] } | { kind: 'shell'; command: string[] };

/** What the plan needs to know of the start besides the configuration. */
export interface PlanInput {
  cwd: string;
  env: NodeJS.ProcessEnv;
  command: SessionCommand;
  stdio: { stdin: { isTTY?: boolean }; stdout: { isTTY?: boolean; rows?: number; columns?: number }; stderr: NodeJS.WritableStream };
  detach: boolean;
  extraHosts?: Record<string, string>;
  labels?: Record<string, string>;
  registryGroups: RegistryGroupResolver;
}

export interface SessionPlan {
  id: string;
  backend: SessionBackend;
  sessionDir: string;
  /** The agent's user: the workspace's owner (never root). */
  owner: { uid: number; gid: number };
  creds: AgentCredentials;
  policy: EffectivePolicy;
  layout: WorkspaceLayout;
  workdir: string;
  command: string[];
  /** Whether the user's stdin and stdout are a terminal. */
  tty: boolean;
  /** Whether the command runs in tmux (a terminal, or detached): attachable later. */
  inTmux: boolean;
  /** Whether this host relays the agent's telemetry (local engines, or a cluster's collector). */
  relayed: boolean;
  forward?: ReturnType<typeof otelEnvironment>['forward'];
  spec: SessionSpec;
}

const warn = (out: NodeJS.WritableStream, lines: readonly string[]): void => {
  for (const w of lines) out.write(`paude: warning: ${w}\n`);
};

export async function planSession(resolved: ResolvedConfig, prepared: PreparedBackend, input: PlanInput): Promise<SessionPlan> {
  const { config, paths, project } = resolved;
  const { backend, images } = prepared;
  const home = input.env.HOME ?? homedir();
  const agentUser = agentIdentity(project.root);
  if (agentUser.warning) warn(input.stdio.stderr, [agentUser.warning]);
  const creds = agentCredentials(config, input.env, home, existsSync);
  warn(input.stdio.stderr, creds.warnings);
  const id = newSessionId();
  const projectApprovals = await readScopedRules(projectRulesFile(paths.dataDir, project.root));
  const telemetry = sessionTelemetry(resolved, input.env, id, backend, images.collector);
  const { policy } = await withRegistryHosts(
    buildEffectivePolicy({ config, sources: resolved.sources, projectApprovals, session: { allow: [...creds.allow, ...telemetry.otel.allow], deny: [] } }),
    input.registryGroups,
  );
  warn(input.stdio.stderr, input.registryGroups.takeWarnings());

  const tty = input.stdio.stdin.isTTY === true && input.stdio.stdout.isTTY === true;
  // A terminal session runs in tmux inside the agent, so that it can be detached and attached
  // again; without a terminal (paude -p, pipes) the command's stdio is connected directly.
  const inTmux = tty || input.detach;
  const layout = workspaceLayout(project.root, config.protect, config.isolate);
  const workdir = relative(project.root, input.cwd).startsWith('..') ? project.root : input.cwd;
  const command = input.command.kind === 'claude' ? ['claude', ...config.claude.args, ...input.command.args] : input.command.command.length ? input.command.command : ['bash', '-l'];
  const sessionDir = join(paths.sessionsDir, id);
  const owner = { uid: agentUser.uid, gid: agentUser.gid };
  const spec: SessionSpec = {
    id,
    stateDir: sessionDir,
    dataDir: paths.dataDir,
    projectRoot: project.root,
    workdir,
    policy,
    labels: { ...input.labels },
    proxy: {
      image: images.proxy,
      extraHosts: { ...config.network.hosts, ...input.extraHosts },
      ...(creds.proxyProvider ? { provider: creds.proxyProvider } : {}),
      ...(telemetry.collector ? { collector: telemetry.collector } : {}),
    },
    agent: {
      image: images.agent,
      command,
      env: agentEnvironment(resolved, input, { id, creds, otelEnv: telemetry.otel.env, inTmux }),
      user: owner,
      tty: tty && !inTmux,
      mounts: [...layout.mounts, ...creds.mounts],
      tmpfs: { [SECRETS_DIR]: 'rw,mode=1777,size=1m', '/tmp': 'rw,exec,mode=1777', '/var/tmp': 'rw,exec,mode=1777', '/run/lock': 'rw,mode=1777' },
      localVolumes: [
        // The agent's home: a session volume, filled from the image on first use.
        { name: 'home', target: HOME_IN_CONTAINER },
        ...layout.isolated.map((v) => ({ name: v.suffix, target: v.target })),
        ...(layout.claudeDir ? [{ name: 'claude', target: layout.claudeDir }] : []),
      ],
      resources: { memory: config.resources.memory, pids: config.resources.pids, cpus: config.resources.cpus },
    },
  };
  return { id, backend, sessionDir, owner, creds, policy, layout, workdir, command, tty, inTmux, relayed: telemetry.relayed, ...(telemetry.otel.forward ? { forward: telemetry.otel.forward } : {}), spec };
}

/**
 * OpenTelemetry: the user's OTEL_* variables, or telemetry.otel; the collector is allowed.
 * Local engines get paude's relay next to the proxy (token counts, forwarding to the
 * collector); a cluster session with a collector image exports through a collector next to its
 * proxy, like the relay; other remote sessions export directly.
 */
function sessionTelemetry(resolved: ResolvedConfig, env: NodeJS.ProcessEnv, id: string, backend: SessionBackend, collectorImage: string | undefined) {
  const { config, project } = resolved;
  const facts = { id, workspace: project.root, backend: backend.kind, networkMode: config.network.mode };
  const viaCollector = collectorImage ? otelEnvironment(config, env, facts, true) : undefined;
  const relayed = !backend.remote || viaCollector?.forward !== undefined;
  const otel = viaCollector?.forward ? viaCollector : otelEnvironment(config, env, facts, relayed);
  const attributes = { 'paude.session_id': id, 'paude.workspace': project.root, 'paude.backend': backend.kind, 'paude.network_mode': config.network.mode, ...(config.telemetry.otel.enabled ? config.telemetry.otel.attributes : {}) };
  const collector = collectorImage && otel.forward ? { image: collectorImage, ...otel.forward, attributes } : undefined;
  return { otel, relayed, collector };
}

function agentEnvironment(resolved: ResolvedConfig, input: PlanInput, s: { id: string; creds: AgentCredentials; otelEnv: Record<string, string>; inTmux: boolean }): Record<string, string> {
  const { config } = resolved;
  const out = input.stdio.stdout;
  const err = input.stdio.stderr as { rows?: number; columns?: number };
  const tmux = {
    PAUDE_TMUX: '1',
    PAUDE_DETACH_KEY: tmuxKey(config.sessions.detachKeys),
    PAUDE_IDLE_SECONDS: String(Math.round(config.sessions.idleTimeoutMinutes * 60)),
    ...(input.env.PAUDE_IDLE_CHECK_SECONDS ? { PAUDE_IDLE_CHECK_SECONDS: input.env.PAUDE_IDLE_CHECK_SECONDS } : {}),
    // The terminal's size, also when stdout is captured (id=$(paude --detach ...)).
    PAUDE_ROWS: String(out.rows ?? err.rows ?? 24),
    PAUDE_COLS: String(out.columns ?? err.columns ?? 80),
    PAUDE_WAIT_CLIENT: input.detach ? '0' : '1',
  };
  return {
    ...proxyEnvironment(),
    ...s.otelEnv,
    ...config.devcontainer?.containerEnv,
    ...s.creds.env,
    TERM: input.env.TERM ?? 'xterm-256color',
    PAUDE_SESSION: s.id,
    ...(Object.keys(s.creds.secrets).length > 0 ? { PAUDE_SECRETS: '1' } : {}),
    ...(s.inTmux ? tmux : {}),
    ...(input.command.kind === 'shell' ? {} : { CLAUDE_CONFIG_DIR: `${HOME_IN_CONTAINER}/.claude` }),
  };
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
