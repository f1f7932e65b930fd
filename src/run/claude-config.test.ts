import { readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PackEntry } from '../fs/tar.js';
import { copyClaudeConfig, filterClaudeJson, keepPlugin, type ClaudeConfigCopy, type PluginFilter } from './claude-config.js';

const WORKSPACE = '/home/ada/src/app';
const OWNER = { uid: 1234, gid: 5678 };
const PAUDE_SETTINGS = { apiKeyHelper: 'cat /run/paude-secrets/anthropic-api-key' };

let home: string;

beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'paude-claude-config-'));
});

afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

async function put(rel: string, content: string): Promise<string> {
  const path = join(home, rel);
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, content);
  return path;
}

/** A realistic ~/.claude and ~/.claude.json. */
async function fullHome(): Promise<void> {
  await put('.claude/settings.json', JSON.stringify({ theme: 'dark', apiKeyHelper: '~/bin/my-key', enabledPlugins: { 'formatter@acme': true, 'tracker@acme': true } }));
  await put('.claude/CLAUDE.md', '# Be brief\n');
  await put('.claude/.credentials.json', '{"claudeAiOauth":{"accessToken":"t"}}');
  await put('.claude/commands/review.md', 'Review the diff');
  await put('.claude/agents/tester.md', 'You test');
  await put('.claude/output-styles/terse.md', 'terse');
  await put('.claude/skills/pdf/SKILL.md', 'pdf skill');
  await put('.claude/plugins/installed_plugins.json', '{}');
  // Not for the container: other projects' history and Claude Code's own caches.
  await put('.claude/projects/-home-ada-src-other/session.jsonl', '{"secret":"other project"}\n');
  await put('.claude/todos/t.json', '[]');
  await put('.claude/statsig/cache', 'x');
  await put('.claude/shell-snapshots/snap.sh', 'export X=1');
  await put('.claude/history.jsonl', '{"display":"old prompt"}\n');
  await put(
    '.claude.json',
    JSON.stringify({
      numStartups: 42,
      mcpServers: { github: { command: 'gh-mcp' }, filesystem: { command: 'fs-mcp' } },
      projects: {
        [WORKSPACE]: { allowedTools: ['Bash(ls)'], mcpServers: { sentry: { url: 'https://mcp.sentry.dev' }, jira: { url: 'https://jira' } } },
        '/home/ada/src/other': { allowedTools: ['Bash(rm -rf /)'], mcpServers: { secretdb: { command: 'db' } } },
      },
    }),
  );
}

function copy(o: { plugins?: PluginFilter; settings?: Record<string, unknown>; copyHostConfig?: boolean } = {}): Promise<ClaudeConfigCopy> {
  return copyClaudeConfig({ home, workspace: WORKSPACE, owner: OWNER, plugins: o.plugins ?? { deny: [] }, settings: o.settings ?? PAUDE_SETTINGS, copyHostConfig: o.copyHostConfig ?? true });
}

const paths = (c: ClaudeConfigCopy): string[] => c.entries.map((e) => e.path);
/** An entry's bytes: host files are read when packed, so here from disk. */
const contentOf = (e: PackEntry): Buffer => ('source' in e ? readFileSync(e.source) : e.content);
function entry(c: ClaudeConfigCopy, path: string): { mode: number; content: Buffer } {
  const found = c.entries.find((e) => e.path === path);
  if (!found) throw new Error(`no entry ${path} in ${paths(c).join(', ')}`);
  return { mode: found.mode, content: contentOf(found) };
}
const json = (c: ClaudeConfigCopy, path: string): Record<string, unknown> => JSON.parse(entry(c, path).content.toString('utf8')) as Record<string, unknown>;
const settingsOf = (c: ClaudeConfigCopy): Record<string, unknown> => json(c, '.claude/settings.json');
const claudeJsonOf = (c: ClaudeConfigCopy): Record<string, unknown> => json(c, '.claude.json');

describe('copyClaudeConfig: what is copied', () => {
  it('copies only the listed entries of ~/.claude, not other projects, todos, statsig or history', async () => {
    await fullHome();
    const c = await copy();
    expect(paths(c).sort()).toEqual(
      [
        '.claude',
        '.claude.json',
        '.claude/.credentials.json',
        '.claude/CLAUDE.md',
        '.claude/agents',
        '.claude/agents/tester.md',
        '.claude/commands',
        '.claude/commands/review.md',
        '.claude/output-styles',
        '.claude/output-styles/terse.md',
        '.claude/plugins',
        '.claude/plugins/installed_plugins.json',
        '.claude/settings.json',
        '.claude/skills',
        '.claude/skills/pdf',
        '.claude/skills/pdf/SKILL.md',
      ].sort(),
    );
    expect(c.entries.some((e) => contentOf(e).toString().includes('other project'))).toBe(false);
    expect(entry(c, '.claude/CLAUDE.md').content.toString()).toBe('# Be brief\n');
    expect(entry(c, '.claude/commands/review.md').content.toString()).toBe('Review the diff');
    expect(c.warnings).toEqual([]);
  });

  it('writes settings.json exactly once, even though the host has one', async () => {
    await fullHome();
    const c = await copy();
    expect(paths(c).filter((p) => p === '.claude/settings.json')).toHaveLength(1);
  });

  it('works for a user without any Claude configuration: a .claude directory with paude settings', async () => {
    const c = await copy();
    expect(paths(c)).toEqual(['.claude', '.claude/settings.json']);
    expect(settingsOf(c)).toEqual(PAUDE_SETTINGS);
    expect(c.warnings).toEqual([]);
    expect(c.removed).toEqual([]);
  });

  it('keeps only the current workspace under projects in .claude.json, and the other top-level keys', async () => {
    await fullHome();
    const c = await copy();
    const out = claudeJsonOf(c);
    expect(Object.keys(out.projects as object)).toEqual([WORKSPACE]);
    expect(JSON.stringify(out)).not.toContain('/home/ada/src/other');
    expect(JSON.stringify(out)).not.toContain('secretdb');
    expect(out.numStartups).toBe(42);
    expect((out.projects as Record<string, { allowedTools: string[] }>)[WORKSPACE]?.allowedTools).toEqual(['Bash(ls)']);
  });

  it('leaves projects empty when the workspace has no entry yet', async () => {
    await put('.claude.json', JSON.stringify({ projects: { '/elsewhere': { allowedTools: ['x'] } } }));
    const c = await copy();
    expect(claudeJsonOf(c).projects).toEqual({});
  });

  it('does not copy a symlinked CLAUDE.md (links are skipped; see report)', async () => {
    const target = await put('dotfiles/CLAUDE.md', '# from dotfiles\n');
    await mkdir(join(home, '.claude'));
    await symlink(target, join(home, '.claude', 'CLAUDE.md'));
    const c = await copy();
    expect(paths(c)).not.toContain('.claude/CLAUDE.md');
  });
});

describe('copyClaudeConfig: plugins.allow / plugins.deny', () => {
  it('keeps every MCP server and plugin when allow is unset and deny is empty', async () => {
    await fullHome();
    const c = await copy();
    expect(Object.keys(claudeJsonOf(c).mcpServers as object)).toEqual(['github', 'filesystem']);
    expect(Object.keys(settingsOf(c).enabledPlugins as object)).toEqual(['formatter@acme', 'tracker@acme']);
    expect(c.removed).toEqual([]);
  });

  it('removes denied top-level and per-project MCP servers and plugins, and reports their names', async () => {
    await fullHome();
    const c = await copy({ plugins: { deny: ['filesystem', 'jira', 'tracker@acme'] } });
    const out = claudeJsonOf(c);
    expect(Object.keys(out.mcpServers as object)).toEqual(['github']);
    expect(Object.keys((out.projects as Record<string, { mcpServers: object }>)[WORKSPACE]?.mcpServers ?? {})).toEqual(['sentry']);
    expect(Object.keys(settingsOf(c).enabledPlugins as object)).toEqual(['formatter@acme']);
    expect([...c.removed].sort()).toEqual(['filesystem', 'jira', 'tracker@acme']);
  });

  it('keeps only allowed names when allow is set', async () => {
    await fullHome();
    const c = await copy({ plugins: { allow: ['github', 'sentry', 'formatter@acme'], deny: [] } });
    const out = claudeJsonOf(c);
    expect(Object.keys(out.mcpServers as object)).toEqual(['github']);
    expect(Object.keys((out.projects as Record<string, { mcpServers: object }>)[WORKSPACE]?.mcpServers ?? {})).toEqual(['sentry']);
    expect(Object.keys(settingsOf(c).enabledPlugins as object)).toEqual(['formatter@acme']);
    expect([...c.removed].sort()).toEqual(['filesystem', 'jira', 'tracker@acme']);
  });

  it('deny wins over allow', async () => {
    await fullHome();
    const c = await copy({ plugins: { allow: ['github', 'filesystem'], deny: ['github'] } });
    expect(Object.keys(claudeJsonOf(c).mcpServers as object)).toEqual(['filesystem']);
    expect(c.removed).toContain('github');
    expect(keepPlugin('github', { allow: ['github'], deny: ['github'] })).toBe(false);
    expect(keepPlugin('github', { deny: [] })).toBe(true);
    expect(keepPlugin('github', { allow: [], deny: [] })).toBe(false);
  });

  it('filterClaudeJson leaves the object it was given unchanged', () => {
    const input = { mcpServers: { a: {}, b: {} }, projects: { [WORKSPACE]: { mcpServers: { c: {} } }, '/x': {} } };
    const before = structuredClone(input);
    const removed: string[] = [];
    filterClaudeJson(input, WORKSPACE, { deny: ['a', 'c'] }, removed);
    expect(input).toEqual(before);
    expect(removed).toEqual(['a', 'c']);
  });
});

describe('copyClaudeConfig: settings', () => {
  it("merges paude's settings over the user's settings.json, keeping the rest", async () => {
    await fullHome();
    const c = await copy();
    const s = settingsOf(c);
    expect(s.apiKeyHelper).toBe(PAUDE_SETTINGS.apiKeyHelper);
    expect(s.theme).toBe('dark');
  });

  it("keeps the user's apiKeyHelper when paude adds none (e.g. no API key on the host)", async () => {
    await fullHome();
    const c = await copy({ settings: {} });
    expect(settingsOf(c).apiKeyHelper).toBe('~/bin/my-key');
  });

  it.each([
    ['not JSON', '{ "theme": "dark", '],
    ['an array', '["a"]'],
    ['null', 'null'],
  ])('warns, naming the file, when settings.json is %s, and still produces the entries', async (_what, text) => {
    await fullHome();
    const file = await put('.claude/settings.json', text);
    const c = await copy();
    expect(c.warnings).toEqual([`${file} is not a JSON object; the container starts without it`]);
    expect(settingsOf(c)).toEqual(PAUDE_SETTINGS);
    expect(paths(c)).toContain('.claude.json');
    expect(paths(c)).toContain('.claude/CLAUDE.md');
  });

  it('warns, naming the file, when .claude.json is malformed, and still writes the settings', async () => {
    await fullHome();
    const file = await put('.claude.json', '{"projects": ');
    const c = await copy();
    expect(c.warnings).toEqual([`${file} is not a JSON object; the container starts without it`]);
    expect(paths(c)).not.toContain('.claude.json');
    expect(settingsOf(c).apiKeyHelper).toBe(PAUDE_SETTINGS.apiKeyHelper);
    expect(paths(c)).toContain('.claude/commands/review.md');
  });

  it('with copyHostConfig false, copies nothing from the host but still writes paude settings', async () => {
    await fullHome();
    await put('.claude.json', 'not json at all');
    const c = await copy({ copyHostConfig: false, plugins: { deny: ['github'] } });
    expect(paths(c)).toEqual(['.claude', '.claude/settings.json']);
    expect(settingsOf(c)).toEqual(PAUDE_SETTINGS);
    expect(c.warnings).toEqual([]);
    expect(c.removed).toEqual([]);
  });
});

describe('copyClaudeConfig: ownership and modes', () => {
  it('gives every entry the agent user as owner', async () => {
    await fullHome();
    const c = await copy();
    expect(c.entries.length).toBeGreaterThan(10);
    for (const e of c.entries) expect({ path: e.path, uid: e.uid, gid: e.gid }).toEqual({ path: e.path, uid: OWNER.uid, gid: OWNER.gid });
  });

  it('makes .claude 0700 and the files it writes itself 0600 (credentials included)', async () => {
    await fullHome();
    const c = await copy();
    expect(entry(c, '.claude').mode).toBe(0o700);
    for (const path of ['.claude/settings.json', '.claude.json', '.claude/.credentials.json', '.claude/CLAUDE.md']) {
      expect({ path, mode: entry(c, path).mode.toString(8) }).toEqual({ path, mode: '600' });
    }
  });

  it('copies directories as 0755 and their files as 0644, or 0755 when executable on the host', async () => {
    await fullHome();
    const hook = await put('.claude/commands/run.sh', '#!/bin/sh\n');
    await chmod(hook, 0o700);
    const c = await copy();
    expect(entry(c, '.claude/commands').mode).toBe(0o755);
    expect(entry(c, '.claude/commands/review.md').mode).toBe(0o644);
    expect(entry(c, '.claude/commands/run.sh').mode).toBe(0o755);
  });
});

describe('mergeSettings', () => {
  it("adds paude's hooks to the user's, event by event, and lets paude's other settings win", async () => {
    const { mergeSettings } = await import('./claude-config.js');
    const user = { model: 'opus', apiKeyHelper: 'theirs', hooks: { PreToolUse: [{ matcher: 'Bash', hooks: [{ type: 'command', command: 'mine' }] }], Stop: [] } };
    const ours = { apiKeyHelper: 'ours', hooks: { PreToolUse: [{ matcher: '*', hooks: [{ type: 'command', command: 'paude-hook pre' }] }], PostToolUse: [{ matcher: '*' }] } };
    expect(mergeSettings(user, ours)).toEqual({
      model: 'opus',
      apiKeyHelper: 'ours',
      hooks: {
        PreToolUse: [{ matcher: 'Bash', hooks: [{ type: 'command', command: 'mine' }] }, { matcher: '*', hooks: [{ type: 'command', command: 'paude-hook pre' }] }],
        Stop: [],
        PostToolUse: [{ matcher: '*' }],
      },
    });
  });
});
