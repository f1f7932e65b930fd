/**
 * The built `paude` shows what the package registry groups in your configuration resolve to,
 * from the real clients of this machine (made-up registries in a temporary npm user config, or
 * compared with what npm itself prints), and says once, on stderr, when a group is empty.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { entryOfUrl } from '../../src/policy/registries/client-host.js';
import { runPaude } from '../support/run-cli.js';

let dir: string;
let env: NodeJS.ProcessEnv;
let repo: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'paude-cli-groups-'));
  // npm reads only the user config named here: npx and npm run export their own settings.
  env = { PAUDE_CONFIG_DIR: join(dir, 'config'), PAUDE_DATA_DIR: join(dir, 'data'), PAUDE_CACHE_DIR: join(dir, 'cache'), npm_config_registry: undefined, npm_config_userconfig: join(dir, 'npmrc') };
  repo = join(dir, 'repo');
  await mkdir(join(repo, '.git'), { recursive: true });
  await mkdir(join(dir, 'config'));
  await writeFile(join(dir, 'npmrc'), '');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const writeGlobal = (value: unknown): Promise<void> => writeFile(join(dir, 'config', 'paude.json'), JSON.stringify(value));

interface Shown {
  groups: Record<string, string[]>;
}

describe('paude config show: registry groups', () => {
  it("shows @npm as the registries of npm's configuration, scoped ones included", async () => {
    await writeFile(join(dir, 'npmrc'), 'registry=https://registry.test/\n@corp:registry=https://npm.corp.example.test:8443/\n');
    await writeGlobal({ network: { allowlist: ['@npm', '@github'] } });
    const r = await runPaude(['config', 'show', '--json'], { cwd: repo, env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const shown = JSON.parse(r.stdout) as Shown;
    expect(shown.groups['@npm']).toEqual(['registry.test', 'npm.corp.example.test:8443']);
    expect(shown.groups['@github']).toContain('github.com');
    const text = await runPaude(['config', 'show'], { cwd: repo, env });
    expect(text.stdout).toMatch(/^@npm\s+registry\.test, npm\.corp\.example\.test:8443\s+resolved from npm's configuration$/m);
  });

  it('shows @npm as the host of the registry that npm itself prints on this machine', async () => {
    const realEnv = { ...env, npm_config_userconfig: undefined };
    const printed = execFileSync('npm', ['config', 'get', 'registry'], { env: { ...process.env, ...realEnv }, cwd: process.env.HOME, encoding: 'utf8' }).trim();
    await writeGlobal({ network: { allowlist: ['@npm'] } });
    const r = await runPaude(['config', 'show', '--json'], { cwd: repo, env: realEnv });
    expect((JSON.parse(r.stdout) as Shown).groups['@npm']).toContain(entryOfUrl(printed));
  });

  it('runs no client and shows no group when the configuration names none', async () => {
    await writeGlobal({ network: { allowlist: ['example.test'] } });
    // With no client on PATH, any lookup would warn.
    const r = await runPaude(['config', 'show', '--json'], { cwd: repo, env: { ...env, PATH: join(dir, 'no-clients-here') } });
    expect(r.stderr).toBe('');
    expect((JSON.parse(r.stdout) as Shown).groups).toEqual({});
  });

  it('an empty group is shown empty, with one warning line on stderr that says what to add', async () => {
    await writeGlobal({ network: { allowlist: ['@golang'], denylist: ['@golang'] } });
    const r = await runPaude(['config', 'show', '--json'], { cwd: repo, env: { ...env, PATH: join(dir, 'no-clients-here') } });
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as Shown).groups['@golang']).toEqual([]);
    expect(r.stderr).toBe("paude: warning: @golang is empty: go is not installed here; add your module proxy's host to network.allowlist instead\n");
  });
});
