/**
 * @npm: the registries npm is configured with (`registry` and every `@scope:registry`, from one
 * `npm config list --json`, which reads the same files and variables `npm install` does), and
 * yarn's registry when yarn is installed.
 */
import { z } from 'zod';
import { commandProblem, entryOfUrl, unique, type ClientHost, type ClientLookup } from './client-host.js';

const NpmConfig = z.record(z.string(), z.unknown());

/** The registry URLs in `npm config list --json` output. */
export function npmRegistryUrls(json: string): string[] {
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch {
    return [];
  }
  const parsed = NpmConfig.safeParse(data);
  if (!parsed.success) return [];
  const urls: string[] = [];
  for (const [key, value] of Object.entries(parsed.data)) {
    if (typeof value !== 'string') continue;
    if (key === 'registry' || /^@[^:]+:registry$/.test(key)) urls.push(value);
  }
  return urls;
}

/** yarn's answer to `yarn config get KEY`: a URL, or nothing (yarn 1 prints "undefined" for unknown keys). */
function yarnUrl(stdout: string): string | undefined {
  const line = stdout.trim().replace(/^"|"$/g, '');
  return entryOfUrl(line) ? line : undefined;
}

async function yarnRegistry(host: ClientHost): Promise<string | undefined> {
  // yarn 2+ names it npmRegistryServer; yarn 1 calls it registry.
  const modern = await host.run('yarn', ['config', 'get', 'npmRegistryServer']);
  if (modern.kind === 'missing' || modern.kind === 'timeout') return undefined;
  const url = modern.kind === 'ok' ? yarnUrl(modern.stdout) : undefined;
  if (url) return url;
  const classic = await host.run('yarn', ['config', 'get', 'registry']);
  return classic.kind === 'ok' ? yarnUrl(classic.stdout) : undefined;
}

export async function lookupNpm(host: ClientHost): Promise<ClientLookup> {
  const [npm, yarn] = await Promise.all([host.run('npm', ['config', 'list', '--json']), yarnRegistry(host)]);
  const urls = npm.kind === 'ok' ? npmRegistryUrls(npm.stdout) : [];
  const entries = unique([...urls, ...(yarn ? [yarn] : [])].map(entryOfUrl));
  if (npm.kind !== 'ok') return { entries, problem: commandProblem('npm config list', npm) };
  return entries.length > 0 ? { entries } : { entries, problem: 'npm reports no registry' };
}
