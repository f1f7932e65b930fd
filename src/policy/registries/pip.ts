/**
 * @pypi: pip's indexes. `python3 -m pip config list` reports what pip's configuration files and
 * PIP_* variables set; while no index-url is set pip uses its default index, whose URL and file
 * host are read from pip itself (its PyPI model), never written down here.
 */
import { commandProblem, entryOfUrl, unique, type ClientHost, type ClientLookup, type CommandResult } from './client-host.js';

/** The sections whose index settings `pip install` uses (`:env:` are PIP_* variables). */
const INSTALL_SECTIONS = new Set(['global', 'install', ':env:']);
const URL_KEYS = new Set(['index-url', 'extra-index-url', 'find-links']);

export interface PipSettings {
  urls: string[];
  /** An index-url is set: pip does not use its default index. */
  indexSet: boolean;
  /** no-index is on: pip uses no index at all. */
  noIndex: boolean;
}

/** Parses `pip config list` lines: `section.key='value'` (values may hold several, space-separated). */
export function parsePipConfigList(stdout: string): PipSettings {
  const settings: PipSettings = { urls: [], indexSet: false, noIndex: false };
  for (const line of stdout.split('\n')) {
    const m = /^(.+?)\.([a-z0-9_-]+)=(.*)$/i.exec(line.trim());
    if (!m) continue;
    const [, section = '', rawKey = '', rawValue = ''] = m;
    const key = rawKey.toLowerCase().replace(/_/g, '-');
    const value = unquote(rawValue);
    if (URL_KEYS.has(key)) settings.urls.push(...value.split(/\s+|\\n/).filter(Boolean));
    if (!INSTALL_SECTIONS.has(section)) continue;
    if (key === 'index-url' && value.trim()) settings.indexSet = true;
    if (key === 'no-index' && /^(1|true|yes|on)$/i.test(value.trim())) settings.noIndex = true;
  }
  return settings;
}

function unquote(value: string): string {
  const v = value.trim();
  return /^(['"]).*\1$/.test(v) ? v.slice(1, -1) : v;
}

/** The default index pip itself knows: its URL and the host its files are served from. */
export const PIP_DEFAULT_INDEX_PROGRAM = 'from pip._internal.models.index import PyPI; print(PyPI.url); print(PyPI.file_storage_domain)';

export function parsePipDefaults(stdout: string): string[] {
  const [url = '', fileHost = ''] = stdout.split('\n').map((l) => l.trim());
  return unique([entryOfUrl(url), fileHost ? entryOfUrl(`https://${fileHost}/`) : undefined]);
}

function pipProblem(command: string, result: Exclude<CommandResult, { kind: 'ok' }>): string {
  if (result.kind === 'missing') return 'python3 is not installed here';
  if (result.kind === 'failed' && /no module named pip/i.test(result.detail)) return 'pip is not installed here';
  return commandProblem(command, result);
}

export async function lookupPip(host: ClientHost): Promise<ClientLookup> {
  const [config, defaults] = await Promise.all([host.run('python3', ['-m', 'pip', 'config', 'list']), host.run('python3', ['-c', PIP_DEFAULT_INDEX_PROGRAM])]);
  if (config.kind !== 'ok') return { entries: [], problem: pipProblem('python3 -m pip config list', config) };
  const settings = parsePipConfigList(config.stdout);
  const configured = settings.urls.map(entryOfUrl);
  if (settings.noIndex || settings.indexSet) {
    const entries = unique(configured);
    return entries.length > 0 ? { entries } : { entries, problem: settings.noIndex ? 'pip is configured with no-index' : "pip's index-url names no host" };
  }
  if (defaults.kind !== 'ok') return { entries: unique(configured), problem: `pip's default index could not be read: ${pipProblem('python3 -c', defaults)}` };
  const fallback = parsePipDefaults(defaults.stdout);
  const entries = unique([...fallback, ...configured]);
  return fallback.length > 0 ? { entries } : { entries, problem: "pip's default index could not be read" };
}
