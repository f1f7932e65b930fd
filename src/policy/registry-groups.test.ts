/**
 * The registry group resolver: fakes for the clients (made-up hosts), and the real clients of
 * this machine where a test says so (compared with what the client itself prints, never with a
 * written-down host).
 */
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EffectivePolicy, PolicyEntry } from './effective-policy.js';
import { REGISTRY_GROUP_NAMES, type RegistryGroupName } from '../config/groups.js';
import { parseNetworkEntry } from '../config/network-entry.js';
import { renderPolicyRules, RULE_LINE } from './policy-rules.js';
import { entryOfUrl, nodeClientHost, type ClientHost, type CommandResult } from './registries/client-host.js';
import { RegistryGroupResolver, registryGroupsIn, registryGroupsOfTexts, withRegistryHosts } from './registry-groups.js';
import { takeRegistryWarnings } from './registry-warnings.js';

const NO_SOURCES = { list: '/nonexistent/sources.list', parts: '/nonexistent/sources.list.d' };

/** A host whose commands answer from a table; hold() keeps every answer back until its release is called. */
function fakeHost(commands: Record<string, CommandResult | string>, files: Record<string, string> = {}): ClientHost & { ran: string[]; hold: () => () => void } {
  const ran: string[] = [];
  let gate = Promise.resolve();
  return {
    ran,
    hold: () => {
      let release!: () => void;
      gate = new Promise<void>((r) => (release = r));
      return release;
    },
    env: {},
    home: '/home/ada',
    run: async (file, args) => {
      const key = [file, ...args].join(' ');
      ran.push(key);
      await gate;
      const answer = commands[key];
      return answer === undefined ? { kind: 'missing' } : typeof answer === 'string' ? { kind: 'ok', stdout: answer } : answer;
    },
    readText: (path) => Promise.resolve(files[path]),
    listDir: () => Promise.resolve([]),
  };
}

const entry = (text: string): PolicyEntry => {
  const parsed = parseNetworkEntry(text);
  if (!parsed.ok) throw new Error(parsed.problem);
  return { rule: parsed.rule, text, source: 'global' };
};
const policyOf = (allow: string[], deny: string[] = []): EffectivePolicy => ({ mode: 'restricted', allow: allow.map(entry), deny: deny.map(entry), approvalTimeoutSeconds: 30 });

const NPM_LIST = JSON.stringify({ registry: 'https://registry.test/', '@corp:registry': 'https://npm.corp.example.test/' });

describe('RegistryGroupResolver with fake clients', () => {
  it('runs nothing for a policy that uses no registry group', async () => {
    const host = fakeHost({ 'npm config list --json': NPM_LIST });
    const policy = policyOf(['@github', 'example.test']);
    const result = await withRegistryHosts(policy, new RegistryGroupResolver(host, NO_SOURCES));
    expect(result).toEqual({ policy, warnings: [] });
    expect(host.ran).toEqual([]);
  });

  it('asks only the clients of the groups the policy uses, and gives the policy their hosts', async () => {
    const host = fakeHost({ 'npm config list --json': NPM_LIST });
    const { policy, warnings } = await withRegistryHosts(policyOf(['@npm', 'example.test']), new RegistryGroupResolver(host, NO_SOURCES));
    expect(policy.registryHosts).toEqual({ npm: ['registry.test', 'npm.corp.example.test'] });
    expect(warnings).toEqual([]);
    expect(host.ran.every((c) => c.startsWith('npm ') || c.startsWith('yarn '))).toBe(true);
    expect(renderPolicyRules(policy).split('\n')).toEqual(expect.arrayContaining(['allow host registry.test 80,443 @npm', 'allow host npm.corp.example.test 80,443 @npm']));
  });

  it('resolves groups in the denylist too', async () => {
    const host = fakeHost({ 'go env GOPROXY GOSUMDB': 'https://proxy.example.test\noff\n' });
    const { policy } = await withRegistryHosts(policyOf([], ['@golang']), new RegistryGroupResolver(host, NO_SOURCES));
    expect(renderPolicyRules(policy)).toContain('deny host proxy.example.test * @golang\n');
  });

  it('looks each group up once per resolver, however often it is asked', async () => {
    const host = fakeHost({ 'npm config list --json': NPM_LIST });
    const resolver = new RegistryGroupResolver(host, NO_SOURCES);
    const [a, b] = await Promise.all([resolver.resolve(['npm']), resolver.resolve(['npm', 'npm'])]);
    await resolver.resolve(['npm']);
    expect(a).toEqual(b);
    expect(host.ran.filter((c) => c === 'npm config list --json')).toHaveLength(1);
  });

  it('starts every client before any has answered (they run in parallel)', async () => {
    const host = fakeHost({ 'npm config list --json': NPM_LIST, 'go env GOPROXY GOSUMDB': 'https://proxy.example.test\n' });
    const release = host.hold();
    const resolver = new RegistryGroupResolver(host, NO_SOURCES);
    const done = resolver.resolve(['npm', 'golang', 'pypi']);
    await new Promise<void>((r) => setImmediate(r));
    expect(host.ran).toEqual(expect.arrayContaining(['npm config list --json', 'go env GOPROXY GOSUMDB', 'python3 -m pip config list']));
    release();
    expect((await done).hosts.golang).toEqual(['proxy.example.test']);
  });

  it('an unresolvable group is empty, with one warning line that says what to configure', async () => {
    const resolver = new RegistryGroupResolver(fakeHost({}), NO_SOURCES);
    const { hosts, warnings } = await resolver.resolve(REGISTRY_GROUP_NAMES);
    expect(hosts).toEqual({ npm: [], pypi: [], crates: [], golang: [], debian: [] });
    expect(warnings).toEqual([
      '@npm is empty: npm is not installed here; add your registry host to network.allowlist instead',
      '@pypi is empty: python3 is not installed here; add your index host to network.allowlist instead',
      "@crates is empty: cargo has no registry configured in /home/ada/.cargo/config.toml and does not report its default one; add your registry's hosts to network.allowlist instead",
      "@golang is empty: go is not installed here; add your module proxy's host to network.allowlist instead",
      "@debian is empty: apt's sources were not found here (/nonexistent/sources.list, /nonexistent/sources.list.d); add your mirror's host to network.allowlist instead",
    ]);
    for (const w of warnings) expect(w).not.toMatch(/[\n\r]/);
  });

  it('hands each warning out once through takeWarnings, while resolve() keeps returning it as data', async () => {
    const resolver = new RegistryGroupResolver(fakeHost({}), NO_SOURCES);
    expect(resolver.takeWarnings()).toEqual([]);
    await resolver.resolve(['golang']);
    expect(resolver.takeWarnings()).toEqual([expect.stringMatching(/^@golang is empty: /)]);
    expect(resolver.takeWarnings()).toEqual([]);
    expect((await resolver.resolve(['golang'])).warnings).toHaveLength(1);
    expect(resolver.takeWarnings()).toEqual([]);
  });

  it('a client that throws leaves its group empty with a warning; the others still resolve', async () => {
    const host = fakeHost({ 'npm config list --json': NPM_LIST });
    host.readText = () => Promise.reject(new Error('boom'));
    const { hosts, warnings } = await new RegistryGroupResolver(host, NO_SOURCES).resolve(['crates', 'npm']);
    expect(hosts.npm).toEqual(['registry.test', 'npm.corp.example.test']);
    expect(warnings).toEqual(["@crates is empty: its configuration could not be read (boom); add your registry's hosts to network.allowlist instead"]);
  });

  it('a partial answer keeps its hosts and says what may be missing', async () => {
    const host = fakeHost({}, { '/home/ada/.cargo/config.toml': '[registries.corp]\nindex = "sparse+https://cargo.corp.example.test/"\n' });
    const { hosts, warnings } = await new RegistryGroupResolver(host, NO_SOURCES).resolve(['crates']);
    expect(hosts.crates).toEqual(['cargo.corp.example.test']);
    expect(warnings).toEqual([expect.stringMatching(/^@crates may be incomplete: cargo does not report its default registry.*; add your registry's hosts to network.allowlist if you need more$/)]);
  });

  it('names registry groups in entries and in entry texts', () => {
    expect(registryGroupsIn([entry('@npm'), entry('@github'), entry('@pypi'), entry('@NPM')])).toEqual(['npm', 'pypi']);
    expect(registryGroupsOfTexts(['@Debian', 'x.test', '@anthropic', '@nope', '@debian', '@crates'])).toEqual(['debian', 'crates']);
  });

  it('property: whatever a client prints, a group holds only single hosts or addresses, and renders as grammar lines', async () => {
    const junk = fc.oneof(fc.string(), fc.webUrl(), fc.constantFrom('https://*.example.test/', 'http://localhost:0/', 'https://a..b/', 'http://[::1]/', 'https://0x7f000001/', 'http://com/'));
    await fc.assert(
      fc.asyncProperty(fc.array(junk, { maxLength: 5 }), fc.string(), async (urls, goOut) => {
        const npm = JSON.stringify(Object.fromEntries(urls.map((u, i) => [i === 0 ? 'registry' : `@s${i}:registry`, u])));
        const host = fakeHost({ 'npm config list --json': npm, 'go env GOPROXY GOSUMDB': goOut }, { '/apt/sources.list': urls.map((u) => `deb ${u} bookworm main`).join('\n') });
        const { hosts, warnings } = await new RegistryGroupResolver(host, { list: '/apt/sources.list', parts: '/apt/d' }).resolve(['npm', 'golang', 'debian']);
        for (const name of ['npm', 'golang', 'debian'] as RegistryGroupName[]) {
          for (const e of hosts[name] ?? []) {
            const parsed = parseNetworkEntry(e);
            expect(parsed.ok && (parsed.rule.kind === 'host' || parsed.rule.kind === 'ip'), e).toBe(true);
          }
          if ((hosts[name] ?? []).length === 0) expect(warnings.some((w) => w.startsWith(`@${name} is empty: `))).toBe(true);
        }
        // eslint-disable-next-line no-control-regex -- a warning is one plain line
        for (const w of warnings) expect(w).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
        const policy: EffectivePolicy = { ...policyOf(['@npm', '@golang'], ['@debian']), registryHosts: hosts };
        for (const line of renderPolicyRules(policy).trimEnd().split('\n').slice(3)) expect(line).toMatch(RULE_LINE);
      }),
      { numRuns: 200 },
    );
  });
});

describe('RegistryGroupResolver with the real clients of this machine', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'paude-registry-groups-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("@npm holds the host of the registry npm itself prints (npm config get registry)", async () => {
    const printed = execFileSync('npm', ['config', 'get', 'registry'], { cwd: process.env.HOME, encoding: 'utf8' }).trim();
    const expected = entryOfUrl(printed);
    expect(expected, `npm printed ${JSON.stringify(printed)}`).toBeDefined();
    const { hosts, warnings } = await new RegistryGroupResolver(nodeClientHost(process.env), NO_SOURCES).resolve(['npm']);
    expect(hosts.npm).toContain(expected);
    expect(warnings).toEqual([]);
  });

  it('@debian holds the hosts of an apt sources directory (real files, made-up hosts)', async () => {
    const list = join(dir, 'sources.list');
    const parts = join(dir, 'sources.list.d');
    await mkdir(parts);
    await writeFile(list, '# made-up mirrors\ndeb http://mirror.example.test/debian bookworm main\n');
    await writeFile(join(parts, 'extra.list'), 'deb [signed-by=/k.gpg] https://extra.example.test:8443/apt stable main\n');
    await writeFile(join(parts, 'main.sources'), 'Types: deb\nURIs: http://deb822.example.test/debian\nSuites: bookworm\nComponents: main\n\nEnabled: no\nTypes: deb\nURIs: http://off.example.test/debian\n');
    await writeFile(join(parts, 'gone.list.disabled'), 'deb http://disabled.example.test/debian bookworm main\n');
    const { hosts, warnings } = await new RegistryGroupResolver(nodeClientHost(process.env), { list, parts }).resolve(['debian']);
    expect(hosts.debian).toEqual(['mirror.example.test', 'extra.example.test:8443', 'deb822.example.test']);
    expect(warnings).toEqual([]);
  });

  it('a client that hangs is given up at its deadline: the group is empty, with a warning', async () => {
    const bin = join(dir, 'bin');
    await mkdir(bin);
    // A shim that runs the real (here: hanging) program as a child, as pyenv's and rustup's do.
    await writeFile(join(bin, 'go'), '#!/bin/sh\n/bin/sleep 600\necho never\n');
    await chmod(join(bin, 'go'), 0o755);
    const host = nodeClientHost({ ...process.env, PATH: bin }, 300);
    const { hosts, warnings } = await new RegistryGroupResolver(host, NO_SOURCES).resolve(['golang']);
    expect(hosts.golang).toEqual([]);
    expect(warnings).toEqual(["@golang is empty: `go env` did not answer within 1 s; add your module proxy's host to network.allowlist instead"]);
  });

  it('a client that is not on PATH is "not installed here"', async () => {
    const host = nodeClientHost({ ...process.env, PATH: join(dir, 'empty') });
    const { warnings } = await new RegistryGroupResolver(host, NO_SOURCES).resolve(['npm', 'pypi']);
    expect(warnings).toEqual([
      '@npm is empty: npm is not installed here; add your registry host to network.allowlist instead',
      '@pypi is empty: python3 is not installed here; add your index host to network.allowlist instead',
    ]);
  });

  it('the process-wide sink hands out nothing when no shared resolver was made', () => {
    expect(takeRegistryWarnings()).toEqual([]);
  });
});
