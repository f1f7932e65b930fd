/**
 * The container's copy of the user's Claude Code configuration (~/.claude and ~/.claude.json),
 * made at start in the container's own storage: nothing the agent changes there reaches the
 * host. Only what Claude Code needs is copied — not other projects' history — and MCP servers
 * and plugins are filtered by plugins.allow / plugins.deny.
 */
import { lstat, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { directoryEntries, type ContextEntry, type PackEntry, type TarOwner } from '../fs/tar.js';

/** Entries of ~/.claude worth having in the container. */
const CLAUDE_DIR_ENTRIES = ['settings.json', 'CLAUDE.md', 'commands', 'agents', 'output-styles', 'skills', 'plugins', '.credentials.json'];

export interface PluginFilter {
  allow?: readonly string[];
  deny: readonly string[];
}

export interface ClaudeConfigCopy {
  /** Archive entries relative to the container's home directory (host files are read when packed). */
  entries: PackEntry[];
  /** MCP servers and plugins left out by the filter. */
  removed: string[];
  warnings: string[];
}

export function keepPlugin(name: string, filter: PluginFilter): boolean {
  if (filter.deny.includes(name)) return false;
  return filter.allow === undefined || filter.allow.includes(name);
}

export async function copyClaudeConfig(options: {
  home: string;
  workspace: string;
  owner: TarOwner;
  plugins: PluginFilter;
  /** Settings paude adds (e.g. apiKeyHelper reading a secret from tmpfs). */
  settings: Record<string, unknown>;
  copyHostConfig: boolean;
}): Promise<ClaudeConfigCopy> {
  const { owner } = options;
  const entries: PackEntry[] = [{ path: '.claude', type: 'directory', mode: 0o700, content: Buffer.alloc(0), ...owner }];
  const removed: string[] = [];
  const warnings: string[] = [];
  const file = (path: string, content: string, mode = 0o600): ContextEntry => ({ path, type: 'file', mode, content: Buffer.from(content), ...owner });
  const hostDir = join(options.home, '.claude');

  let settings: Record<string, unknown> = {};
  if (options.copyHostConfig) {
    for (const name of CLAUDE_DIR_ENTRIES) {
      const path = join(hostDir, name);
      const st = await lstat(path).catch(() => undefined);
      if (!st) continue;
      if (name === 'settings.json') {
        settings = (await readJson(path, warnings)) ?? {};
      } else if (st.isDirectory()) {
        entries.push(...(await directoryEntries(path, `.claude/${name}`, owner)));
      } else if (st.isFile()) {
        entries.push(file(`.claude/${name}`, await readFile(path, 'utf8')));
      }
    }
    const enabled = settings.enabledPlugins;
    if (isRecord(enabled)) {
      settings.enabledPlugins = Object.fromEntries(Object.entries(enabled).filter(([name]) => keepPlugin(name, options.plugins) || (removed.push(name), false)));
    }
    const json = await readJson(join(options.home, '.claude.json'), warnings);
    if (json) entries.push(file('.claude.json', JSON.stringify(filterClaudeJson(json, options.workspace, options.plugins, removed), null, 2)));
  }
  entries.push(file('.claude/settings.json', JSON.stringify(mergeSettings(settings, options.settings), null, 2)));
  return { entries, removed, warnings };
}

/** Keeps the current workspace's project entry only, and the MCP servers the filter allows. */
export function filterClaudeJson(json: Record<string, unknown>, workspace: string, plugins: PluginFilter, removed: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = { ...json };
  const filterServers = (servers: unknown): unknown =>
    isRecord(servers) ? Object.fromEntries(Object.entries(servers).filter(([name]) => keepPlugin(name, plugins) || (removed.push(name), false))) : servers;
  if ('mcpServers' in out) out.mcpServers = filterServers(out.mcpServers);
  if (isRecord(out.projects)) {
    const mine = out.projects[workspace];
    out.projects = isRecord(mine) ? { [workspace]: { ...mine, mcpServers: filterServers(mine.mcpServers) } } : {};
  }
  return out;
}

async function readJson(path: string, warnings: string[]): Promise<Record<string, unknown> | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const data: unknown = JSON.parse(text);
    if (isRecord(data)) return data;
  } catch {
    // reported below
  }
  warnings.push(`${path} is not a JSON object; the container starts without it`);
  return undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** paude's settings over the user's; hooks are added to the user's, not put in their place. */
export function mergeSettings(user: Record<string, unknown>, ours: Record<string, unknown>): Record<string, unknown> {
  const merged = { ...user, ...ours };
  const a = user.hooks;
  const b = ours.hooks;
  if (a && typeof a === 'object' && !Array.isArray(a) && b && typeof b === 'object' && !Array.isArray(b)) {
    const hooks: Record<string, unknown> = { ...(a as Record<string, unknown>) };
    for (const [event, list] of Object.entries(b as Record<string, unknown>)) {
      const existing = hooks[event];
      hooks[event] = Array.isArray(existing) && Array.isArray(list) ? [...(existing as unknown[]), ...(list as unknown[])] : list;
    }
    merged.hooks = hooks;
  }
  return merged;
}
