/**
 * The decision procedure, written once here and once in assets/proxy/policy-helper (Perl, run
 * by squid). A property test feeds both the same random policies and requests and requires the
 * same answers, so the CLI's explanations match what the proxy does.
 */
import type { NetworkMode } from '../config/schema.js';
import type { CompiledRule } from './effective-policy.js';

export type Decision = { decision: 'allow' | 'deny'; rule: string } | { decision: 'hold' };

export interface CompiledPolicy {
  mode: NetworkMode;
  allow: readonly CompiledRule[];
  deny: readonly CompiledRule[];
}

/** As the Perl helper does it, byte by byte: ASCII lower case only, anything else becomes "?". */
export function normaliseRequestHost(host: string): string {
  let h = '';
  for (const byte of Buffer.from(host, 'utf8')) {
    const c = byte >= 0x41 && byte <= 0x5a ? byte + 32 : byte;
    h += c < 0x80 ? String.fromCharCode(c) : '\u0000';
  }
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h.replace(/[^a-z0-9.:%_-]/g, '?');
}

export function ruleMatches(rule: CompiledRule, host: string, port: number): boolean {
  if (rule.ports !== 'any' && !rule.ports.includes(port)) return false;
  const name = rule.name;
  if (rule.kind === 'host' || rule.kind === 'ip') return host === name;
  const isSub = host.length > name.length + 1 && host.endsWith(`.${name}`);
  return rule.kind === 'sub' ? isSub : host === name || isSub;
}

export function decide(policy: CompiledPolicy, rawHost: string, port: number): Decision {
  const host = normaliseRequestHost(rawHost);
  for (const r of policy.deny) if (ruleMatches(r, host, port)) return { decision: 'deny', rule: r.label };
  for (const r of policy.allow) if (ruleMatches(r, host, port)) return { decision: 'allow', rule: r.label };
  switch (policy.mode) {
    case 'open':
      return { decision: 'allow', rule: 'open-mode' };
    case 'ask':
      return { decision: 'hold' };
    case 'restricted':
      return { decision: 'deny', rule: 'not-allowed' };
  }
}
