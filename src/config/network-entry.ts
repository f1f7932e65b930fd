/**
 * The allowlist/denylist grammar. Every network rule paude ever acts on (config files,
 * --network-allow, approvals, the dashboard editor) goes through parseNetworkEntry, and the
 * squid configuration is rendered only from the structured rules it returns.
 *
 *   example.com          that host only (ports 80 and 443)
 *   *.example.com        any subdomain, not the apex
 *   .example.com         the apex and any subdomain
 *   host:8443            the same forms with one other port
 *   ip:10.1.2.3[:port]   an IP literal, only when marked with `ip:` (IPv6 as ip:[fd00::1]:port)
 *   @npm                 a named group (see groups.ts)
 */
import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import { getDomain } from 'tldts';
import { quote } from '../errors.js';
import { GROUP_NAMES, isGroupName, type AllowlistGroupName } from './groups.js';

export type NetworkRule =
  | { kind: 'host'; host: string; port?: number }
  | { kind: 'subdomains'; domain: string; port?: number }
  | { kind: 'domain'; domain: string; port?: number }
  | { kind: 'ip'; address: string; port?: number }
  | { kind: 'group'; name: AllowlistGroupName };

export type EntryParse = { ok: true; rule: NetworkRule } | { ok: false; problem: string };

export const ENTRY_EXPECTATION = 'expected host, *.host, .host, host:port, ip:ADDRESS or @group';

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const PORT = /^[0-9]{1,5}$/;

const fail = (problem: string): EntryParse => ({ ok: false, problem });

export function parseNetworkEntry(raw: unknown): EntryParse {
  if (typeof raw !== 'string') return fail('is not a string');
  if (raw.length === 0) return fail('is empty');
  if (raw.length > 300) return fail('is longer than any hostname can be');
  // eslint-disable-next-line no-control-regex -- rejecting control characters is the point
  if (/[\s\u0000-\u001f\u007f-\u009f\u2028\u2029]/u.test(raw)) return fail('contains whitespace or control characters');
  if (raw.includes('://')) return fail('is not a domain: schemes are not allowed');
  if (raw === '*' || raw === '*.*' || raw === '.') return fail('would allow every host (use network.mode "open" in your global paude.json, or --allow-network, to turn filtering off)');
  if (raw.startsWith('@')) return parseGroup(raw.slice(1).toLowerCase());
  if (/[/?#\\]/.test(raw)) return fail('is not a domain: paths, queries and fragments are not allowed');
  if (raw.includes('@')) return fail('is not a domain: user names are not allowed');
  if (/^ip:/i.test(raw)) return parseIp(raw.slice(3));
  if (looksLikeIp(raw)) return fail(`is an IP address (write "ip:${raw}" to allow an address explicitly)`);

  const { rest, port, problem } = splitPort(raw);
  if (problem) return fail(problem);

  if (rest.startsWith('*.')) {
    const domain = normaliseHost(rest.slice(2));
    if (typeof domain !== 'string') return domain;
    return wideRule('subdomains', domain, port);
  }
  if (rest.includes('*')) return fail('has a wildcard that is not a leading "*." label');
  if (rest.startsWith('.')) {
    const domain = normaliseHost(rest.slice(1));
    if (typeof domain !== 'string') return domain;
    return wideRule('domain', domain, port);
  }
  const host = normaliseHost(rest);
  if (typeof host !== 'string') return host;
  // "ip" with a port would be written back as "ip:PORT", which reads as an address (a soft
  // hyphen or a capital letter can make it look like another name at first).
  if (host === 'ip' && port !== undefined) return fail('reads as "ip:" and an address once normalised; a host named "ip" cannot take a port here');
  return { ok: true, rule: withPort({ kind: 'host', host }, port) };
}

function parseGroup(name: string): EntryParse {
  if (isGroupName(name)) return { ok: true, rule: { kind: 'group', name } };
  const known = GROUP_NAMES.map((g) => `@${g}`).join(', ');
  return fail(`is not a known group (known groups: ${known})`);
}

function parseIp(text: string): EntryParse {
  let address = text;
  let port: number | undefined;
  const bracketed = /^\[([^\]]+)\](?::([^:]*))?$/.exec(text);
  if (bracketed) {
    address = bracketed[1] ?? '';
    if (bracketed[2] !== undefined) {
      const p = parsePort(bracketed[2]);
      if (typeof p === 'string') return fail(p);
      port = p;
    }
  } else if (isIP(text) !== 6) {
    const parts = text.split(':');
    if (parts.length === 2) {
      address = parts[0] ?? '';
      const p = parsePort(parts[1] ?? '');
      if (typeof p === 'string') return fail(p);
      port = p;
    }
  }
  if (address.includes('%')) return fail('has an IPv6 zone id, which a proxy cannot use');
  const family = isIP(address);
  if (family === 0) return fail('is not an IP address after "ip:"');
  return { ok: true, rule: withPort({ kind: 'ip', address: address.toLowerCase() }, port) };
}

function looksLikeIp(raw: string): boolean {
  if (isIP(raw) !== 0 || isIP(stripBrackets(raw)) !== 0) return true;
  const bracketed = /^\[([^\]]+)\](?::[0-9]+)?$/.exec(raw);
  if (bracketed && isIP(bracketed[1] ?? '') === 6) return true;
  const colon = raw.lastIndexOf(':');
  return colon > 0 && isIP(raw.slice(0, colon)) === 4;
}

function splitPort(raw: string): { rest: string; port?: number; problem?: string } {
  const colon = raw.lastIndexOf(':');
  if (colon === -1) return { rest: raw };
  const p = parsePort(raw.slice(colon + 1));
  if (typeof p === 'string') return { rest: raw, problem: p };
  return { rest: raw.slice(0, colon), port: p };
}

function parsePort(text: string): number | string {
  if (!PORT.test(text)) return `has a port "${text}" that is not a number from 1 to 65535`;
  const port = Number(text);
  if (port < 1 || port > 65535) return `has a port ${port} outside 1-65535`;
  return port;
}

function stripBrackets(s: string): string {
  return s.startsWith('[') && s.endsWith(']') ? s.slice(1, -1) : s;
}

/** Lower-cases, converts IDNs to punycode and checks each label; returns the host or a failure. */
function normaliseHost(input: string): string | EntryParse {
  let host = input.endsWith('.') ? input.slice(0, -1) : input;
  if (host.length === 0) return fail('has no host name');
  // eslint-disable-next-line no-control-regex -- ASCII check
  if (/[^\u0000-\u007f]/.test(host)) {
    const ascii = domainToASCII(host);
    if (!ascii) return fail('is not a valid international domain name');
    host = ascii;
  }
  host = host.toLowerCase();
  if (host.length > 253) return fail('is longer than 253 characters');
  const labels = host.split('.');
  for (const label of labels) {
    if (!LABEL.test(label)) {
      return fail(label.length === 0 ? 'has an empty label ("..")' : `has an invalid label "${label}" (letters, digits and inner hyphens only)`);
    }
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1] ?? '')) return fail('is not a valid hostname (its last label is numeric)');
  // URL parsers read forms such as 0x7f000001 or 0x7f.0.0.1 as IPv4 addresses; an address must
  // be written with ip: so that nobody allows 127.0.0.1 without seeing it.
  if (canonicalUrlHost(host) !== host) return fail('is read as an IP address by URL parsers (write addresses as ip:ADDRESS)');
  return host;
}

function canonicalUrlHost(host: string): string | undefined {
  try {
    return new URL(`http://${host}/`).hostname;
  } catch {
    return undefined;
  }
}

function wideRule(kind: 'subdomains' | 'domain', domain: string, port: number | undefined): EntryParse {
  if (getDomain(domain, { allowPrivateDomains: true }) === null) {
    const form = kind === 'subdomains' ? `*.${domain}` : `.${domain}`;
    return fail(`covers a whole public suffix ("${domain}"), so "${form}" would allow sites of unrelated owners; name a registrable domain such as "${kind === 'subdomains' ? '*.' : '.'}example.${domain}"`);
  }
  return { ok: true, rule: withPort({ kind, domain }, port) };
}

function withPort<T extends object>(rule: T, port: number | undefined): T & { port?: number } {
  return port === undefined ? rule : { ...rule, port };
}

/** The canonical text of a rule: parseNetworkEntry(formatNetworkRule(r)) gives r back. */
export function formatNetworkRule(rule: NetworkRule): string {
  const port = 'port' in rule && rule.port !== undefined ? `:${rule.port}` : '';
  switch (rule.kind) {
    case 'host':
      return `${rule.host}${port}`;
    case 'subdomains':
      return `*.${rule.domain}${port}`;
    case 'domain':
      return `.${rule.domain}${port}`;
    case 'ip':
      return isIP(rule.address) === 6 ? `ip:[${rule.address}]${port}` : `ip:${rule.address}${port}`;
    case 'group':
      return `@${rule.name}`;
  }
}

/** The message used everywhere an entry is rejected. */
export function describeEntryProblem(raw: unknown, problem: string): string {
  return `${quote(raw)} ${problem} (${ENTRY_EXPECTATION})`;
}

