/**
 * The effective configuration (every layer merged) and the built-in defaults it starts from.
 * Optional fields stay optional when "unset" has its own meaning (plugins.allow unset = all).
 */
import type { AuditSink, BackendType, NetworkMode, PaudeFile, Provider } from './schema.js';
import type { DevcontainerSetup } from './devcontainer-schema.js';

type Defined<T> = Exclude<T, undefined>;

export interface EffectiveConfig {
  network: {
    mode: NetworkMode;
    allowlist: string[];
    denylist: string[];
    projectMayExtend: boolean;
    approvalTimeoutSeconds: number;
    hosts?: Record<string, string>;
  };
  provider: Provider;
  credentials: Defined<PaudeFile['credentials']>;
  claude: { copyHostConfig: boolean; persistProjectConfig: boolean; args: string[] };
  backend: Omit<Defined<PaudeFile['backend']>, 'type'> & { type: BackendType };
  image: Defined<PaudeFile['image']>;
  resources: { cpus?: number; memory: string; pids: number };
  certificates: { extra: string[]; inheritHost: boolean };
  telemetry: { otel: Defined<Defined<PaudeFile['telemetry']>['otel']> & { enabled: boolean } };
  audit: { sinks: AuditSink[] };
  plugins: { allow?: string[]; deny: string[] };
  isolate: string[];
  protect: string[];
  sessions: { idleTimeoutMinutes: number; detachKeys: string };
  ui: { theme: 'auto' | 'dark' | 'light'; keys: Record<string, string | string[]> };
  /** What .devcontainer/devcontainer.json contributes to the container set-up, if present. */
  devcontainer?: DevcontainerSetup;
}

export function defaultConfig(): EffectiveConfig {
  return {
    network: { mode: 'restricted', allowlist: [], denylist: [], projectMayExtend: true, approvalTimeoutSeconds: 30 },
    provider: 'anthropic',
    credentials: { gitconfig: true },
    claude: { copyHostConfig: true, persistProjectConfig: false, args: [] },
    backend: { type: 'auto' },
    image: {},
    resources: { memory: '8g', pids: 4096 },
    certificates: { extra: [], inheritHost: false },
    telemetry: { otel: { enabled: false } },
    audit: { sinks: [{ type: 'file' }] },
    plugins: { deny: [] },
    isolate: ['.venv', 'node_modules'],
    protect: [],
    sessions: { idleTimeoutMinutes: 0, detachKeys: 'ctrl-]' },
    ui: { theme: 'auto', keys: {} },
  };
}
