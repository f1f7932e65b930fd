/**
 * Fuzz: paude.json (global and project) and .devcontainer/devcontainer.json, from the bytes of
 * the file to the effective configuration and the proxy's rules, through loadConfig as every
 * command uses it. Whatever a file holds, paude either takes it or says in one line what is
 * wrong and where; what it takes only ever renders as rules file lines of its grammar. (squid.conf
 * takes no value from these files: it is rendered from the session id and fixed paths, and
 * session-refs.test.ts checks it.)
 */
import type * as FsPromises from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { ConfigError, ExitCode } from '../../src/errors.js';
import { loadConfig, type ResolvedConfig } from '../../src/config/load-config.js';
import { findProject, resolvePaths } from '../../src/config/paths.js';
import { REFUSED_DEVCONTAINER_FIELDS } from '../../src/config/devcontainer-schema.js';
import { buildEffectivePolicy, type EffectivePolicy } from '../../src/policy/effective-policy.js';
import { formatNetworkRule, parseNetworkEntry } from '../../src/config/network-entry.js';
import { renderPolicyRules } from '../../src/policy/policy-rules.js';
import { strangeRulesLines } from '../support/proxy-grammar.js';
import { RUNS, TIMEOUT, anyText, notOneLine, outcomes } from './arbitraries.js';
import { HONOURED_DEVCONTAINER_FIELDS, validDevcontainer, validGlobalFile, validProjectFile } from './config-arbitraries.js';
import { jsoncStyle, mutateText, mutateValue, toJsonc } from './jsonc-text.js';

/**
 * The files, served from memory to the real readConfigFile: a read from disk costs more than
 * everything else in a case (a millisecond or two here), which would make 10,000 cases a property
 * take minutes. Only paths under ROOT (which does not exist) are served this way.
 */
const { ROOT, files } = vi.hoisted(() => ({ ROOT: '/nonexistent/paude-fuzz', files: new Map<string, Buffer>() }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof FsPromises>();
  const missing = Object.assign(new Error('ENOENT: no such file or directory'), { code: 'ENOENT' });
  const readFile = ((path: Parameters<typeof real.readFile>[0], options?: Parameters<typeof real.readFile>[1]) => {
    const name = typeof path === 'string' ? path : '';
    if (!name.startsWith(`${ROOT}/`)) return real.readFile(path, options ?? null);
    const bytes = files.get(name);
    // One error for every missing file: building an error with its stack each time costs more than the rest of a read.
    if (!bytes) return Promise.reject(missing);
    return Promise.resolve(options === undefined || options === null ? bytes : bytes.toString(typeof options === 'string' ? options : (options.encoding ?? 'utf8')));
  }) as typeof real.readFile;
  return { ...real, readFile, default: { ...real, readFile } };
});

const cwd = join(ROOT, 'repo');
const env = { PAUDE_CONFIG_DIR: join(ROOT, 'config'), PAUDE_DATA_DIR: join(ROOT, 'data'), PAUDE_CACHE_DIR: join(ROOT, 'cache') };
const paths = resolvePaths(env);
const project = findProject(cwd);

interface Where {
  path: string;
  /** How messages name the file (what loadConfig shows). */
  display: string;
}
const GLOBAL: Where = { path: paths.globalConfigFile, display: paths.globalConfigFile };
const PROJECT: Where = { path: project.paudeJson, display: 'paude.json' };
const DEVCONTAINER: Where = { path: project.devcontainerJson, display: '.devcontainer/devcontainer.json' };

async function load(contents: ReadonlyArray<readonly [Where, string | Uint8Array]>): Promise<ResolvedConfig> {
  files.clear();
  for (const [where, content] of contents) files.set(where.path, Buffer.isBuffer(content) ? content : Buffer.from(content));
  return loadConfig({ cwd, env, paths, trust: 'ignore' });
}

/** The rules file an accepted configuration gives a session's proxy: every line of its grammar. */
function expectCleanRules(resolved: ResolvedConfig): EffectivePolicy {
  const policy = buildEffectivePolicy({ config: resolved.config, sources: resolved.sources });
  const rules = renderPolicyRules(policy);
  expect(strangeRulesLines(rules), rules).toEqual([]);
  return policy;
}

/**
 * A refusal is a ConfigError for this file whose message is one line that starts with the file's
 * name, then the line and column (syntax), or the field's path (schema and layering), or says
 * what is wrong with the file as a whole.
 */
function expectClearRefusal(error: unknown, where: Where): void {
  if (!(error instanceof ConfigError)) throw new Error(`expected a ConfigError, got ${String(error)}`, { cause: error });
  expect(error.exitCode).toBe(ExitCode.config);
  expect(error.file).toBe(where.path);
  expect(notOneLine(error.message), error.message).toBeUndefined();
  expect(error.message.startsWith(`${where.display}:`), error.message).toBe(true);
  const rest = error.message.slice(where.display.length);
  if (error.jsonPath !== undefined) expect(rest.startsWith(`: ${error.jsonPath}: `) || /^:\d+:\d+: /.test(rest), error.message).toBe(true);
  else expect(rest, error.message).toMatch(/^(:\d+:\d+: |: \(top level\): |: the file is empty |: is \d+ bytes)/);
}

/** The bytes of a file that is anything at all: raw bytes, JSON of any shape, a valid file broken somehow, or far too big. */
function anyFile(valid: fc.Arbitrary<Record<string, unknown>>, hostileKeys: readonly string[]): fc.Arbitrary<string | Uint8Array> {
  const styled = fc.tuple(valid, jsoncStyle);
  return fc.oneof(
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }) },
    { weight: 1, arbitrary: anyText(200) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
    { weight: 3, arbitrary: styled.chain(([value, style]) => mutateValue(value, hostileKeys).map((broken) => toJsonc(broken, style))) },
    { weight: 3, arbitrary: styled.chain(([value, style]) => mutateText(toJsonc(value, style))) },
    { weight: 1, arbitrary: fc.tuple(valid, jsoncStyle, fc.nat({ max: 5 })).map(([value, style, n]) => toJsonc(value, { ...style, duplicateKeyIn: n })) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom('$schema', 'name', 'network'), fc.integer({ min: 10_000, max: 100_000 })).map(([key, n]) => `{"${key}": "${'x'.repeat(n)}"}`) },
    { weight: 1, arbitrary: fc.constant(TOO_BIG) },
  );
}
const TOO_BIG = Buffer.alloc(1024 * 1024 + 1, 0x20);

describe('paude.json: fuzz', () => {
  it('any bytes in a global or project paude.json give a configuration whose proxy rules follow their grammar, or one clear line naming the file and the field', async () => {
    const seen = outcomes();
    await fc.assert(
      fc.asyncProperty(anyFile(validGlobalFile, ['mounts', 'ui', 'provider']), fc.constantFrom(GLOBAL, PROJECT), async (content, where) => {
        let resolved: ResolvedConfig;
        try {
          resolved = await load([[where, content]]);
        } catch (error) {
          expectClearRefusal(error, where);
          seen.count(error instanceof ConfigError && error.jsonPath !== undefined ? 'refused at a field' : 'refused as a whole');
          return;
        }
        expectCleanRules(resolved);
        seen.count('accepted');
      }),
      { numRuns: RUNS },
    );
    seen.expectEach(100, 'accepted', 'refused at a field', 'refused as a whole');
  }, TIMEOUT);

  it('every valid global and project file is taken as written, in any JSONC style, and each of its entries reaches the policy', async () => {
    const valid = fc.tuple(fc.option(fc.tuple(validGlobalFile, jsoncStyle)), fc.option(fc.tuple(validProjectFile, jsoncStyle)));
    await fc.assert(
      fc.asyncProperty(valid, async ([global, projectFile]) => {
        const resolved = await load([...(global ? [[GLOBAL, toJsonc(...global)] as const] : []), ...(projectFile ? [[PROJECT, toJsonc(...projectFile)] as const] : [])]);
        expect(resolved.files.global?.value).toEqual(global?.[0]);
        expect(resolved.files.project?.value).toEqual(projectFile?.[0]);
        const policy = expectCleanRules(resolved);
        const canonical = (entry: string): string => {
          const parsed = parseNetworkEntry(entry);
          if (!parsed.ok) throw new Error(`generated an invalid entry ${entry}`);
          return formatNetworkRule(parsed.rule);
        };
        const allowed = new Set(policy.allow.map((e) => e.text));
        const denied = new Set(policy.deny.map((e) => e.text));
        const projectMayExtend = global?.[0].network?.projectMayExtend !== false;
        const allowlist = [...(global?.[0].network?.allowlist ?? []), ...(projectMayExtend ? (projectFile?.[0].network?.allowlist ?? []) : [])];
        const denylist = [...(global?.[0].network?.denylist ?? []), ...(projectFile?.[0].network?.denylist ?? [])];
        expect(allowlist.filter((entry) => !allowed.has(canonical(entry)))).toEqual([]);
        expect(denylist.filter((entry) => !denied.has(canonical(entry)))).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  }, TIMEOUT);
});

describe('devcontainer.json: fuzz', () => {
  it('any bytes in .devcontainer/devcontainer.json give a configuration that keeps only the fields paude honours, or one clear line naming the file and the field', async () => {
    const seen = outcomes();
    await fc.assert(
      fc.asyncProperty(anyFile(validDevcontainer, Object.keys(REFUSED_DEVCONTAINER_FIELDS)), async (content) => {
        let resolved: ResolvedConfig;
        try {
          resolved = await load([[DEVCONTAINER, content]]);
        } catch (error) {
          expectClearRefusal(error, DEVCONTAINER);
          seen.count(error instanceof ConfigError && / refused because /.test(error.message) ? 'refused a field that widens the sandbox' : 'refused otherwise');
          return;
        }
        // Nothing that would widen the sandbox (mounts, engine flags, privileges) gets through.
        const kept = Object.keys(resolved.config.devcontainer ?? {});
        expect(kept.filter((key) => !(HONOURED_DEVCONTAINER_FIELDS as readonly string[]).includes(key))).toEqual([]);
        seen.count('accepted');
      }),
      { numRuns: RUNS },
    );
    seen.expectEach(100, 'accepted', 'refused a field that widens the sandbox', 'refused otherwise');
  }, TIMEOUT);

  it('every valid devcontainer.json is taken, in any JSONC style, and the configuration keeps exactly the fields paude honours', async () => {
    await fc.assert(
      fc.asyncProperty(validDevcontainer, jsoncStyle, async (devcontainer, style) => {
        const resolved = await load([[DEVCONTAINER, toJsonc(devcontainer, style)]]);
        expect(resolved.files.devcontainer?.value).toEqual(devcontainer);
        const honoured = Object.fromEntries(Object.entries(devcontainer).filter(([key]) => (HONOURED_DEVCONTAINER_FIELDS as readonly string[]).includes(key)));
        expect(resolved.config.devcontainer).toEqual(honoured);
        expect(resolved.sources.get('devcontainer')).toEqual({ kind: 'devcontainer', origin: DEVCONTAINER.display });
      }),
      { numRuns: RUNS },
    );
  }, TIMEOUT);
});

describe('config files: the fuzz set-up itself', () => {
  it('serves the files from memory at the paths loadConfig reads, and names them as a user sees them', async () => {
    expect(project.root).toBe(cwd);
    const resolved = await load([
      [GLOBAL, '{"network": {"allowlist": ["a.test"]}}'],
      [PROJECT, '{"network": {"allowlist": ["b.test"]}}'],
      [DEVCONTAINER, '{"image": "debian"}'],
    ]);
    expect(resolved.config.network.allowlist).toEqual(['a.test', 'b.test']);
    expect(resolved.config.devcontainer).toEqual({ image: 'debian' });
    await expect(load([[PROJECT, '{"netwrok": {}}']])).rejects.toThrow(/^paude\.json: \(top level\): unknown key "netwrok"/);
    await expect(load([[DEVCONTAINER, '{"mounts": []}']])).rejects.toThrow(/^\.devcontainer\/devcontainer\.json: mounts: refused because/);
  });
});
