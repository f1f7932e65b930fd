/**
 * @debian: the hosts of apt's sources on this machine, from the one-line format
 * (sources.list, sources.list.d/*.list) and the deb822 format (sources.list.d/*.sources).
 */
import { join } from 'node:path';
import { entryOfUrl, unique, type ClientHost, type ClientLookup } from './client-host.js';

export interface AptSources {
  /** The one-line sources file (Dir::Etc::sourcelist). */
  list: string;
  /** The directory of *.list and *.sources files (Dir::Etc::sourceparts). */
  parts: string;
}

export const APT_SOURCES: AptSources = { list: '/etc/apt/sources.list', parts: '/etc/apt/sources.list.d' };

/** URIs of a one-line sources file: `deb [options] URI suite [component...]`. */
export function oneLineSourceUris(text: string): string[] {
  const uris: string[] = [];
  for (const raw of text.split('\n')) {
    const tokens = raw.replace(/#.*$/, '').trim().split(/\s+/).filter(Boolean);
    if (tokens[0] !== 'deb' && tokens[0] !== 'deb-src') continue;
    let i = 1;
    if (tokens[i]?.startsWith('[')) {
      while (i < tokens.length && !tokens[i]?.endsWith(']')) i++;
      i++;
    }
    const uri = tokens[i];
    if (uri) uris.push(uri);
  }
  return uris;
}

/** URIs of a deb822 sources file: the `URIs:` field of every stanza not marked `Enabled: no`. */
export function deb822SourceUris(text: string): string[] {
  const uris: string[] = [];
  for (const stanza of text.split(/\n[ \t]*\n/)) {
    const fields = new Map<string, string>();
    let current: string | undefined;
    for (const line of stanza.split('\n')) {
      if (line.startsWith('#')) continue;
      if (/^[ \t]/.test(line) && current !== undefined) {
        fields.set(current, `${fields.get(current) ?? ''} ${line.trim()}`);
        continue;
      }
      const m = /^([A-Za-z0-9-]+):(.*)$/.exec(line);
      current = m?.[1]?.toLowerCase();
      if (m && current !== undefined) fields.set(current, (m[2] ?? '').trim());
    }
    if (/^(no|false|0)$/i.test(fields.get('enabled') ?? '')) continue;
    uris.push(...(fields.get('uris') ?? '').split(/\s+/).filter(Boolean));
  }
  return uris;
}

export async function lookupApt(host: ClientHost, sources: AptSources = APT_SOURCES): Promise<ClientLookup> {
  const names = (await host.listDir(sources.parts)).filter((n) => n.endsWith('.list') || n.endsWith('.sources')).sort();
  const files = [{ path: sources.list, deb822: false }, ...names.map((n) => ({ path: join(sources.parts, n), deb822: n.endsWith('.sources') }))];
  const texts = await Promise.all(files.map(async (f) => ({ ...f, text: await host.readText(f.path) })));
  const uris = texts.flatMap((f) => (f.text === undefined ? [] : f.deb822 ? deb822SourceUris(f.text) : oneLineSourceUris(f.text)));
  const entries = unique(uris.map(entryOfUrl));
  if (entries.length > 0) return { entries };
  const found = texts.some((f) => f.text !== undefined);
  return { entries, problem: found ? `apt's sources (${sources.list}, ${sources.parts}) name no http or https host` : `apt's sources were not found here (${sources.list}, ${sources.parts})` };
}
