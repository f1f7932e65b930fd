/**
 * The one entry point for "what configuration applies here": reads the global file, the
 * project's paude.json and devcontainer.json, checks the project files against the trust
 * store, and merges everything with the CLI flags.
 */
import { relative, sep } from 'node:path';
import { ExitCode, PaudeError } from '../errors.js';
import { defaultConfig, type EffectiveConfig } from './defaults.js';
import { DevcontainerFileSchema, pickDevcontainerSetup } from './devcontainer-schema.js';
import { mergeLayers, type Layer, type Source } from './layering.js';
import { displayPath, findProject, resolvePaths, type PaudePaths, type ProjectFiles } from './paths.js';
import { readConfigFile, type LoadedFile } from './read-config-file.js';
import { PaudeFileSchema, type BackendType } from './schema.js';
import { TrustStore, type PendingTrust } from './trust-store.js';

export interface FlagOverrides {
  /** --network-allow, repeatable: this session only. */
  networkAllow?: readonly string[];
  /** --allow-network: open mode. */
  allowNetwork?: boolean;
  backend?: BackendType;
  /** --context and --namespace: the kubernetes backend's kubeconfig context and namespace. */
  kubeContext?: string;
  kubeNamespace?: string;
  /** PAUDE_BASE_IMAGE: the base for built images (air-gapped hosts, CI). */
  baseImage?: string;
}

export interface LoadConfigOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  paths?: PaudePaths;
  flags?: FlagOverrides;
  /** "require": untrusted project files stop the load; "ignore": validate and merge anyway (config validate). */
  trust: 'require' | 'ignore';
}

export interface ConfigFiles {
  global?: LoadedFile<unknown>;
  project?: LoadedFile<unknown>;
  devcontainer?: LoadedFile<unknown>;
}

export interface ResolvedConfig {
  config: EffectiveConfig;
  sources: ReadonlyMap<string, Source>;
  warnings: string[];
  project: ProjectFiles;
  paths: PaudePaths;
  files: ConfigFiles;
}

export class UntrustedConfigError extends PaudeError {
  constructor(readonly pending: PendingTrust[]) {
    const names = pending.map((p) => p.file.display).join(' and ');
    const plural = pending.length > 1;
    const what = pending.every((p) => p.state === 'new')
      ? 'not been approved yet'
      : pending.every((p) => p.state === 'changed')
        ? `changed since you approved ${plural ? 'them' : 'it'}`
        : 'not been approved in their current form';
    super(
      `${names} ${plural ? 'have' : 'has'} ${what}, and an agent could have written ${plural ? 'them' : 'it'}; review and approve with "paude trust" before paude uses ${plural ? 'them' : 'it'}`,
      ExitCode.untrusted,
    );
  }
}

export async function loadConfig(options: LoadConfigOptions): Promise<ResolvedConfig> {
  const env = options.env ?? process.env;
  const paths = options.paths ?? resolvePaths(env);
  const project = findProject(options.cwd);
  // Project files read best relative to where the user is, even from a subdirectory.
  const show = (p: string): string => (p.startsWith(project.root + sep) ? relative(options.cwd, p) : displayPath(p, options.cwd));

  const [global, projectFile, devcontainer] = await Promise.all([
    readConfigFile(paths.globalConfigFile, show(paths.globalConfigFile), PaudeFileSchema),
    readConfigFile(project.paudeJson, show(project.paudeJson), PaudeFileSchema),
    readConfigFile(project.devcontainerJson, show(project.devcontainerJson), DevcontainerFileSchema),
  ]);

  if (options.trust === 'require') {
    const store = new TrustStore(paths.trustFile);
    const pending: PendingTrust[] = [];
    for (const file of [projectFile, devcontainer]) {
      if (!file) continue;
      const check = await store.check(file);
      if (check) pending.push(check);
    }
    if (pending.length > 0) throw new UntrustedConfigError(pending);
  }

  const layers: Layer[] = [];
  if (global) layers.push({ source: { kind: 'global', origin: global.display }, file: global.path, value: global.value });
  if (projectFile) layers.push({ source: { kind: 'project', origin: projectFile.display }, file: projectFile.path, value: projectFile.value });
  const flags = flagLayer(options.flags);
  if (flags) layers.push(flags);

  const merged = mergeLayers(defaultConfig(), layers);
  const sources = new Map(merged.sources);
  if (devcontainer) {
    merged.config.devcontainer = pickDevcontainerSetup(devcontainer.value);
    sources.set('devcontainer', { kind: 'devcontainer', origin: devcontainer.display });
  }
  return {
    config: merged.config,
    sources,
    warnings: merged.warnings,
    project,
    paths,
    files: { global, project: projectFile, devcontainer },
  };
}

function flagLayer(flags: FlagOverrides | undefined): Layer | undefined {
  if (!flags) return undefined;
  const value: Layer['value'] = {};
  if (flags.networkAllow?.length || flags.allowNetwork) {
    value.network = {
      ...(flags.networkAllow?.length ? { allowlist: [...flags.networkAllow] } : {}),
      ...(flags.allowNetwork ? { mode: 'open' as const } : {}),
    };
  }
  if (flags.backend) value.backend = { type: flags.backend };
  if (flags.kubeContext || flags.kubeNamespace) {
    value.backend = { ...value.backend, kubernetes: { ...(flags.kubeContext ? { context: flags.kubeContext } : {}), ...(flags.kubeNamespace ? { namespace: flags.kubeNamespace } : {}) } };
  }
  if (flags.baseImage) value.image = { base: flags.baseImage };
  if (Object.keys(value).length === 0) return undefined;
  return { source: { kind: 'flag', origin: flags.baseImage && Object.keys(value).length === 1 ? 'PAUDE_BASE_IMAGE' : 'command line' }, value };
}
