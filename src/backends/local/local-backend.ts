/** SessionBackend over one Docker-API engine (Docker, or Podman's compatible service). */
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import type { TarSource } from '../../fs/tar.js';
import type { AgentIo, AgentTerminal, ComponentState, ExecResult, SessionBackend, SessionSpec, SessionSummary } from '../session-backend.js';
import { attachContainer, isHttpStatus, runsRootless, type Engine } from '../engine/engine.js';
import { engineStep } from '../engine/engine-failure.js';
import { ExitCode, PaudeError } from '../../errors.js';
import { execInContainer } from '../engine/exec.js';
import { LABEL } from './labels.js';
import { removeSandbox, startSandbox } from './local-sandbox.js';
import { stopProxy, waitForProxy } from './proxy-container.js';
import { faultPoint } from '../../faults.js';
import { PROXY_STATE_MOUNT, ProxyStateDir } from '../../policy/proxy-state.js';

export class LocalBackend implements SessionBackend {
  readonly kind;
  readonly endpoint;
  readonly remote;

  /** When this process's attach stream to an agent ended (waitAgent's early answer). */
  private readonly attached = new Map<string, Promise<void>>();
  /** Proxy starts still under way for sessions this backend created (create does not wait). */
  private readonly proxyStarts = new Map<string, Promise<void>>();

  constructor(private readonly engine: Engine) {
    this.kind = engine.flavor;
    this.endpoint = engine.endpoint;
    this.remote = engine.remote;
  }

  async create(spec: SessionSpec): Promise<void> {
    const a = spec.agent;
    const userns = await this.userNamespace();
    const sandbox = await startSandbox(this.engine, {
      sessionId: spec.id,
      sessionDir: spec.stateDir,
      proxyImage: spec.proxy.image,
      policy: spec.policy,
      extraHosts: spec.proxy.extraHosts,
      ...(spec.proxy.provider ? { provider: spec.proxy.provider } : {}),
      labels: { ...spec.labels, [LABEL.workspace]: spec.projectRoot, [LABEL.data]: spec.dataDir },
      waitForProxy: false,
      startAgent: false,
      workspace: spec.projectRoot,
      agent: {
        image: a.image,
        command: a.command,
        env: a.env,
        user: `${a.user.uid}:${a.user.gid}`,
        workdir: spec.workdir,
        // Host paths mean nothing to an engine on another machine: the workspace is a volume there.
        binds: this.remote ? [] : a.mounts.map((m) => `${m.source}:${m.target}:${m.readOnly ? 'ro' : 'rw'}`),
        tmpfs: a.tmpfs,
        tty: a.tty,
        volumes: [...(this.remote ? [{ suffix: 'workspace', target: spec.projectRoot }] : []), ...a.localVolumes.map((v) => ({ suffix: v.name, target: v.target }))],
        memory: a.resources.memory,
        cpus: a.resources.cpus,
        pids: a.resources.pids,
        ...(userns ? { userns } : {}),
      },
    });
    this.proxyStarts.set(spec.id, sandbox.proxyStarted);
  }

  /**
   * Rootless Podman maps the user's uid to root inside a container: with keep-id it stays the
   * user's, so the agent (which runs as the workspace's owner) writes the workspace as its owner.
   * Rootless Docker has no such mode: refused with what to use instead.
   */
  private async userNamespace(): Promise<string | undefined> {
    if (this.remote || !(await runsRootless(this.engine))) return undefined;
    if (this.engine.flavor === 'podman') return 'keep-id';
    throw new PaudeError(
      `rootless Docker at ${this.engine.endpoint} maps your uid to root inside its containers, so paude's agent (never root) could not write your workspace; use rootless Podman (it keeps your uid: paude doctor checks its set-up) or a rootful Docker`,
      ExitCode.engine,
    );
  }

  private agent(id: string): ReturnType<Engine['docker']['getContainer']> {
    return this.engine.docker.getContainer(id);
  }

  async copyIntoAgent(id: string, directory: string, archive: TarSource): Promise<void> {
    await engineStep('agent', 'copy files into', () => this.agent(id).putArchive(archive, { path: directory }), directory);
  }

  async copyFromAgent(id: string, path: string): Promise<Readable> {
    // The engine's HTTP response, read as the caller unpacks it.
    return (await this.agent(id).getArchive({ path })) as Readable;
  }

  async attachAgent(id: string): Promise<AgentIo> {
    const info = await this.agent(id).inspect();
    const tty = info.Config.Tty;
    const stream = await attachContainer(this.engine, id);
    const ended = new Promise<void>((resolve) => {
      stream.once('end', resolve);
      stream.once('close', resolve);
      stream.once('error', () => resolve());
    });
    this.attached.set(id, ended);
    const resize = (rows: number, cols: number): Promise<void> => this.resize(id, rows, cols);
    if (tty) return { input: stream, output: stream, resize, ended };
    const output = new PassThrough();
    const errors = new PassThrough();
    this.engine.docker.modem.demuxStream(stream, output, errors);
    void ended.then(() => {
      output.end();
      errors.end();
    });
    return { input: stream, output, errors, resize, ended };
  }

  /**
   * Starts the agent once the proxy's start (begun by create, and by now usually done) is: the
   * agent never runs beside a proxy that failed to start.
   */
  async startAgent(id: string): Promise<void> {
    const proxyStarted = this.proxyStarts.get(id);
    this.proxyStarts.delete(id);
    if (proxyStarted) {
      await proxyStarted;
      faultPoint('start.proxy-started');
    }
    await engineStep('agent', 'start', () => this.agent(id).start());
  }

  private async resize(id: string, rows: number, cols: number): Promise<void> {
    try {
      await this.agent(id).resize({ h: rows, w: cols });
    } catch (error) {
      // Podman answers 201 (Docker 200) and dockerode treats that as an error; a gone container is fine too.
      if (!isHttpStatus(error, 200, 201, 404, 409, 500)) throw error;
    }
  }

  async writeAgentFile(id: string, path: string, content: string, user: { uid: number; gid: number }): Promise<void> {
    const exec = await this.agent(id).exec({
      // The path is ours (a fixed directory and a fixed name); the content goes through stdin.
      Cmd: ['sh', '-c', 'umask 077 && cat > "$1"', 'sh', path],
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      User: `${user.uid}:${user.gid}`,
    });
    const stream = (await exec.start({ hijack: true, stdin: true }));
    const sink = new PassThrough();
    this.engine.docker.modem.demuxStream(stream, sink, sink);
    sink.resume();
    stream.end(content);
    await new Promise<void>((resolve) => {
      stream.once('end', resolve);
      stream.once('close', resolve);
    });
  }

  /**
   * The agent's exit code. Podman answers /wait only after its cleanup, about 0.25 s after the
   * command ended; when this process is attached to the agent, the end of that stream says
   * sooner that the command ended, and an inspect then has its code. /wait stays the answer
   * whenever the two disagree (a stream lost while the agent runs).
   */
  async waitAgent(id: string): Promise<number> {
    const waited = (this.agent(id).wait() as Promise<{ StatusCode: number }>).then((r) => r.StatusCode);
    const ended = this.attached.get(id);
    if (!ended) return waited;
    waited.catch(() => undefined);
    return Promise.race([waited, ended.then(() => this.exitCodeOnceEnded(id, waited))]);
  }

  private async exitCodeOnceEnded(id: string, waited: Promise<number>): Promise<number> {
    const deadline = Date.now() + 2000;
    while (Date.now() < deadline) {
      const state = (await this.agent(id).inspect().catch(() => undefined))?.State;
      if (state && !state.Running && !state.Restarting && state.Status !== 'created') return state.ExitCode;
      await new Promise((r) => setTimeout(r, 20));
    }
    return waited;
  }

  async killAgent(id: string): Promise<void> {
    try {
      await this.agent(id).kill();
    } catch (error) {
      if (!isHttpStatus(error, 304, 404, 409, 500)) throw error;
    }
  }

  async exec(id: string, command: string[]): Promise<ExecResult> {
    return execInContainer(this.engine.docker, id, command);
  }

  async execProxy(id: string, command: string[]): Promise<ExecResult> {
    return execInContainer(this.engine.docker, `${id}-proxy`, command);
  }

  async copyIntoProxy(id: string, directory: string, archive: TarSource): Promise<void> {
    await engineStep('proxy', 'copy files into', () => this.engine.docker.getContainer(`${id}-proxy`).putArchive(archive, { path: directory }), directory);
  }

  async openTerminal(id: string, command: string[], size: { rows: number; cols: number }, env: Record<string, string> = {}): Promise<AgentTerminal> {
    const exec = await this.agent(id).exec({
      Cmd: command,
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      Tty: true,
      Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    });
    const stream = await exec.start({ hijack: true, stdin: true, Tty: true });
    const ended = new Promise<void>((resolve) => {
      stream.once('end', resolve);
      stream.once('close', resolve);
      stream.once('error', () => resolve());
    });
    const resize = async (rows: number, cols: number): Promise<void> => {
      try {
        await exec.resize({ h: rows, w: cols });
      } catch (error) {
        // Podman answers 201; an exec that has just ended answers 404/409/500.
        if (!isHttpStatus(error, 200, 201, 404, 409, 500)) throw error;
      }
    };
    const exitCode = async (): Promise<number> => {
      await ended;
      // The engine may record the exit a moment after the stream closes.
      for (let i = 0; i < 50; i++) {
        const info = await exec.inspect();
        if (!info.Running && info.ExitCode !== null) return info.ExitCode;
        await new Promise((r) => setTimeout(r, 20));
      }
      return 255;
    };
    return { input: stream, output: stream, resize, ended, exitCode };
  }

  /** Nothing: the proxy container stops by itself when the agent's command ends (its link closes). */
  agentEnded(): Promise<void> {
    return Promise.resolve();
  }

  async stop(id: string, graceSeconds: number): Promise<void> {
    const filters = JSON.stringify({ label: [`${LABEL.session}=${id}`] });
    const containers = await this.engine.docker.listContainers({ filters });
    const agent = containers.find((c) => c.Labels[LABEL.role] === 'agent');
    if (agent) {
      // SIGHUP to what runs in the session's tmux, as when a terminal closes; the container
      // ends when its command has. A session without tmux (paude -p) gets the engine's stop.
      const hup = await this.exec(id, ['sh', '-c', 'tmux kill-server 2>/dev/null || kill -TERM 1']).catch(() => undefined);
      const ended = hup ? await this.waitExited(id, graceSeconds * 1000) : false;
      if (!ended) await this.agent(id).stop({ t: 0 }).catch((error: unknown) => {
        if (!isHttpStatus(error, 304, 404, 409, 500)) throw error;
      });
    }
    faultPoint('stop.agent-stopped');
    // The proxy last, its access log complete (see stopProxy).
    await Promise.all(containers.filter((c) => c.Labels[LABEL.role] !== 'agent' && c.State === 'running').map((c) => stopProxy(this.engine, c.Id)));
    faultPoint('stop.proxy-stopped');
  }

  async proxyState(id: string): Promise<ComponentState> {
    const info = await this.engine.docker.getContainer(`${id}-proxy`).inspect().catch((error: unknown) => {
      if (isHttpStatus(error, 404)) return undefined;
      throw error;
    });
    if (!info) return 'missing';
    return info.State.Running ? 'running' : info.State.Status === 'created' || info.State.Status === 'configured' ? 'created' : 'exited';
  }

  async startProxy(id: string): Promise<void> {
    const container = this.engine.docker.getContainer(`${id}-proxy`);
    const info = await container.inspect();
    // The state directory on this host (a remote engine holds it in a volume: no log to watch here).
    const source = info.Mounts.find((m) => m.Destination === PROXY_STATE_MOUNT && m.Type === 'bind')?.Source;
    const state = source ? new ProxyStateDir(source) : undefined;
    const since = state ? ((await stat(state.cacheLog).catch(() => undefined))?.size ?? 0) : 0;
    // Requests held by the proxy that died were refused with it: their files would show them
    // as still waiting, and nobody reads their answers.
    if (state) {
      for (const dir of [state.pendingDir, state.decisionsDir]) {
        for (const name of await readdir(dir).catch(() => [] as string[])) await rm(join(dir, name), { force: true });
      }
    }
    await container.start().catch((error: unknown) => {
      // Already running (someone else restarted it first).
      if (!isHttpStatus(error, 304)) throw error;
    });
    if (state) await waitForProxy(this.engine, container.id, state, 20_000, since);
  }

  private async waitExited(id: string, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      const info = await this.agent(id).inspect().catch(() => undefined);
      if (!info?.State.Running) return true;
      await new Promise((r) => setTimeout(r, 50));
    }
    return false;
  }

  async agentOutput(id: string): Promise<string> {
    const data = await this.agent(id).logs({ stdout: true, stderr: false, follow: false });
    return demuxStdout(data).toString('utf8');
  }

  async inspect(id: string): Promise<SessionSummary | undefined> {
    return (await this.list(id)).find((s) => s.id === id);
  }

  async remove(id: string): Promise<void> {
    // A proxy still starting (the start failed before the agent's) settles before it goes.
    const pending = this.proxyStarts.get(id);
    this.proxyStarts.delete(id);
    await pending?.catch(() => undefined);
    await removeSandbox(this.engine, id);
  }

  /** Sessions by their labels: containers, and volumes left without containers (for gc). */
  async list(only?: string): Promise<SessionSummary[]> {
    const filters = JSON.stringify({ label: [only ? `${LABEL.session}=${only}` : `${LABEL.managed}=true`] });
    const [containers, { Volumes }] = await Promise.all([this.engine.docker.listContainers({ all: true, filters }), this.engine.docker.listVolumes({ filters })]);
    const sessions = new Map<string, SessionSummary>();
    const entry = (id: string): SessionSummary => {
      const s = sessions.get(id) ?? { id, backend: this.kind, agent: 'missing' as ComponentState, proxy: 'missing' as ComponentState };
      sessions.set(id, s);
      return s;
    };
    for (const c of containers) {
      const id = c.Labels[LABEL.session];
      if (!id) continue;
      const s = entry(id);
      s.dataDir ??= c.Labels[LABEL.data];
      const state: ComponentState = c.State === 'running' ? 'running' : c.State === 'created' || c.State === 'configured' ? 'created' : 'exited';
      if (c.Labels[LABEL.role] === 'agent') {
        s.agent = state;
        s.projectRoot = c.Labels[LABEL.workspace];
        s.createdAt = new Date(c.Created * 1000).toISOString();
        const code = /^Exited \((-?[0-9]+)\)/.exec(c.Status)?.[1];
        if (state === 'exited' && code !== undefined) s.exitCode = Number(code);
      } else if (c.Labels[LABEL.role] === 'proxy') s.proxy = state;
    }
    for (const v of Volumes ?? []) {
      const id = v.Labels?.[LABEL.session];
      if (id) entry(id).dataDir ??= v.Labels?.[LABEL.data];
    }
    return [...sessions.values()];
  }
}

/** The stdout frames of a multiplexed log (8-byte headers: stream, 0, 0, 0, big-endian size). */
export function demuxStdout(data: Buffer): Buffer {
  const out: Buffer[] = [];
  let i = 0;
  while (i + 8 <= data.length) {
    const stream = data[i];
    const size = data.readUInt32BE(i + 4);
    if (stream === 1) out.push(data.subarray(i + 8, i + 8 + size));
    i += 8 + size;
  }
  return Buffer.concat(out);
}
