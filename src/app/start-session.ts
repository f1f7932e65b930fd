/**
 * The start use case: `paude [ARGS]`, `paude --shell [-- CMD]` and `paude --detach`, one session
 * from start to exit (or to its hand-over to a keeper). Loads the configuration, gets a backend
 * and its images from the backend registry, plans the session (start/plan.ts), and runs it
 * (start/session-run.ts). Returns the command's exit code.
 */
import { mkdir } from 'node:fs/promises';
import { BackendRegistry } from '../backends/registry.js';
import type { SessionBackend } from '../backends/session-backend.js';
import { loadConfig, type FlagOverrides, type ResolvedConfig } from '../config/load-config.js';
import { faultPoint, traceStep } from '../faults.js';
import { writeFailure } from '../fs/atomic-write.js';
import { registryGroupsOfTexts, sharedRegistryResolver, type RegistryGroupResolver } from '../policy/registry-groups.js';
import type { Stdio } from '../sessions/terminal.js';
import { planSession, type SessionCommand } from './start/plan.js';
import { SessionRun } from './start/session-run.js';

export type { SessionCommand } from './start/plan.js';

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

export async function runSession(o: RunOptions): Promise<number> {
  traceStep('start.begin');
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

  traceStep('start.configured');
  const prepared = await new BackendRegistry({ config: config.backend, env: o.env }).prepare({ config, paths, rebuild: o.rebuild, out: o.stdio.stderr, devcontainerFile: project.devcontainerJson });
  traceStep('start.engine-ready');
  const detach = o.detach === true;
  const plan = await planSession(resolved, prepared, {
    cwd: o.cwd,
    env: o.env,
    command: o.command,
    stdio: o.stdio,
    detach,
    registryGroups,
    ...(o.extraHosts ? { extraHosts: o.extraHosts } : {}),
    ...(o.labels ? { labels: o.labels } : {}),
  });
  await mkdir(plan.sessionDir, { recursive: true, mode: 0o700 }).catch((error: unknown) => {
    throw writeFailure(plan.sessionDir, error);
  });
  faultPoint('start.dir-created');
  const run = new SessionRun(resolved, plan, {
    stdio: o.stdio,
    env: o.env,
    detach,
    syncClaudeConfig: o.syncClaudeConfig === true,
    ...(o.confirm ? { confirm: o.confirm } : {}),
    ...(o.onStarted ? { onStarted: o.onStarted } : {}),
    ...(o.interrupts ? { interrupts: o.interrupts } : {}),
  });
  return run.run();
}
