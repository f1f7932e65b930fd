/**
 * The port every place that runs sessions implements (local Podman/Docker now, Kubernetes
 * later), in paude's own terms: no dockerode or client-node type crosses it. The session
 * service and the front ends talk to this, never to an engine.
 */
import type { Readable, Writable } from 'node:stream';
import type { TarSource } from '../fs/tar.js';
import type { EffectivePolicy } from '../policy/effective-policy.js';

export type BackendKind = 'podman' | 'docker' | 'kubernetes';

export interface Mount {
  source: string;
  target: string;
  readOnly: boolean;
}

export interface SessionSpec {
  id: string;
  /** Host directory of this session's state (rules, logs, held requests). */
  stateDir: string;
  projectRoot: string;
  workdir: string;
  agent: {
    image: string;
    command: string[];
    env: Record<string, string>;
    user: { uid: number; gid: number };
    tty: boolean;
    mounts: Mount[];
    /** Container-local storage over these paths (isolated dirs, the .claude copy). */
    localVolumes: Array<{ name: string; target: string }>;
    tmpfs: Record<string, string>;
    resources: { memory?: string; cpus?: number; pids?: number };
  };
  proxy: {
    image: string;
    extraHosts: Record<string, string>;
    /** The model provider route whose API key the proxy adds (the agent holds a placeholder). */
    provider?: { host: string; port: number; tls: boolean; key: string };
    /**
     * An OpenTelemetry Collector next to the proxy (kubernetes): it receives the agent's OTLP,
     * sets the session's resource attributes and forwards to the user's collector.
     */
    collector?: { image: string; endpoint: string; protocol: 'http/json' | 'http/protobuf' | 'grpc'; headers: Record<string, string>; attributes: Record<string, string> };
  };
  policy: EffectivePolicy;
  labels: Record<string, string>;
  /** paude's data directory (where the session's metadata lives), labelled on every resource. */
  dataDir: string;
}

/** The agent's terminal or stdio: bytes in, bytes out, resizable when it is a terminal. */
export interface AgentIo {
  input: Writable;
  /** With a terminal everything arrives here; without, stdout only. */
  output: Readable;
  /** stderr when there is no terminal; undefined with one. */
  errors?: Readable;
  resize(rows: number, cols: number): Promise<void>;
  /** Resolves when the backend has delivered everything the agent wrote. */
  ended: Promise<void>;
}

/** A terminal opened next to the agent's command (a tmux client for attach and previews). */
export interface AgentTerminal extends AgentIo {
  /** The terminal's command's exit code, once it has ended. */
  exitCode(): Promise<number>;
}

export type ComponentState = 'created' | 'running' | 'exited' | 'missing';

export interface SessionSummary {
  id: string;
  backend: BackendKind;
  agent: ComponentState;
  proxy: ComponentState;
  projectRoot?: string;
  createdAt?: string;
  /** The agent's exit code once it has exited. */
  exitCode?: number;
  /** The data directory of the paude that created it (its label), when known. */
  dataDir?: string;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface SessionBackend {
  readonly kind: BackendKind;
  /** Where it runs, for messages ("unix:///run/podman/podman.sock"). */
  readonly endpoint: string;
  /**
   * On another machine: nothing is mounted from this host. The workspace is copied in and
   * synced (sync/workspace-sync.ts), the proxy's state is bridged (sessions/state-bridge.ts).
   */
  readonly remote: boolean;
  /** Creates everything and starts the proxy; the agent waits for startAgent. */
  create(spec: SessionSpec): Promise<void>;
  /** Unpacks a tar archive into a directory of the agent's filesystem (before or after start). */
  copyIntoAgent(id: string, directory: string, archive: TarSource): Promise<void>;
  /** A tar archive of a path in the agent's filesystem (also after the agent has ended), as a stream. */
  copyFromAgent(id: string, path: string): Promise<Readable>;
  /** Connects to the agent's stdio; call before startAgent so no output is lost. */
  attachAgent(id: string): Promise<AgentIo>;
  startAgent(id: string): Promise<void>;
  /** Writes a file inside the running agent as its user, content passed on stdin (never argv). */
  writeAgentFile(id: string, path: string, content: string, user: { uid: number; gid: number }): Promise<void>;
  /** The agent's exit code once it has ended. */
  waitAgent(id: string): Promise<number>;
  killAgent(id: string): Promise<void>;
  exec(id: string, command: string[]): Promise<ExecResult>;
  /** Runs a command in the session's proxy (the state bridge reads its logs and held requests). */
  execProxy(id: string, command: string[]): Promise<ExecResult>;
  /** Unpacks a tar archive into the proxy's filesystem (the state bridge's way in). */
  copyIntoProxy(id: string, directory: string, archive: TarSource): Promise<void>;
  /** Runs a command in the agent (as its user) on a new terminal of this size. */
  openTerminal(id: string, command: string[], size: { rows: number; cols: number }, env?: Record<string, string>): Promise<AgentTerminal>;
  /** Stops the agent (its command gets SIGHUP, then SIGKILL after graceSeconds) and the proxy; keeps everything. */
  stop(id: string, graceSeconds: number): Promise<void>;
  /** What is left to stop once the agent's command has ended by itself (the keeper calls it); keeps everything. */
  agentEnded(id: string): Promise<void>;
  /** What the agent's main process wrote to stdout (a tmux session's last screen), also after it ended. */
  agentOutput(id: string): Promise<string>;
  /** The session's state as the engine reports it; undefined when nothing of it exists. */
  inspect(id: string): Promise<SessionSummary | undefined>;
  /** Removes every resource of the session, in any state. */
  remove(id: string): Promise<void>;
  list(): Promise<SessionSummary[]>;
  /**
   * The proxy's state alone (one cheap call: the supervisor asks every second). Backends whose
   * proxy is restarted by others (or not at all) leave this and startProxy out.
   */
  proxyState?(id: string): Promise<ComponentState>;
  /**
   * Starts the session's stopped proxy again: the same container with the same state (policy,
   * rules, access log appended to), resolving once it accepts connections.
   */
  startProxy?(id: string): Promise<void>;
}
