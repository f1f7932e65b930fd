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
import { PassThrough } from 'node:stream';
import { loadConfig, type FlagOverrides } from '../config/load-config.js';
import type { ResolvedConfig } from '../config/load-config.js';
import { defaultDiscoveryEnv, findEngine } from '../backends/engine/discovery.js';
import { attachContainer, isHttpStatus, type Engine } from '../backends/engine/engine.js';
import { removeSandbox, startSandbox, type Sandbox } from '../backends/local/local-sandbox.js';
import { writeTar } from '../images/build-context.js';
import { buildEffectivePolicy } from '../policy/effective-policy.js';
import { readScopedRules, projectRulesFile } from '../policy/policy-stores.js';
import { proxyEnvironment } from '../policy/proxy-env.js';
import { copyClaudeConfig } from './claude-config.js';
import { agentCredentials, SECRETS_DIR } from './credentials.js';
import { newSessionId } from './session-id.js';
import { sessionImages } from './session-images.js';
import { passthrough, type Stdio } from './terminal.js';
import { workspaceLayout } from './workspace-mounts.js';
import { ProtectedPathGuard } from './protected-guard.js';
import { writeSessionRecord } from '../sessions/session-record.js';
import { directoryEntries } from './tar-dir.js';

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
  egressNetwork?: string;
  labels?: Record<string, string>;
  /** Called once the session is up (tests and the detach path use it). */
  onStarted?: (session: { id: string; sandbox: Sandbox; engine: Engine }) => void;
}

const HOME_IN_CONTAINER = '/home/paude';

export async function runSession(o: RunOptions): Promise<number> {
  const resolved = await (o.load ? o.load(o.flags) : loadConfig({ cwd: o.cwd, env: o.env, flags: o.flags, trust: 'require' }));
  const { config, paths, project } = resolved;
  for (const w of resolved.warnings) o.stdio.stderr.write(`paude: warning: ${w}\n`);
  if (config.network.mode === 'open') {
    o.stdio.stderr.write('paude: WARNING: network filtering is OFF for this session (open mode): the agent can reach any host.\n');
  }

  const engine = await findEngine(defaultDiscoveryEnv(o.env), config.backend.type, { podman: config.backend.podman?.socket, docker: config.backend.docker?.host });
  const images = await sessionImages(engine, config, paths, { rebuild: o.rebuild, out: o.stdio.stderr });

  const home = o.env.HOME ?? homedir();
  const agentUser = agentIdentity(project.root);
  if (agentUser.warning) o.stdio.stderr.write(`paude: warning: ${agentUser.warning}\n`);
  const creds = agentCredentials(config, o.env, home, existsSync);
  const project_ = await readScopedRules(projectRulesFile(paths.dataDir, project.root));
  const policy = buildEffectivePolicy({ config, sources: resolved.sources, projectApprovals: project_, session: { allow: creds.allow, deny: [] } });

  const id = newSessionId();
  const sessionDir = join(paths.sessionsDir, id);
  await mkdir(sessionDir, { recursive: true, mode: 0o700 });
  const layout = workspaceLayout(project.root, config.protect, config.isolate);
  const workdir = relative(project.root, o.cwd).startsWith('..') ? project.root : o.cwd;
  const tty = o.stdio.stdin.isTTY === true && o.stdio.stdout.isTTY === true;
  const command = o.command.kind === 'claude' ? ['claude', ...config.claude.args, ...o.command.args] : o.command.command.length ? o.command.command : ['bash', '-l'];
  const hasSecrets = Object.keys(creds.secrets).length > 0;
  const labels = { ...o.labels, 'paude.workspace': project.root };

  const quarantine = join(paths.dataDir, 'quarantine', id);
  const guard = new ProtectedPathGuard(project.root, layout.watched, quarantine);
  guard.start();
  let sandbox: Sandbox | undefined;
  const cleanup = async (): Promise<void> => {
    await removeSandbox(engine, id).catch(() => undefined);
    await rm(sessionDir, { recursive: true, force: true });
    const moved = await guard.stop();
    if (moved.length > 0) {
      o.stdio.stderr.write(
        `paude: the session created ${moved.join(', ')}, which paude protects (they configure or run things on your host); moved to ${quarantine} — review before moving anything back\n`,
      );
    }
  };
  try {
    sandbox = await startSandbox(engine, {
      sessionId: id,
      sessionDir,
      proxyImage: images.proxy,
      policy,
      extraHosts: { ...config.network.hosts, ...o.extraHosts },
      egressNetwork: o.egressNetwork,
      labels,
      waitForProxy: false,
      startAgent: false,
      agent: {
        image: images.agent,
        command,
        env: {
          ...proxyEnvironment(),
          ...creds.env,
          TERM: o.env.TERM ?? 'xterm-256color',
          PAUDE_SESSION: id,
          ...(hasSecrets ? { PAUDE_SECRETS: '1' } : {}),
          ...(o.command.kind === 'shell' ? {} : { CLAUDE_CONFIG_DIR: `${HOME_IN_CONTAINER}/.claude` }),
        },
        user: `${agentUser.uid}:${agentUser.gid}`,
        workdir,
        binds: [...layout.binds, ...creds.binds],
        tmpfs: { [SECRETS_DIR]: 'rw,mode=1777,size=1m', '/tmp': 'rw,exec,mode=1777' },
        tty,
        volumes: [...layout.isolated.map((v) => ({ suffix: v.suffix, target: v.target })), ...(layout.claudeDir ? [{ suffix: 'claude', target: layout.claudeDir }] : [])],
        memory: config.resources.memory,
        pids: config.resources.pids,
        cpus: config.resources.cpus,
      },
    });
    const agent = engine.docker.getContainer(sandbox.agentId);
    await writeSessionRecord(paths.sessionsDir, {
      version: 1,
      id,
      projectRoot: project.root,
      workdir,
      backend: engine.flavor,
      endpoint: engine.endpoint,
      startedAt: new Date().toISOString(),
      command,
      policy: {
        mode: policy.mode,
        approvalTimeoutSeconds: policy.approvalTimeoutSeconds,
        // Project approvals are read live from their store, not frozen here.
        allow: policy.allow.filter((e) => e.source !== 'approval').map((e) => ({ text: e.text, source: e.source })),
        deny: policy.deny.filter((e) => e.source !== 'approval').map((e) => ({ text: e.text, source: e.source })),
      },
    });

    // The container's own copy of ~/.claude and the project's .claude (nothing goes back).
    const owner = { uid: agentUser.uid, gid: agentUser.gid };
    const copy = await copyClaudeConfig({ home, workspace: project.root, owner, plugins: config.plugins, settings: creds.settings, copyHostConfig: config.claude.copyHostConfig });
    for (const w of copy.warnings) o.stdio.stderr.write(`paude: warning: ${w}\n`);
    await agent.putArchive(writeTar(copy.entries), { path: HOME_IN_CONTAINER });
    if (layout.claudeDir) {
      const entries = await directoryEntries(layout.claudeDir, '.', owner);
      await agent.putArchive(writeTar(entries.filter((e) => e.path !== '.')), { path: layout.claudeDir });
    }

    const stream = await attachContainer(engine, sandbox.agentId);
    const io = passthrough(stream, o.stdio, {
      tty,
      demux: (s, out, err) => engine.docker.modem.demuxStream(s, out, err),
      resize: (rows, cols) => void resizeContainer(engine, sandbox!.agentId, rows, cols),
    });
    // Until sessions can be detached, a paude that is told to stop takes its session with it,
    // leaving nothing behind (in raw mode Ctrl-C is a key for the agent, not a signal here).
    let stoppedBy: NodeJS.Signals | undefined;
    const onSignal = (signal: NodeJS.Signals): void => {
      stoppedBy ??= signal;
      void agent.kill().catch(() => undefined);
    };
    const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGINT'];
    for (const signal of signals) process.on(signal, onSignal);
    try {
      await agent.start();
      if (tty && o.stdio.stdout.rows && o.stdio.stdout.columns) await resizeContainer(engine, sandbox.agentId, o.stdio.stdout.rows, o.stdio.stdout.columns);
      if (hasSecrets) await writeSecrets(engine, sandbox.agentId, creds.secrets, agentUser);
      o.onStarted?.({ id, sandbox, engine });
      const [result] = await Promise.all([agent.wait() as Promise<{ StatusCode: number }>, io.ended]);
      return stoppedBy ? 128 + (osConstants.signals[stoppedBy] ?? 1) : result.StatusCode;
    } finally {
      for (const signal of signals) process.off(signal, onSignal);
      io.restore();
    }
  } finally {
    await cleanup();
  }
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

async function resizeContainer(engine: Engine, id: string, rows: number, cols: number): Promise<void> {
  try {
    await engine.docker.getContainer(id).resize({ h: rows, w: cols });
  } catch (error) {
    // Podman answers 201 (Docker 200) and dockerode treats that as an error; a gone container is fine too.
    if (!isHttpStatus(error, 200, 201, 404, 409, 500)) throw error;
  }
}

/** Writes each secret into the agent's tmpfs through an exec's stdin, then marks them ready. */
async function writeSecrets(engine: Engine, id: string, secrets: Record<string, string>, user: { uid: number; gid: number }): Promise<void> {
  const container = engine.docker.getContainer(id);
  for (const [name, value] of [...Object.entries(secrets), ['.ready', '']] as Array<[string, string]>) {
    const exec = await container.exec({
      Cmd: ['sh', '-c', `umask 077 && cat > ${SECRETS_DIR}/${name}`],
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      User: `${user.uid}:${user.gid}`,
    });
    const stream = (await exec.start({ hijack: true, stdin: true }));
    const sink = new PassThrough();
    engine.docker.modem.demuxStream(stream, sink, sink);
    sink.resume();
    stream.end(value);
    await new Promise<void>((resolve) => {
      stream.once('end', resolve);
      stream.once('close', resolve);
    });
  }
}
