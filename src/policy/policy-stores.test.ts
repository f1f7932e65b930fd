import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'jsonc-parser';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, ExitCode } from '../errors.js';
import { canonicalEntry, changeGlobalConfig, changeScopedRules, projectRulesFile, readScopedRules, sessionRulesFile } from './policy-stores.js';

let dir: string;
let rules: string;
let global: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'paude-policy-stores-'));
  rules = sessionRulesFile(join(dir, 'data'), 'paude-abc123');
  global = join(dir, 'config', 'paude.json');
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const stored = async (file: string): Promise<unknown> => JSON.parse(await readFile(file, 'utf8'));
const exists = (file: string): Promise<boolean> => stat(file).then(
  () => true,
  () => false,
);

async function rejection(promise: Promise<unknown>): Promise<ConfigError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  expect((error as ConfigError).exitCode).toBe(ExitCode.config);
  return error as ConfigError;
}

describe('where scoped rules live', () => {
  it('keeps session rules under DATA/sessions/<id> and project approvals under DATA/projects, keyed by the root', () => {
    expect(sessionRulesFile('/data', 'paude-abc123')).toBe('/data/sessions/paude-abc123/policy.json');
    const a = projectRulesFile('/data', '/home/ada/src/app');
    expect(a).toMatch(/^\/data\/projects\/[0-9a-f]{16}\/approvals\.json$/);
    expect(projectRulesFile('/data', '/home/ada/src/app')).toBe(a);
    expect(projectRulesFile('/data', '/home/ada/src/other')).not.toBe(a);
  });
});

describe('changeScopedRules', () => {
  it('creates the file with the entry on the first change', async () => {
    await expect(changeScopedRules(rules, 'allow', 'example.com')).resolves.toBe(true);
    expect(await stored(rules)).toEqual({ version: 1, allow: ['example.com'], deny: [] });
  });

  it('adds to one list and removes the entry from the other', async () => {
    await changeScopedRules(rules, 'allow', 'example.com');
    await changeScopedRules(rules, 'allow', 'packages.example.test');
    await expect(changeScopedRules(rules, 'deny', 'example.com')).resolves.toBe(true);
    expect(await stored(rules)).toEqual({ version: 1, allow: ['packages.example.test'], deny: ['example.com'] });
    await expect(changeScopedRules(rules, 'allow', 'example.com')).resolves.toBe(true);
    expect(await stored(rules)).toEqual({ version: 1, allow: ['packages.example.test', 'example.com'], deny: [] });
  });

  it('is idempotent: the same change again reports nothing changed and leaves the file alone', async () => {
    await changeScopedRules(rules, 'deny', 'example.com');
    const before = await readFile(rules, 'utf8');
    const mtime = (await stat(rules)).mtimeMs;
    await expect(changeScopedRules(rules, 'deny', 'example.com')).resolves.toBe(false);
    await expect(changeScopedRules(rules, 'deny', 'EXAMPLE.com.')).resolves.toBe(false);
    expect(await readFile(rules, 'utf8')).toBe(before);
    expect((await stat(rules)).mtimeMs).toBe(mtime);
  });

  it.each([
    ['Example.COM', 'example.com'],
    ['*.Example.com:8443', '*.example.com:8443'],
    ['.GitHub.com', '.github.com'],
    ['@NPM', '@npm'],
    ['bücher.example', 'xn--bcher-kva.example'],
  ])('stores %s as %s', async (entry, canonical) => {
    expect(canonicalEntry(entry)).toBe(canonical);
    await changeScopedRules(rules, 'allow', entry);
    expect(await stored(rules)).toEqual({ version: 1, allow: [canonical], deny: [] });
  });

  it.each(['https://example.com/path', '*', '', 'exa mple.com', '10.0.0.1', '@nosuchgroup'])('refuses %j with a ConfigError and writes nothing', async (entry) => {
    const error = await rejection(changeScopedRules(rules, 'allow', entry));
    expect(error.message).not.toMatch(/\n/);
    expect(await exists(rules)).toBe(false);
  });

  it('records extra fields (the project root) and stays idempotent with them', async () => {
    const file = projectRulesFile(join(dir, 'data'), '/home/ada/src/app');
    await expect(changeScopedRules(file, 'allow', 'packages.example.test', { root: '/home/ada/src/app' })).resolves.toBe(true);
    expect(await stored(file)).toEqual({ version: 1, allow: ['packages.example.test'], deny: [], root: '/home/ada/src/app' });
    await expect(changeScopedRules(file, 'allow', 'packages.example.test', { root: '/home/ada/src/app' })).resolves.toBe(false);
  });

  it('refuses to overwrite a rules file it cannot read as rules, naming it', async () => {
    await mkdir(join(rules, '..'), { recursive: true });
    await writeFile(rules, '{"version": 1, "allow": ["a.com"]');
    const error = await rejection(changeScopedRules(rules, 'allow', 'example.com'));
    expect(error.message).toBe(`${rules}: is not valid JSON; fix or delete it`);
    expect(error.file).toBe(rules);
    expect(await readFile(rules, 'utf8')).toBe('{"version": 1, "allow": ["a.com"]');

    await writeFile(rules, JSON.stringify({ version: 2, allow: [], deny: [] }));
    expect((await rejection(readScopedRules(rules))).message).toMatch(new RegExp(`^${rules.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: version: .*; fix or delete it$`));
  });

  // BUG: the other list is cleaned by exact text, not by rule. A rules file edited by hand (or by
  // an older paude) with "Example.COM" in deny keeps it after `paude allow example.com`, which
  // reports success while the host stays blocked (deny wins). changeGlobalConfig compares by
  // parsed rule and gets this right. Input: deny ["Example.COM"], allow "example.com".
  // Expected: deny []. Actual: deny ["Example.COM"].
  it('removes an entry from the other list even when it is spelled differently there', async () => {
    await mkdir(join(rules, '..'), { recursive: true });
    await writeFile(rules, JSON.stringify({ version: 1, allow: [], deny: ['Example.COM'] }));
    await changeScopedRules(rules, 'allow', 'example.com');
    expect(await stored(rules)).toEqual({ version: 1, allow: ['example.com'], deny: [] });
  });
});

describe('changeGlobalConfig', () => {
  const COMMENTED = `// My global paude settings
{
  // Be careful what goes here.
  "network": {
    "mode": "ask", // ask me first
    "allowlist": [
      "github.com", // code
      "@npm"
    ],
    "denylist": ["gist.github.com", "Paste.example"]
  },
  "provider": "anthropic"
}
`;

  async function writeGlobal(text: string): Promise<void> {
    await mkdir(join(global, '..'), { recursive: true });
    await writeFile(global, text);
  }
  const network = async (): Promise<unknown> => (parse(await readFile(global, 'utf8')) as { network?: unknown }).network;

  it('adds an entry to the allowlist of a file with comments, keeping the comments and the rest', async () => {
    await writeGlobal(COMMENTED);
    await expect(changeGlobalConfig(global, '~/.config/paude/paude.json', 'allow', 'Packages.Example.TEST')).resolves.toBe(true);
    const text = await readFile(global, 'utf8');
    for (const comment of ['// My global paude settings', '// Be careful what goes here.', '// ask me first', '// code']) expect(text).toContain(comment);
    expect(await network()).toEqual({ mode: 'ask', allowlist: ['github.com', '@npm', 'packages.example.test'], denylist: ['gist.github.com', 'Paste.example'] });
    expect((parse(text) as { provider: string }).provider).toBe('anthropic');
  });

  it('moves an entry from the denylist to the allowlist, matching it by rule rather than spelling', async () => {
    await writeGlobal(COMMENTED);
    await expect(changeGlobalConfig(global, 'paude.json', 'allow', 'paste.example')).resolves.toBe(true);
    expect(await network()).toEqual({ mode: 'ask', allowlist: ['github.com', '@npm', 'paste.example'], denylist: ['gist.github.com'] });
    expect(await readFile(global, 'utf8')).toContain('// My global paude settings');
  });

  it('moves an entry from the allowlist to the denylist', async () => {
    await writeGlobal(COMMENTED);
    await changeGlobalConfig(global, 'paude.json', 'deny', 'GitHub.com');
    expect(await network()).toEqual({ mode: 'ask', allowlist: ['@npm'], denylist: ['gist.github.com', 'Paste.example', 'github.com'] });
  });

  it('changes nothing, and says so, when the entry is already there in another spelling', async () => {
    await writeGlobal(COMMENTED);
    await expect(changeGlobalConfig(global, 'paude.json', 'allow', 'GITHUB.COM.')).resolves.toBe(false);
    expect(await readFile(global, 'utf8')).toBe(COMMENTED);
  });

  // BUG: moving an entry out of a list rewrites that whole list (modify(['network', otherKey],
  // filtered)), so the comments on the entries that stay are lost, although the function
  // promises to keep the file's comments. Input: denylist ["gist.github.com", // exfil,
  // "paste.example", "tracker.example" // ads], allow "paste.example". Expected: "// exfil via
  // gists" and "// ads" still in the file. Actual: every comment inside the denylist is gone.
  it('keeps the comments on the other entries of the list it removes an entry from', async () => {
    await writeGlobal(`{
  "network": {
    "denylist": [
      "gist.github.com", // exfil via gists
      "paste.example",
      "tracker.example" // ads
    ]
  }
}
`);
    await changeGlobalConfig(global, 'paude.json', 'allow', 'paste.example');
    expect(await network()).toEqual({ denylist: ['gist.github.com', 'tracker.example'], allowlist: ['paste.example'] });
    const text = await readFile(global, 'utf8');
    expect(text).toContain('// exfil via gists');
    expect(text).toContain('// ads');
  });

  it('creates the file (and its directory) when there is none, with mode 0644', async () => {
    await expect(changeGlobalConfig(global, 'paude.json', 'deny', 'Tracker.example')).resolves.toBe(true);
    expect(parse(await readFile(global, 'utf8'))).toEqual({ network: { denylist: ['tracker.example'] } });
    expect((await stat(global)).mode & 0o777).toBe(0o644);
  });

  it('adds the list when the network section has none', async () => {
    await writeGlobal('{ "network": { "mode": "restricted" } }\n');
    await changeGlobalConfig(global, 'paude.json', 'allow', 'example.com');
    expect(await network()).toEqual({ mode: 'restricted', allowlist: ['example.com'] });
  });

  it.each([
    ['a value the schema refuses', '{ "network": { "mode": "sometimes" } }\n'],
    ['a syntax error', '{ "network": { "allowlist": ["a.com" } }\n'],
    ['an unknown key', '{ "netwrok": {} }\n'],
  ])('refuses to edit a file with %s, naming it, and leaves it as it was', async (_what, text) => {
    await writeGlobal(text);
    const error = await rejection(changeGlobalConfig(global, '~/.config/paude/paude.json', 'allow', 'example.com'));
    // "file: path: problem", or "file:line:column: problem" for syntax.
    expect(error.message).toMatch(/^~\/\.config\/paude\/paude\.json(:\d+:\d+)?: /);
    expect(await readFile(global, 'utf8')).toBe(text);
  });

  it('refuses an invalid entry before touching the file', async () => {
    await writeGlobal(COMMENTED);
    await rejection(changeGlobalConfig(global, 'paude.json', 'allow', 'https://example.com/'));
    expect(await readFile(global, 'utf8')).toBe(COMMENTED);
  });
});
