/**
 * Renders the rules file the proxy's policy helper reads (STATE/policy/rules). Every line is
 * built from structured, validated rules; nothing a user typed reaches the file as text.
 *
 *   paude-policy 1
 *   mode restricted|ask|open
 *   timeout SECONDS
 *   allow|deny host|sub|dom|ip NAME PORTS|* LABEL
 */
import { isIP } from 'node:net';
import { compileEntries, type CompiledRule, type EffectivePolicy } from './effective-policy.js';
import type { CompiledPolicy } from './decide.js';

export const RULES_HEADER = 'paude-policy 1';

/** What every line of a rules file must look like; the Perl helper ignores anything else. */
export const RULE_LINE = /^(allow|deny) (host|sub|dom|ip) ([a-z0-9.:-]+) (\*|[0-9]{1,5}(?:,[0-9]{1,5})*) ([a-z0-9.*:@[\]-]+)$/;

export function compilePolicy(policy: EffectivePolicy): CompiledPolicy {
  const registry = policy.registryHosts ?? {};
  return { mode: policy.mode, allow: compileEntries(policy.allow, 'allow', registry), deny: compileEntries(policy.deny, 'deny', registry) };
}

export function renderPolicyRules(policy: EffectivePolicy): string {
  const compiled = compilePolicy(policy);
  const seconds = Number.isNaN(policy.approvalTimeoutSeconds) ? 30 : Math.trunc(policy.approvalTimeoutSeconds);
  const timeout = Math.max(1, Math.min(3600, seconds));
  const lines = [RULES_HEADER, `mode ${compiled.mode}`, `timeout ${timeout}`];
  for (const r of compiled.deny) lines.push(ruleLine('deny', r));
  for (const r of compiled.allow) lines.push(ruleLine('allow', r));
  return lines.join('\n') + '\n';
}

function ruleLine(effect: 'allow' | 'deny', rule: CompiledRule): string {
  const ports = rule.ports === 'any' ? '*' : rule.ports.join(',');
  const line = `${effect} ${rule.kind} ${rule.name} ${ports} ${rule.label}`;
  // Defence in depth: the grammar already guarantees this; a violation is a bug, never output.
  if (!RULE_LINE.test(line) || (rule.kind === 'ip' && isIP(rule.name) === 0)) throw new Error(`refusing to render an invalid rule line: ${JSON.stringify(line)}`);
  return line;
}
