import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, ExitCode } from '../errors.js';
import { defaultConfig } from './defaults.js';
import { mergeLayers, sourceOf, type Layer } from './layering.js';
import { loadConfig, UntrustedConfigError, type FlagOverrides, type LoadConfigOptions } from './load-config.js';
import { displayPath, resolvePaths } from './paths.js';
import { TrustStore } from './trust-store.js';

let root: string;
let project: string;
let env: NodeJS.ProcessEnv;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'paude-load-config-'));
  project = join(root, 'project');
  await mkdir(join(project, '.git'), { recursive: true });
  await mkdir(join(root, 'config'));
  await mkdir(join(root, 'data'));
  env = { PAUDE_CONFIG_DIR: join(root, 'config'), PAUDE_DATA_DIR: join(root, 'data'), PAUDE_CACHE_DIR: join(root, 'cache') };
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const globalFile = (): string => join(root, 'config', 'paude.json');
/** The global file lives outside the project, so it is shown as an absolute (or ~) path. */
const globalDisplay = (): string => displayPath(globalFile(), project);
const projectFile = (): string => join(project, 'paude.json');
const devcontainerFile = (): string => join(project, '.devcontainer', 'devcontainer.json');
const trustFile = (): string => join(root, 'data', 'trust.json');

async function writeGlobal(value: unknown): Promise<void> {
  await writeFile(globalFile(), JSON.stringify(value, null, 2) + '\n');
}
async function writeProject(value: unknown): Promise<void> {
  await writeFile(projectFile(), JSON.stringify(value, null, 2) + '\n');
}
async function writeDevcontainer(value: unknown): Promise<void> {
  await mkdir(join(project, '.devcontainer'), { recursive: true });
  await writeFile(devcontainerFile(), JSON.stringify(value, null, 2) + '\n');
}

function load(options: Partial<LoadConfigOptions> & { flags?: FlagOverrides } = {}) {
  return loadConfig({ cwd: project, env, trust: 'ignore', ...options });
}

async function loadError(options: Partial<LoadConfigOptions> = {}): Promise<unknown> {
  return load(options).then(
    (resolved) => {
      throw new Error(`expected the load to fail, got ${JSON.stringify(resolved.config)}`);
    },
    (error: unknown) => error,
  );
}

async function configError(options: Partial<LoadConfigOptions> = {}): Promise<ConfigError> {
  const error = await loadError(options);
  expect(error).toBeInstanceOf(ConfigError);
  expect((error as ConfigError).exitCode).toBe(ExitCode.config);
  expect((error as ConfigError).message).not.toContain('\n');
  return error as ConfigError;
}

async function untrusted(options: Partial<LoadConfigOptions> = {}): Promise<UntrustedConfigError> {
  const error = await loadError({ trust: 'require', ...options });
  expect(error).toBeInstanceOf(UntrustedConfigError);
  expect((error as UntrustedConfigError).exitCode).toBe(ExitCode.untrusted);
  expect((error as UntrustedConfigError).exitCode).toBe(4);
  return error as UntrustedConfigError;
}

describe('loadConfig: layering', () => {
  it('with no files at all gives the defaults, every value from "default"', async () => {
    const resolved = await load();
    expect(resolved.config).toEqual(defaultConfig());
    expect(resolved.warnings).toEqual([]);
    expect(resolved.files).toEqual({ global: undefined, project: undefined, devcontainer: undefined });
    expect(sourceOf(resolved.sources, 'network.mode')).toEqual({ kind: 'default' });
    expect(sourceOf(resolved.sources, 'resources.memory')).toEqual({ kind: 'default' });
    expect(resolved.project).toEqual({ root: project, paudeJson: projectFile(), devcontainerJson: devcontainerFile() });
    expect(resolved.paths.globalConfigFile).toBe(globalFile());
    expect(resolved.paths.trustFile).toBe(trustFile());
  });

  it('merges default, global, project, devcontainer and flags, remembering where each value came from', async () => {
    await writeGlobal({ provider: 'vertex', network: { mode: 'ask', allowlist: ['github.com'] }, resources: { memory: '4g' } });
    await writeProject({ resources: { pids: 512 }, network: { allowlist: ['packages.example.test'], denylist: ['evil.example.com'] }, isolate: ['.cache'] });
    await writeDevcontainer({ name: 'dev', image: 'node:22', remoteUser: 'node', customizations: { vscode: {} } });
    const resolved = await load({ flags: { networkAllow: ['example.org'], backend: 'podman' } });
    const { config, sources } = resolved;

    const global = { kind: 'global', origin: globalDisplay() };
    const proj = { kind: 'project', origin: 'paude.json' };
    const flag = { kind: 'flag', origin: 'command line' };

    expect(config.provider).toBe('vertex');
    expect(sourceOf(sources, 'provider')).toEqual(global);
    expect(config.network.mode).toBe('ask');
    expect(sourceOf(sources, 'network.mode')).toEqual(global);
    expect(config.resources).toEqual({ memory: '4g', pids: 512 });
    expect(sourceOf(sources, 'resources.memory')).toEqual(global);
    expect(sourceOf(sources, 'resources.pids')).toEqual(proj);
    expect(config.backend.type).toBe('podman');
    expect(sourceOf(sources, 'backend.type')).toEqual(flag);
    expect(config.sessions.detachKeys).toBe('ctrl-]');
    expect(sourceOf(sources, 'sessions.detachKeys')).toEqual({ kind: 'default' });

    expect(config.network.allowlist).toEqual(['github.com', 'packages.example.test', 'example.org']);
    expect(sourceOf(sources, 'network.allowlist[0]')).toEqual(global);
    expect(sourceOf(sources, 'network.allowlist[1]')).toEqual(proj);
    expect(sourceOf(sources, 'network.allowlist[2]')).toEqual(flag);
    expect(config.network.denylist).toEqual(['evil.example.com']);
    expect(sourceOf(sources, 'network.denylist[0]')).toEqual(proj);

    expect(config.isolate).toEqual(['.venv', 'node_modules', '.cache']);
    expect(sourceOf(sources, 'isolate[0]')).toEqual({ kind: 'default' });
    expect(sourceOf(sources, 'isolate[2]')).toEqual(proj);

    // Only the fields paude honours are kept from devcontainer.json.
    expect(config.devcontainer).toEqual({ image: 'node:22', remoteUser: 'node' });
    expect(sourceOf(sources, 'devcontainer')).toEqual({ kind: 'devcontainer', origin: join('.devcontainer', 'devcontainer.json') });
    expect(sourceOf(sources, 'devcontainer.image')).toEqual({ kind: 'devcontainer', origin: join('.devcontainer', 'devcontainer.json') });

    expect(resolved.files.global?.display).toBe(globalDisplay());
    expect(resolved.files.project?.display).toBe('paude.json');
    expect(resolved.warnings).toEqual([]);
  });

  it('a later layer overrides an earlier one for plain values', async () => {
    await writeGlobal({ resources: { memory: '4g', pids: 1024 }, sessions: { idleTimeoutMinutes: 10 } });
    await writeProject({ resources: { memory: '2g' }, sessions: { idleTimeoutMinutes: 5 } });
    const { config, sources } = await load();
    expect(config.resources).toEqual({ memory: '2g', pids: 1024 });
    expect(sourceOf(sources, 'resources.memory')).toEqual({ kind: 'project', origin: 'paude.json' });
    expect(sourceOf(sources, 'resources.pids')).toEqual({ kind: 'global', origin: globalDisplay() });
    expect(config.sessions.idleTimeoutMinutes).toBe(5);
  });

  it('does not change the defaults it starts from', async () => {
    await writeGlobal({ network: { allowlist: ['github.com'] } });
    await load();
    expect(defaultConfig().network.allowlist).toEqual([]);
  });

  it('finds the project from a subdirectory and names its files relative to where the user is', async () => {
    await writeProject({ resources: { pids: 512 } });
    const sub = join(project, 'src', 'deep');
    await mkdir(sub, { recursive: true });
    const resolved = await load({ cwd: sub });
    expect(resolved.project.root).toBe(project);
    expect(resolved.config.resources.pids).toBe(512);
    expect(resolved.files.project?.display).toBe(join('..', '..', 'paude.json'));
  });

  it('ignores "$schema" in every file', async () => {
    await writeGlobal({ $schema: 'https://example.com/schema.json' });
    await writeProject({ $schema: 'https://example.com/schema.json' });
    const { config } = await load();
    expect(config).toEqual(defaultConfig());
  });
});

describe('loadConfig: allowlist and denylist are unions', () => {
  it('adds entries from every layer, de-duplicating entries that mean the same rule, whatever their case', async () => {
    await writeGlobal({ network: { allowlist: ['GitHub.com', '*.example.com', '@npm'] } });
    await writeProject({ network: { allowlist: ['github.com', '*.EXAMPLE.com.', 'packages.example.test', '@npm'] } });
    const { config, sources } = await load({ flags: { networkAllow: ['PACKAGES.EXAMPLE.TEST', 'crates.example.test'] } });
    // The first spelling wins and keeps its source.
    expect(config.network.allowlist).toEqual(['GitHub.com', '*.example.com', '@npm', 'packages.example.test', 'crates.example.test']);
    expect(sourceOf(sources, 'network.allowlist[0]')?.kind).toBe('global');
    expect(sourceOf(sources, 'network.allowlist[1]')?.kind).toBe('global');
    expect(sourceOf(sources, 'network.allowlist[2]')?.kind).toBe('global');
    expect(sourceOf(sources, 'network.allowlist[3]')?.kind).toBe('project');
    expect(sourceOf(sources, 'network.allowlist[4]')?.kind).toBe('flag');
  });

  it('keeps entries that differ only in port or form apart', async () => {
    await writeGlobal({ network: { allowlist: ['example.com', 'example.com:8443', '.example.com', '*.example.com'] } });
    const { config } = await load();
    expect(config.network.allowlist).toEqual(['example.com', 'example.com:8443', '.example.com', '*.example.com']);
  });

  it('unites the denylists of the global and project files', async () => {
    await writeGlobal({ network: { denylist: ['evil.example.com'] } });
    await writeProject({ network: { denylist: ['EVIL.example.com', 'worse.example.com'] } });
    const { config, sources } = await load();
    expect(config.network.denylist).toEqual(['evil.example.com', 'worse.example.com']);
    expect(sourceOf(sources, 'network.denylist[0]')?.kind).toBe('global');
    expect(sourceOf(sources, 'network.denylist[1]')?.kind).toBe('project');
  });

  it('ignores project allowlist entries, with a warning, when the global file sets projectMayExtend to false', async () => {
    await writeGlobal({ network: { projectMayExtend: false, allowlist: ['github.com'] } });
    await writeProject({ network: { allowlist: ['packages.example.test'], denylist: ['evil.example.com'] } });
    const { config, warnings } = await load();
    expect(config.network.allowlist).toEqual(['github.com']);
    // Narrowing still works.
    expect(config.network.denylist).toEqual(['evil.example.com']);
    expect(warnings).toEqual(['paude.json: network.allowlist: ignored because your global paude.json sets network.projectMayExtend to false']);
  });

  it('still takes allowlist entries from flags when projectMayExtend is false', async () => {
    await writeGlobal({ network: { projectMayExtend: false } });
    const { config, sources } = await load({ flags: { networkAllow: ['packages.example.test'] } });
    expect(config.network.allowlist).toEqual(['packages.example.test']);
    expect(sourceOf(sources, 'network.allowlist[0]')?.kind).toBe('flag');
  });
});

describe('loadConfig: what a project file may not do', () => {
  it('refuses network.mode "open" in a project file', async () => {
    await writeGlobal({ network: { mode: 'open' } });
    await writeProject({ network: { mode: 'open' } });
    const error = await configError();
    expect(error.message).toBe(
      'paude.json: network.mode: a project file cannot set "open" (only your global paude.json or --allow-network can turn filtering off); use "restricted" or "ask"',
    );
    expect(error.file).toBe(projectFile());
    expect(error.jsonPath).toBe('network.mode');
  });

  it('keeps the global "restricted" when a project asks for "ask", with a warning', async () => {
    await writeGlobal({ network: { mode: 'restricted' } });
    await writeProject({ network: { mode: 'ask' } });
    const { config, sources, warnings } = await load();
    expect(config.network.mode).toBe('restricted');
    expect(sourceOf(sources, 'network.mode')?.kind).toBe('global');
    expect(warnings).toEqual(['paude.json: network.mode: "ask" is ignored because your global paude.json sets the stricter "restricted"']);
  });

  it('keeps the default "restricted" when a project asks for "ask" and there is no global file', async () => {
    await writeProject({ network: { mode: 'ask' } });
    const { config, warnings } = await load();
    expect(config.network.mode).toBe('restricted');
    expect(warnings).toHaveLength(1);
  });

  it('lets a project make the mode stricter', async () => {
    await writeGlobal({ network: { mode: 'ask' } });
    await writeProject({ network: { mode: 'restricted' } });
    const { config, sources, warnings } = await load();
    expect(config.network.mode).toBe('restricted');
    expect(sourceOf(sources, 'network.mode')).toEqual({ kind: 'project', origin: 'paude.json' });
    expect(warnings).toEqual([]);
  });

  it.each([
    [{ backend: { type: 'docker' } }, 'backend', 'it decides where your workspace and credentials are sent'],
    [{ credentials: { gitconfig: false } }, 'credentials', 'it decides which credentials enter the container'],
    [{ provider: 'bedrock' }, 'provider', 'it decides which credentials enter the container'],
    [{ telemetry: { otel: { enabled: true } } }, 'telemetry', 'telemetry endpoints receive data from your sessions and are added to the allowlist'],
    [{ certificates: { inheritHost: true } }, 'certificates', 'trusted certificates can read host files and let traffic be intercepted'],
    [{ image: { agent: 'evil:latest' } }, 'image', 'it decides which image runs with your credentials (use .devcontainer/devcontainer.json for project images)'],
    [{ audit: { sinks: [] } }, 'audit', 'audit sinks are yours to choose'],
    [{ network: { projectMayExtend: true } }, 'network.projectMayExtend', 'only your global file decides whether projects may extend the allowlist'],
    [{ claude: { persistProjectConfig: true } }, 'claude.persistProjectConfig', 'persisting .claude changes lets a session change what runs on your host'],
    [{ claude: { persistProjectConfig: false } }, 'claude.persistProjectConfig', 'persisting .claude changes lets a session change what runs on your host'],
    [{ claude: { args: ['--dangerously-skip-permissions'] } }, 'claude.args', 'Claude Code flags can change its permissions'],
    [{ sessions: { detachKeys: 'ctrl-x' } }, 'sessions.detachKeys', 'the detach keys are a personal setting'],
  ])('refuses the global-only setting %j in a project file', async (value, path, reason) => {
    await writeProject(value);
    const error = await configError();
    expect(error.message).toBe(`paude.json: ${path}: a project file cannot set this because ${reason}; move it to your global paude.json`);
    expect(error.file).toBe(projectFile());
    expect(error.jsonPath).toBe(path);
  });

  it('accepts the same global-only settings in the global file', async () => {
    await writeGlobal({
      backend: { type: 'docker' },
      credentials: { gitconfig: false },
      telemetry: { otel: { enabled: true } },
      certificates: { inheritHost: true },
      network: { projectMayExtend: false },
      claude: { persistProjectConfig: true },
    });
    const { config, sources } = await load();
    expect(config.backend.type).toBe('docker');
    expect(config.credentials.gitconfig).toBe(false);
    expect(config.telemetry.otel.enabled).toBe(true);
    expect(config.certificates.inheritHost).toBe(true);
    expect(config.network.projectMayExtend).toBe(false);
    expect(config.claude.persistProjectConfig).toBe(true);
    expect(sourceOf(sources, 'claude.persistProjectConfig')?.kind).toBe('global');
  });

  it('refuses claude.copyHostConfig true in a project file but accepts false', async () => {
    await writeProject({ claude: { copyHostConfig: true } });
    const error = await configError();
    expect(error.message).toBe('paude.json: claude.copyHostConfig: a project file can only set this to false');
    expect(error.jsonPath).toBe('claude.copyHostConfig');

    await writeProject({ claude: { copyHostConfig: false } });
    const { config, sources } = await load();
    expect(config.claude.copyHostConfig).toBe(false);
    expect(sourceOf(sources, 'claude.copyHostConfig')).toEqual({ kind: 'project', origin: 'paude.json' });
  });

  it('intersects plugins.allow with the global list', async () => {
    await writeGlobal({ plugins: { allow: ['github', 'linear', 'sentry'] } });
    await writeProject({ plugins: { allow: ['linear', 'sentry', 'evil'] } });
    const { config, sources } = await load();
    expect(config.plugins.allow).toEqual(['linear', 'sentry']);
    expect(sourceOf(sources, 'plugins.allow')?.kind).toBe('project');
  });

  it('lets a project narrow plugins.allow when the global file allows every plugin', async () => {
    await writeProject({ plugins: { allow: ['linear'], deny: ['sentry'] } });
    const { config } = await load();
    expect(config.plugins.allow).toEqual(['linear']);
    expect(config.plugins.deny).toEqual(['sentry']);
  });

  it('does not let a project put a plugin back into an empty global allow list', async () => {
    await writeGlobal({ plugins: { allow: [] } });
    await writeProject({ plugins: { allow: ['evil'] } });
    const { config } = await load();
    expect(config.plugins.allow).toEqual([]);
  });
});

describe('loadConfig: flags', () => {
  it('--allow-network turns on open mode with a flag source, over a global "restricted"', async () => {
    await writeGlobal({ network: { mode: 'restricted' } });
    const { config, sources } = await load({ flags: { allowNetwork: true } });
    expect(config.network.mode).toBe('open');
    expect(sourceOf(sources, 'network.mode')).toEqual({ kind: 'flag', origin: 'command line' });
  });

  it('--allow-network wins over a project that asks for a stricter mode', async () => {
    await writeGlobal({ network: { mode: 'ask' } });
    await writeProject({ network: { mode: 'restricted' } });
    const { config, sources } = await load({ flags: { allowNetwork: true } });
    expect(config.network.mode).toBe('open');
    expect(sourceOf(sources, 'network.mode')?.kind).toBe('flag');
  });

  it('empty flags change nothing', async () => {
    const { config } = await load({ flags: { networkAllow: [], allowNetwork: false } });
    expect(config).toEqual(defaultConfig());
  });
});

describe('loadConfig: trust', () => {
  const projectText = '{\n  "network": {\n    "allowlist": ["packages.example.test"]\n  }\n}\n';

  it('stops at a project paude.json that was never approved, and shows all of it', async () => {
    await writeFile(projectFile(), projectText);
    const error = await untrusted();
    expect(error.message).toBe(
      'paude.json has not been approved yet, and an agent could have written it; review and approve with "paude trust" before paude uses it',
    );
    expect(error.pending).toHaveLength(1);
    const [pending] = error.pending;
    expect(pending?.state).toBe('new');
    expect(pending?.file.path).toBe(projectFile());
    expect(pending?.file.text).toBe(projectText);
    expect(pending?.diff).toContain('paude.json (not approved before)');
    for (const line of projectText.trimEnd().split('\n')) expect(pending?.diff).toContain(`+${line}`);
  });

  it('loads once the file is approved, and keeps the approval outside the repository', async () => {
    await writeFile(projectFile(), projectText);
    const error = await untrusted();
    const paths = resolvePaths(env);
    expect(paths.trustFile).toBe(trustFile());
    await new TrustStore(paths.trustFile).approve(error.pending.map((p) => p.file));

    const resolved = await load({ trust: 'require' });
    expect(resolved.config.network.allowlist).toEqual(['packages.example.test']);

    const stored = JSON.parse(await readFile(trustFile(), 'utf8')) as { version: number; files: Record<string, { sha256: string; content?: string }> };
    expect(stored.version).toBe(1);
    expect(stored.files[projectFile()]?.sha256).toBe(error.pending[0]?.file.sha256);
    expect(stored.files[projectFile()]?.content).toBe(projectText);
    expect((await readdir(project)).sort()).toEqual(['.git', 'paude.json']);
  });

  it('stops again after a one-byte change and shows what changed', async () => {
    await writeFile(projectFile(), projectText);
    const first = await untrusted();
    await new TrustStore(trustFile()).approve(first.pending.map((p) => p.file), new Date('2025-01-02T03:04:05Z'));
    await load({ trust: 'require' });

    await writeFile(projectFile(), projectText.replace('packages.example.test', 'packages.example.tesx'));
    const error = await untrusted();
    expect(error.message).toBe(
      'paude.json has changed since you approved it, and an agent could have written it; review and approve with "paude trust" before paude uses it',
    );
    const [pending] = error.pending;
    expect(pending?.state).toBe('changed');
    expect(pending?.diff).toContain('paude.json (approved 2025-01-02T03:04:05.000Z)');
    expect(pending?.diff).toContain('-    "allowlist": ["packages.example.test"]');
    expect(pending?.diff).toContain('+    "allowlist": ["packages.example.tesx"]');
    // Unchanged lines are context, not changes.
    expect(pending?.diff).toContain('   "network": {');
    expect(pending?.diff).not.toContain('+  "network": {');
  });

  it('treats a whitespace-only change as a change (approvals are for bytes)', async () => {
    await writeFile(projectFile(), projectText);
    await new TrustStore(trustFile()).approve((await untrusted()).pending.map((p) => p.file));
    await writeFile(projectFile(), projectText + '\n');
    expect((await untrusted()).pending[0]?.state).toBe('changed');
  });

  it('does not carry an approval over to the same bytes in another repository', async () => {
    await writeFile(projectFile(), projectText);
    await new TrustStore(trustFile()).approve((await untrusted()).pending.map((p) => p.file));
    const other = join(root, 'other');
    await mkdir(join(other, '.git'), { recursive: true });
    await writeFile(join(other, 'paude.json'), projectText);
    const error = await untrusted({ cwd: other });
    expect(error.pending[0]?.state).toBe('new');
    expect(error.pending[0]?.file.path).toBe(join(other, 'paude.json'));
  });

  it('lists a new devcontainer.json and a new paude.json together', async () => {
    await writeFile(projectFile(), projectText);
    await writeDevcontainer({ image: 'node:22' });
    const error = await untrusted();
    expect(error.pending.map((p) => [p.file.path, p.state])).toEqual([
      [projectFile(), 'new'],
      [devcontainerFile(), 'new'],
    ]);
    expect(error.message).toBe(
      `paude.json and ${join('.devcontainer', 'devcontainer.json')} have not been approved yet, and an agent could have written them; review and approve with "paude trust" before paude uses them`,
    );
  });

  it('asks only about the devcontainer.json when the paude.json is already approved', async () => {
    await writeFile(projectFile(), projectText);
    await new TrustStore(trustFile()).approve((await untrusted()).pending.map((p) => p.file));
    await writeDevcontainer({ image: 'node:22' });
    const error = await untrusted();
    expect(error.pending.map((p) => p.file.path)).toEqual([devcontainerFile()]);
  });

  it('never asks about the global file', async () => {
    await writeGlobal({ network: { mode: 'ask' } });
    const resolved = await load({ trust: 'require' });
    expect(resolved.config.network.mode).toBe('ask');
  });

  it('fails closed with a ConfigError naming a trust.json that is not JSON', async () => {
    await writeFile(projectFile(), projectText);
    await writeFile(trustFile(), '{ this is not json');
    const error = await configError({ trust: 'require' });
    expect(error.message).toBe(`${trustFile()}: is not valid JSON; delete it to start over (project config files will need approval again)`);
    expect(error.file).toBe(trustFile());
  });

  it('fails closed with a ConfigError naming a trust.json of the wrong shape, even if it names the file', async () => {
    await writeFile(projectFile(), projectText);
    await writeFile(trustFile(), JSON.stringify({ version: 1, files: { [projectFile()]: { sha256: 'trusted', approvedAt: 'now' } } }));
    const error = await configError({ trust: 'require' });
    expect(error.message.startsWith(`${trustFile()}: `)).toBe(true);
    expect(error.message).toMatch(/; delete the file to start over \(project config files will need approval again\)$/);
    expect(error.file).toBe(trustFile());

    await writeFile(trustFile(), JSON.stringify({ version: 2, files: {} }));
    const version = await configError({ trust: 'require' });
    expect(version.message).toMatch(new RegExp(`^${trustFile().replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: version: `));
  });

  it('fails closed when trust.json cannot be read at all (a directory in its place)', async () => {
    await writeFile(projectFile(), projectText);
    await mkdir(trustFile());
    const error = await loadError({ trust: 'require' });
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).not.toBeInstanceOf(UntrustedConfigError);
    expect((error as ConfigError).message).toMatch(/trust\.json: cannot be read \(EISDIR\); fix or delete it/);
  });

  it('loads without approval when trust is "ignore", and records nothing', async () => {
    await writeFile(projectFile(), projectText);
    await writeDevcontainer({ image: 'node:22' });
    const resolved = await load({ trust: 'ignore' });
    expect(resolved.config.network.allowlist).toEqual(['packages.example.test']);
    expect(resolved.config.devcontainer).toEqual({ image: 'node:22' });
    await expect(readFile(trustFile(), 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('validates an untrusted file before asking for approval, so a broken file is reported as broken', async () => {
    await writeProject({ network: { mode: 'closed' } });
    const error = await configError({ trust: 'require' });
    expect(error.message).toBe('paude.json: network.mode: "closed" is not allowed (expected "restricted", "ask" or "open")');
  });

  it('still refuses a project "open" after the file is approved', async () => {
    await writeProject({ network: { mode: 'open' } });
    await new TrustStore(trustFile()).approve((await untrusted()).pending.map((p) => p.file));
    const error = await configError({ trust: 'require' });
    expect(error.message).toMatch(/^paude\.json: network\.mode: a project file cannot set "open"/);
  });
});

describe('TrustStore', () => {
  const file = (path: string, text: string, sha256: string) => ({ path, display: 'paude.json', text, sha256, value: {} });
  const sha = (c: string) => c.repeat(64);

  it('revoking an approval makes the file new again', async () => {
    const store = new TrustStore(trustFile());
    const f = file('/p/paude.json', '{}', sha('a'));
    await store.approve([f]);
    expect(await store.check(f)).toBeUndefined();
    expect(await store.revoke(['/p/paude.json', '/never/approved'])).toBe(1);
    expect((await store.check(f))?.state).toBe('new');
  });

  it('approving one file keeps the approvals of others', async () => {
    const store = new TrustStore(trustFile());
    const a = file('/a/paude.json', '{}', sha('a'));
    const b = file('/b/paude.json', '{}', sha('b'));
    await store.approve([a]);
    await store.approve([b]);
    expect(await store.check(a)).toBeUndefined();
    expect(await store.check(b)).toBeUndefined();
  });

  it('does not keep a copy of a very large file, but still trusts its hash and reports a change', async () => {
    const store = new TrustStore(trustFile());
    const big = file('/p/paude.json', ' '.repeat(300 * 1024) + '{}', sha('c'));
    await store.approve([big]);
    const stored = JSON.parse(await readFile(trustFile(), 'utf8')) as { files: Record<string, { content?: string }> };
    expect(stored.files['/p/paude.json']).not.toHaveProperty('content');
    expect(await store.check(big)).toBeUndefined();
    expect((await store.check({ ...big, sha256: sha('d') }))?.state).toBe('changed');
  });
});

describe('mergeLayers', () => {
  it('refuses a global-only key only in project layers, naming the file from the layer', () => {
    const layer: Layer = { source: { kind: 'project', origin: 'sub/paude.json' }, file: '/abs/sub/paude.json', value: { ui: { theme: 'dark' } } };
    expect(() => mergeLayers(defaultConfig(), [layer])).toThrow(
      'sub/paude.json: ui: a project file cannot set this because key bindings and themes are personal settings; move it to your global paude.json',
    );
    const merged = mergeLayers(defaultConfig(), [{ ...layer, source: { kind: 'global', origin: 'g' } }]);
    expect(merged.config.ui.theme).toBe('dark');
  });

  it('sourceOf falls back to the nearest recorded ancestor', () => {
    const merged = mergeLayers(defaultConfig(), [{ source: { kind: 'global', origin: 'g' }, value: { telemetry: { otel: { attributes: { team: 'a' } } } } }]);
    expect(sourceOf(merged.sources, 'telemetry.otel.attributes.team')).toEqual({ kind: 'global', origin: 'g' });
    expect(sourceOf(merged.sources, 'telemetry.otel.enabled')).toEqual({ kind: 'default' });
    expect(sourceOf(merged.sources, 'no.such.path')).toEqual({ kind: 'default' });
  });
});
