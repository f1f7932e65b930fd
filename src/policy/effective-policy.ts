/**
 * The effective network policy of one session: built-in and provider domains, the layered
 * configuration (global, project, flags), project-scope approvals stored in the user's data
 * dir, and this session's own additions. Deny beats allow; every rule keeps its source so the
 * CLI and dashboard can say where it came from.
 */
import type { EffectiveConfig } from '../config/defaults.js';
import { sourceOf, type Source } from '../config/layering.js';
import type { NetworkMode } from '../config/schema.js';
import { ALLOWLIST_GROUPS, isRegistryGroup, type RegistryHosts } from '../config/groups.js';
import { formatNetworkRule, parseNetworkEntry, type NetworkRule } from '../config/network-entry.js';

export type RuleSource = 'built-in' | 'provider' | 'global' | 'project' | 'flag' | 'approval' | 'session';

export interface PolicyEntry {
  rule: NetworkRule;
  /** Canonical text (parseNetworkEntry(text) gives rule back). */
  text: string;
  source: RuleSource;
}

export interface EffectivePolicy {
  mode: NetworkMode;
  allow: PolicyEntry[];
  deny: PolicyEntry[];
  approvalTimeoutSeconds: number;
  /**
   * The hosts of the package registry groups (`@npm`...) this policy uses, resolved from the
   * clients' configuration (registry-groups.ts, withRegistryHosts). A registry group missing
   * here expands to nothing: unresolved means closed, never open.
   */
  registryHosts?: RegistryHosts;
}

export interface PolicyInputs {
  config: EffectiveConfig;
  sources: ReadonlyMap<string, Source>;
  /** Hosts approved for this project (`paude allow --project`), from the user's data dir. */
  projectApprovals?: { allow: readonly string[]; deny: readonly string[] };
  /** This session's own changes (`paude allow --session`, dashboard approvals). */
  session?: { allow: readonly string[]; deny: readonly string[] };
}

/** Domains the configured provider needs; always allowed. */
export function providerEntries(config: EffectiveConfig): string[] {
  const creds = config.credentials;
  switch (config.provider) {
    case 'anthropic':
      return ['@anthropic'];
    case 'vertex': {
      const region = creds.vertex?.region;
      return ['@vertex', ...(region && /^[a-z0-9-]+$/.test(region) ? [`${region}-aiplatform.googleapis.com`] : [])];
    }
    case 'bedrock': {
      const region = creds.bedrock?.region;
      return ['@bedrock', ...(region && /^[a-z0-9-]+$/.test(region) ? [`bedrock-runtime.${region}.amazonaws.com`] : [])];
    }
    case 'azure': {
      const resource = creds.azure?.resource;
      return ['@azure', ...(resource && /^[a-z0-9-]+$/.test(resource) ? [`${resource}.services.ai.azure.com`] : [])];
    }
  }
}

export function buildEffectivePolicy(inputs: PolicyInputs): EffectivePolicy {
  const { config, sources } = inputs;
  const allow = new EntryList();
  const deny = new EntryList();
  for (const text of providerEntries(config)) allow.add(text, 'provider');
  config.network.allowlist.forEach((text, i) => allow.add(text, configSource(sources, `network.allowlist[${i}]`)));
  config.network.denylist.forEach((text, i) => deny.add(text, configSource(sources, `network.denylist[${i}]`)));
  inputs.projectApprovals?.allow.forEach((t) => allow.add(t, 'approval'));
  inputs.projectApprovals?.deny.forEach((t) => deny.add(t, 'approval'));
  inputs.session?.allow.forEach((t) => allow.add(t, 'session'));
  inputs.session?.deny.forEach((t) => deny.add(t, 'session'));
  return { mode: config.network.mode, allow: allow.entries, deny: deny.entries, approvalTimeoutSeconds: config.network.approvalTimeoutSeconds };
}

function configSource(sources: ReadonlyMap<string, Source>, path: string): RuleSource {
  const kind = sourceOf(sources, path)?.kind;
  switch (kind) {
    case 'global':
    case 'project':
    case 'flag':
      return kind;
    case 'default':
    case 'devcontainer':
    case undefined:
      return 'built-in';
  }
}

/** Entries in order, each rule once (by its canonical text); invalid ones are dropped, never widened. */
export class EntryList {
  readonly entries: PolicyEntry[] = [];
  private readonly seen = new Set<string>();

  add(text: string, source: RuleSource): void {
    const parsed = parseNetworkEntry(text);
    // Config files, flags and stores are validated when read; anything else is dropped, never widened.
    if (!parsed.ok) return;
    const canonical = formatNetworkRule(parsed.rule);
    if (this.seen.has(canonical)) return;
    this.seen.add(canonical);
    this.entries.push({ rule: parsed.rule, text: canonical, source });
  }
}

/** A rule as the proxy applies it: groups expanded, ports explicit. */
export interface CompiledRule {
  kind: 'host' | 'sub' | 'dom' | 'ip';
  name: string;
  /** 'any' only for deny rules without a port: a denied host is denied on every port. */
  ports: readonly number[] | 'any';
  /** The entry the user wrote (a group member carries its group's text). */
  label: string;
}

const DEFAULT_PORTS = [80, 443] as const;

/** Groups expand to their members: fixed ones from groups.ts, registry ones from `registry` (resolved hosts). */
export function compileEntries(entries: readonly PolicyEntry[], effect: 'allow' | 'deny', registry: RegistryHosts = {}): CompiledRule[] {
  const out: CompiledRule[] = [];
  const push = (rule: NetworkRule, label: string): void => {
    switch (rule.kind) {
      case 'group':
        for (const member of isRegistryGroup(rule.name) ? (registry[rule.name] ?? []) : ALLOWLIST_GROUPS[rule.name]) {
          const parsed = parseNetworkEntry(member);
          if (parsed.ok && parsed.rule.kind !== 'group') push(parsed.rule, label);
        }
        return;
      case 'host':
        out.push({ kind: 'host', name: rule.host, ports: portsOf(rule.port, effect), label });
        return;
      case 'subdomains':
        out.push({ kind: 'sub', name: rule.domain, ports: portsOf(rule.port, effect), label });
        return;
      case 'domain':
        out.push({ kind: 'dom', name: rule.domain, ports: portsOf(rule.port, effect), label });
        return;
      case 'ip':
        out.push({ kind: 'ip', name: rule.address, ports: portsOf(rule.port, effect), label });
        return;
    }
  };
  for (const entry of entries) push(entry.rule, entry.text);
  return out;
}

function portsOf(port: number | undefined, effect: 'allow' | 'deny'): readonly number[] | 'any' {
  if (port !== undefined) return [port];
  return effect === 'deny' ? 'any' : DEFAULT_PORTS;
}
