/**
 * @golang: `go env GOPROXY GOSUMDB`, what the go command itself will use: the hosts of the module
 * proxies and of the checksum database. `direct` (each module's own host) and `off` add nothing.
 */
import { commandProblem, entryOfUrl, unique, type ClientHost, type ClientLookup } from './client-host.js';

/** GOPROXY is a list separated by `,` or `|`; each element is a URL, `direct` or `off`. */
export function goProxyEntries(goproxy: string): string[] {
  return unique(goproxy.split(/[,|]/).map((p) => p.trim()).filter((p) => p && p !== 'direct' && p !== 'off').map((p) => entryOfUrl(/^[a-z][a-z0-9+.-]*:\/\//i.test(p) ? p : `https://${p}`)));
}

/** GOSUMDB is `off`, or `NAME[+KEY] [URL]`: the database is at URL, else at https://NAME. */
export function goSumdbEntries(gosumdb: string): string[] {
  const [name = '', url] = gosumdb.trim().split(/\s+/);
  if (!name || name === 'off') return [];
  return unique([entryOfUrl(url ?? `https://${name.split('+')[0] ?? ''}`)]);
}

export async function lookupGo(host: ClientHost): Promise<ClientLookup> {
  const result = await host.run('go', ['env', 'GOPROXY', 'GOSUMDB']);
  if (result.kind !== 'ok') return { entries: [], problem: commandProblem('go env', result) };
  const [goproxy = '', gosumdb = ''] = result.stdout.split('\n');
  const entries = unique([...goProxyEntries(goproxy), ...goSumdbEntries(gosumdb)]);
  return entries.length > 0 ? { entries } : { entries, problem: 'GOPROXY is direct or off, so go fetches each module from its own host' };
}
