/**
 * What a kind of backend provides to the registry (registry.ts): whether it fits a new
 * session's configuration or a recorded endpoint (and why not), how to connect, where to look
 * for sessions, and how to get a new session's backend and images ready.
 */
import type { EffectiveConfig } from '../config/defaults.js';
import type { PaudePaths } from '../config/paths.js';
import type { ProgressOutput } from '../images/progress-printer.js';
import type { BackendKind, SessionBackend } from './session-backend.js';

export type BackendConfig = EffectiveConfig['backend'];

/** Whether a strategy applies, and why not when it does not. */
export type Fit = { ok: true } | { ok: false; because: string };

export interface BackendContext {
  config: BackendConfig;
  env: NodeJS.ProcessEnv;
}

/** A recorded endpoint and the sessions recorded on it. */
export interface RecordedEndpoint {
  endpoint: string;
  kind: BackendKind;
  sessions: string[];
}

export interface Discovered {
  backends: SessionBackend[];
  /** What did not answer, with why; the first line is the one to show when nothing answered. */
  unreachable: string[];
}

export interface PrepareOptions {
  config: EffectiveConfig;
  paths: PaudePaths;
  rebuild: boolean;
  out: ProgressOutput;
  devcontainerFile: string;
}

/** A new session's backend and the images it runs (a collector image where one runs next to the proxy). */
export interface PreparedBackend {
  backend: SessionBackend;
  images: { agent: string; proxy: string; collector?: string };
}

export interface BackendStrategy {
  readonly name: string;
  /** Whether a new session with this configuration runs here. */
  forStart(config: BackendConfig): Fit;
  /** Whether a recorded endpoint is one of this strategy's. */
  forEndpoint(endpoint: string): Fit;
  /** Whether connecting to the endpoint needs the user's configuration (ssh settings, a kubeconfig). */
  needsConfig(endpoint: string): boolean;
  connect(endpoint: string, hint?: BackendKind): Promise<SessionBackend>;
  /** The backends sessions may be on: those this strategy finds, and the recorded endpoints that are its. */
  discover(recorded: readonly RecordedEndpoint[]): Promise<Discovered>;
  prepare(options: PrepareOptions): Promise<PreparedBackend>;
}

const firstLine = (error: unknown): string => (error as Error).message.split('\n')[0] ?? '';

export const recordedFailure = (r: RecordedEndpoint, error: unknown): string => `${r.endpoint} (recorded for ${r.sessions.join(', ')}) did not answer: ${firstLine(error)}`;
