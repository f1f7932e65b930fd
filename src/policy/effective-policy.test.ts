import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultConfig, type EffectiveConfig } from '../config/defaults.js';
import { mergeLayers, type Layer } from '../config/layering.js';
import { loadConfig } from '../config/load-config.js';
import type { PaudeFile } from '../config/schema.js';
import { decide } from './decide.js';
import { buildEffectivePolicy, compileEntries, providerEntries, type EffectivePolicy, type PolicyEntry } from './effective-policy.js';
import { ALLOWLIST_GROUPS, REGISTRY_GROUP_NAMES, type FixedGroupName, type RegistryGroupName } from '../config/groups.js';
import { formatNetworkRule, parseNetworkEntry } from '../config/network-entry.js';
import { RULE_LINE, compilePolicy, renderPolicyRules } from './policy-rules.js';

/** What a user reads in `paude policy`: entry text and where it came from. */
const shown = (list: readonly PolicyEntry[]): Array<[string, string]> => list.map((e) => [e.text, e.source]);

function configWith(patch: (c: EffectiveConfig) => void): EffectiveConfig {
  const c = defaultConfig();
  patch(c);
  return c;
}

const layer = (kind: 'global' | 'project' | 'flag', value: PaudeFile): Layer => ({ source: { kind, origin: kind === 'flag' ? 'command line' : `${kind}/paude.json` }, value });

describe('buildEffectivePolicy from a real loadConfig', () => {
  let root: string;
  let project: string;
  let env: NodeJS.ProcessEnv;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'paude-effective-policy-'));
    project = join(root, 'project');
    await mkdir(join(project, '.git'), { recursive: true });
    await mkdir(join(root, 'config'));
    env = { PAUDE_CONFIG_DIR: join(root, 'config'), PAUDE_DATA_DIR: join(root, 'data'), PAUDE_CACHE_DIR: join(root, 'cache') };
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('combines provider, global, project, flags, approvals and session entries, each with its source', async () => {
    await writeFile(
      join(root, 'config', 'paude.json'),
      JSON.stringify({
        provider: 'vertex',
        credentials: { vertex: { region: 'europe-west9' } },
        network: { mode: 'ask', approvalTimeoutSeconds: 90, allowlist: ['GitHub.com', '@npm'], denylist: ['gist.github.com'] },
      }),
    );
    await writeFile(join(project, 'paude.json'), JSON.stringify({ network: { allowlist: ['*.internal.test', 'github.com'], denylist: ['.ads.test'] } }));
    const resolved = await loadConfig({ cwd: project, env, trust: 'ignore', flags: { networkAllow: ['docs.rs:8443'] } });

    const policy = buildEffectivePolicy({
      config: resolved.config,
      sources: resolved.sources,
      projectApprovals: { allow: ['packages.example.test'], deny: ['tracker.test'] },
      session: { allow: ['api.example.com'], deny: ['ip:10.0.0.1'] },
    });

    expect(policy.mode).toBe('ask');
    expect(policy.approvalTimeoutSeconds).toBe(90);
    expect(shown(policy.allow)).toEqual([
      ['@vertex', 'provider'],
      ['europe-west9-aiplatform.googleapis.com', 'provider'],
      ['github.com', 'global'],
      ['@npm', 'global'],
      ['*.internal.test', 'project'],
      ['docs.rs:8443', 'flag'],
      ['packages.example.test', 'approval'],
      ['api.example.com', 'session'],
    ]);
    expect(shown(policy.deny)).toEqual([
      ['gist.github.com', 'global'],
      ['.ads.test', 'project'],
      ['tracker.test', 'approval'],
      ['ip:10.0.0.1', 'session'],
    ]);
    // Every entry carries the parsed rule its text stands for.
    for (const e of [...policy.allow, ...policy.deny]) expect(e.rule).toEqual((parseNetworkEntry(e.text) as { rule: unknown }).rule);
  });

  it('with no files, allows only the default provider and restricts everything else', async () => {
    const resolved = await loadConfig({ cwd: project, env, trust: 'ignore' });
    const policy = buildEffectivePolicy({ config: resolved.config, sources: resolved.sources });
    expect(policy).toEqual({
      mode: 'restricted',
      allow: [{ rule: { kind: 'group', name: 'anthropic' }, text: '@anthropic', source: 'provider' }],
      deny: [],
      approvalTimeoutSeconds: 30,
    });
    const compiled = compilePolicy(policy);
    expect(decide(compiled, 'api.anthropic.com', 443)).toEqual({ decision: 'allow', rule: '@anthropic' });
    expect(decide(compiled, 'example.com', 443)).toEqual({ decision: 'deny', rule: 'not-allowed' });
  });

  it('--allow-network turns filtering off (open mode)', async () => {
    const resolved = await loadConfig({ cwd: project, env, trust: 'ignore', flags: { allowNetwork: true } });
    expect(buildEffectivePolicy({ config: resolved.config, sources: resolved.sources }).mode).toBe('open');
  });
});

describe('buildEffectivePolicy from mergeLayers', () => {
  it('a project file cannot loosen the mode the global file set', () => {
    const merged = mergeLayers(defaultConfig(), [layer('global', { network: { mode: 'ask' } }), layer('project', { network: { mode: 'restricted' } })]);
    expect(buildEffectivePolicy({ config: merged.config, sources: merged.sources }).mode).toBe('restricted');
  });

  it('a project allowlist is ignored when the global file forbids extending it', () => {
    const merged = mergeLayers(defaultConfig(), [
      layer('global', { network: { projectMayExtend: false, allowlist: ['a.test'] } }),
      layer('project', { network: { allowlist: ['b.test'], denylist: ['c.test'] } }),
    ]);
    const policy = buildEffectivePolicy({ config: merged.config, sources: merged.sources });
    expect(shown(policy.allow)).toEqual([
      ['@anthropic', 'provider'],
      ['a.test', 'global'],
    ]);
    // Denylist entries only narrow, so a project may always add them.
    expect(shown(policy.deny)).toEqual([['c.test', 'project']]);
  });

  it('entries with no recorded source count as built-in', () => {
    const config = configWith((c) => {
      c.network.allowlist = ['x.test'];
    });
    expect(shown(buildEffectivePolicy({ config, sources: new Map() }).allow)).toContainEqual(['x.test', 'built-in']);
    expect(shown(buildEffectivePolicy({ config, sources: new Map([['network', { kind: 'devcontainer' }]]) }).allow)).toContainEqual(['x.test', 'built-in']);
  });
});

describe('buildEffectivePolicy: de-duplication and hygiene', () => {
  it('counts entries that mean the same rule once, keeping the first source', () => {
    const config = configWith((c) => {
      c.network.allowlist = ['Example.com', 'example.com.', 'EXAMPLE.COM:443', '@anthropic'];
      c.network.denylist = ['bad.test', 'BAD.test'];
    });
    const policy = buildEffectivePolicy({
      config,
      sources: new Map([['network', { kind: 'global' }]]),
      projectApprovals: { allow: ['example.com', 'ip:10.0.0.1'], deny: ['bad.test.'] },
      session: { allow: ['ip:10.0.0.1', 'Example.Com'], deny: [] },
    });
    expect(shown(policy.allow)).toEqual([
      ['@anthropic', 'provider'],
      ['example.com', 'global'],
      // A port makes it a different rule.
      ['example.com:443', 'global'],
      ['ip:10.0.0.1', 'approval'],
    ]);
    expect(shown(policy.deny)).toEqual([['bad.test', 'global']]);
  });

  it('the same host may be both allowed and denied (deny wins when deciding)', () => {
    const policy = buildEffectivePolicy({ config: defaultConfig(), sources: new Map(), session: { allow: ['x.test'], deny: ['x.test'] } });
    expect(shown(policy.allow)).toContainEqual(['x.test', 'session']);
    expect(shown(policy.deny)).toEqual([['x.test', 'session']]);
    expect(decide(compilePolicy(policy), 'x.test', 443)).toEqual({ decision: 'deny', rule: 'x.test' });
  });

  it('drops entries the grammar rejects instead of widening the policy', () => {
    const policy = buildEffectivePolicy({
      config: defaultConfig(),
      sources: new Map(),
      projectApprovals: { allow: ['*', 'http://evil.test', '*.com', '10.0.0.1', ''], deny: [] },
      session: { allow: ['ok.test', 'two words.test', '.co.uk', '@nope'], deny: ['bad test'] },
    });
    expect(shown(policy.allow)).toEqual([
      ['@anthropic', 'provider'],
      ['ok.test', 'session'],
    ]);
    expect(policy.deny).toEqual([]);
  });
});

describe('providerEntries', () => {
  const provider = (p: EffectiveConfig['provider'], credentials: EffectiveConfig['credentials'] = {}): string[] =>
    providerEntries(configWith((c) => {
      c.provider = p;
      c.credentials = credentials;
    }));

  it.each<[EffectiveConfig['provider'], EffectiveConfig['credentials'], string[]]>([
    ['anthropic', {}, ['@anthropic']],
    ['vertex', {}, ['@vertex']],
    ['vertex', { vertex: { region: 'me-central2' } }, ['@vertex', 'me-central2-aiplatform.googleapis.com']],
    ['bedrock', {}, ['@bedrock']],
    ['bedrock', { bedrock: { region: 'eu-north-1' } }, ['@bedrock', 'bedrock-runtime.eu-north-1.amazonaws.com']],
    ['azure', {}, ['@azure']],
    ['azure', { azure: { resource: 'my-team' } }, ['@azure', 'my-team.services.ai.azure.com']],
  ])('%s with %j allows %j', (p, creds, expected) => {
    expect(provider(p, creds)).toEqual(expected);
  });

  it.each([
    ['vertex', { vertex: { region: 'Europe West' } }],
    ['vertex', { vertex: { region: 'us-east1.evil.test/x' } }],
    ['bedrock', { bedrock: { region: 'us_east_1' } }],
    ['bedrock', { bedrock: { region: '*.' } }],
    ['azure', { azure: { resource: 'evil.test:443#' } }],
  ] as const)('%s ignores a region or resource that is not a DNS label: %j', (p, creds) => {
    expect(provider(p, creds)).toEqual([`@${p}`]);
  });

  it('a region that passes the pattern but is not a valid label is dropped from the policy, never widened', () => {
    const config = configWith((c) => {
      c.provider = 'vertex';
      c.credentials = { vertex: { region: '-bad-' } };
    });
    expect(shown(buildEffectivePolicy({ config, sources: new Map() }).allow)).toEqual([['@vertex', 'provider']]);
  });

  it('the provider\'s hosts are allowed on 443 under the provider\'s group name', () => {
    const config = configWith((c) => {
      c.provider = 'bedrock';
      c.credentials = { bedrock: { region: 'eu-north-1' } };
    });
    const compiled = compilePolicy(buildEffectivePolicy({ config, sources: new Map() }));
    expect(decide(compiled, 'bedrock-runtime.us-east-1.amazonaws.com', 443)).toEqual({ decision: 'allow', rule: '@bedrock' });
    expect(decide(compiled, 'bedrock-runtime.eu-north-1.amazonaws.com', 443)).toEqual({ decision: 'allow', rule: 'bedrock-runtime.eu-north-1.amazonaws.com' });
    // Not S3: anyone's bucket would be reachable.
    expect(decide(compiled, 'my-bucket.s3.amazonaws.com', 443)).toEqual({ decision: 'deny', rule: 'not-allowed' });
  });
});

describe('compileEntries: groups', () => {
  const groupEntry = (name: FixedGroupName | RegistryGroupName): PolicyEntry => ({ rule: { kind: 'group', name }, text: `@${name}`, source: 'global' });
  const groups = Object.keys(ALLOWLIST_GROUPS) as FixedGroupName[];

  it.each(groups)('@%s expands to one valid rule per member, labelled with the group', (name) => {
    const members = ALLOWLIST_GROUPS[name];
    for (const effect of ['allow', 'deny'] as const) {
      const compiled = compileEntries([groupEntry(name)], effect);
      expect(compiled).toHaveLength(members.length);
      compiled.forEach((rule, i) => {
        const member = members[i] ?? '';
        const parsed = parseNetworkEntry(member);
        expect(parsed.ok, member).toBe(true);
        expect(rule).toEqual({
          kind: member.startsWith('.') ? 'dom' : 'host',
          name: member.replace(/^\./, ''),
          ports: effect === 'allow' ? [80, 443] : 'any',
          label: `@${name}`,
        });
        if (parsed.ok) expect(formatNetworkRule(parsed.rule)).toBe(member);
      });
    }
  });

  it.each(REGISTRY_GROUP_NAMES)('@%s expands to the hosts resolved for it, labelled with the group', (name) => {
    const registry = { [name]: [`${name}.mirror.example.test`, 'ip:10.9.8.7:3142', 'registry.test:8443'] };
    expect(compileEntries([groupEntry(name)], 'allow', registry)).toEqual([
      { kind: 'host', name: `${name}.mirror.example.test`, ports: [80, 443], label: `@${name}` },
      { kind: 'ip', name: '10.9.8.7', ports: [3142], label: `@${name}` },
      { kind: 'host', name: 'registry.test', ports: [8443], label: `@${name}` },
    ]);
    expect(compileEntries([groupEntry(name)], 'deny', registry)[0]).toEqual({ kind: 'host', name: `${name}.mirror.example.test`, ports: 'any', label: `@${name}` });
  });

  it.each(REGISTRY_GROUP_NAMES)('@%s expands to nothing while it is not resolved (closed, never open)', (name) => {
    expect(compileEntries([groupEntry(name)], 'allow')).toEqual([]);
    expect(compileEntries([groupEntry(name)], 'allow', { [name]: [] })).toEqual([]);
  });

  it('a resolved member that is not a single host or address is dropped, never widened', () => {
    expect(compileEntries([groupEntry('npm')], 'allow', { npm: ['*', '@github', 'ok.registry.test'] })).toEqual([{ kind: 'host', name: 'ok.registry.test', ports: [80, 443], label: '@npm' }]);
  });

  it('compilePolicy takes the registry hosts the policy carries', () => {
    const policy: EffectivePolicy = { mode: 'restricted', allow: [groupEntry('pypi')], deny: [], approvalTimeoutSeconds: 30, registryHosts: { pypi: ['index.example.test'] } };
    expect(decide(compilePolicy(policy), 'index.example.test', 443)).toEqual({ decision: 'allow', rule: '@pypi' });
    expect(decide(compilePolicy({ ...policy, registryHosts: {} }), 'index.example.test', 443)).toEqual({ decision: 'deny', rule: 'not-allowed' });
  });

  it('every group renders into lines the proxy accepts', () => {
    const entries = [...groups, ...REGISTRY_GROUP_NAMES].map(groupEntry);
    const registryHosts = Object.fromEntries(REGISTRY_GROUP_NAMES.map((g) => [g, [`${g}.registry.test`]]));
    const policy: EffectivePolicy = { mode: 'restricted', allow: entries, deny: entries, approvalTimeoutSeconds: 30, registryHosts };
    const lines = renderPolicyRules(policy).trimEnd().split('\n').slice(3);
    const total = groups.reduce((n, g) => n + ALLOWLIST_GROUPS[g].length, 0) + REGISTRY_GROUP_NAMES.length;
    expect(lines).toHaveLength(2 * total);
    for (const line of lines) expect(line).toMatch(RULE_LINE);
  });

  it('keeps the order entries were given in, so the first matching entry names a decision', () => {
    const entries: PolicyEntry[] = ['.github.com', '@github'].map((t) => {
      const parsed = parseNetworkEntry(t);
      if (!parsed.ok) throw new Error(parsed.problem);
      return { rule: parsed.rule, text: t, source: 'session' };
    });
    const compiled = compileEntries(entries, 'allow');
    expect(compiled[0]).toEqual({ kind: 'dom', name: 'github.com', ports: [80, 443], label: '.github.com' });
    expect(compiled.slice(1).every((r) => r.label === '@github')).toBe(true);
  });
});
