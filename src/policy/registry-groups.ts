/**
 * Resolves the package registry groups (@npm, @pypi, @crates, @golang, @debian) from the
 * clients' own configuration on the host where paude runs (registries/*.ts), only for the
 * groups a policy uses, once per process: the clients run in parallel, each with a timeout, so
 * a client that hangs costs its timeout and never hangs paude. A group whose client is missing
 * or says nothing expands to nothing, with a one-line warning that says what to configure; the
 * warnings are returned as data (the CLI prints them, once).
 */
import type { EffectivePolicy, PolicyEntry } from './effective-policy.js';
import { isRegistryGroup, type RegistryGroupName, type RegistryHosts } from '../config/groups.js';
import { parseNetworkEntry } from '../config/network-entry.js';
import { APT_SOURCES, lookupApt, type AptSources } from './registries/apt.js';
import { lookupCargo } from './registries/cargo.js';
import { nodeClientHost, unique, type ClientHost, type ClientLookup } from './registries/client-host.js';
import { lookupGo } from './registries/go.js';
import { lookupNpm } from './registries/npm.js';
import { lookupPip } from './registries/pip.js';
import { registerWarningSource } from './registry-warnings.js';

export interface GroupResolution {
  /** Allowlist entries (host, host:port or ip:ADDRESS), each valid in the entry grammar. */
  entries: string[];
  warning?: string;
}

export interface RegistryResolution {
  hosts: RegistryHosts;
  /** One line per group that resolved to nothing (or to less than it should). */
  warnings: string[];
}

/** What a user adds to network.allowlist when a group cannot be resolved. */
const ADVICE: Record<RegistryGroupName, string> = {
  npm: 'your registry host',
  pypi: 'your index host',
  crates: "your registry's hosts",
  golang: "your module proxy's host",
  debian: "your mirror's host",
};

/** Where a group's hosts come from, in a few words (`paude config show`). */
export const REGISTRY_ORIGIN: Record<RegistryGroupName, string> = {
  npm: "npm's configuration",
  pypi: "pip's configuration",
  crates: "cargo's configuration",
  golang: "go's configuration",
  debian: "apt's sources",
};

export class RegistryGroupResolver {
  private readonly pending = new Map<RegistryGroupName, Promise<GroupResolution>>();
  private readonly settled = new Map<RegistryGroupName, GroupResolution>();
  private readonly taken = new Set<RegistryGroupName>();

  constructor(
    private readonly host: ClientHost = nodeClientHost(),
    private readonly aptSources: AptSources = APT_SOURCES,
  ) {}

  /** The groups' entries and warnings; each group is looked up once, however often it is asked for. */
  async resolve(names: Iterable<RegistryGroupName>): Promise<RegistryResolution> {
    const wanted = [...new Set(names)];
    const results = await Promise.all(wanted.map((name) => this.group(name)));
    const hosts: RegistryHosts = {};
    const warnings: string[] = [];
    wanted.forEach((name, i) => {
      const r = results[i];
      if (!r) return;
      hosts[name] = r.entries;
      if (r.warning) warnings.push(r.warning);
    });
    return { hosts, warnings };
  }

  /** Warnings of the groups resolved so far that no caller has taken yet: each is handed out once. */
  takeWarnings(): string[] {
    const out: string[] = [];
    for (const [name, r] of this.settled) {
      if (this.taken.has(name)) continue;
      this.taken.add(name);
      if (r.warning) out.push(r.warning);
    }
    return out;
  }

  private group(name: RegistryGroupName): Promise<GroupResolution> {
    let p = this.pending.get(name);
    if (!p) {
      p = this.lookup(name)
        .catch((error: unknown): ClientLookup => ({ entries: [], problem: `its configuration could not be read (${error instanceof Error ? error.message : String(error)})` }))
        .then((lookup) => {
          const r = toResolution(name, lookup);
          this.settled.set(name, r);
          return r;
        });
      this.pending.set(name, p);
    }
    return p;
  }

  private lookup(name: RegistryGroupName): Promise<ClientLookup> {
    switch (name) {
      case 'npm':
        return lookupNpm(this.host);
      case 'pypi':
        return lookupPip(this.host);
      case 'crates':
        return lookupCargo(this.host);
      case 'golang':
        return lookupGo(this.host);
      case 'debian':
        return lookupApt(this.host, this.aptSources);
    }
  }
}

function toResolution(name: RegistryGroupName, lookup: ClientLookup): GroupResolution {
  // Only what the entry grammar accepts as a single host or address; a group never widens.
  const entries = unique(
    lookup.entries.map((e) => {
      const parsed = parseNetworkEntry(e);
      return parsed.ok && (parsed.rule.kind === 'host' || parsed.rule.kind === 'ip') ? e : undefined;
    }),
  );
  if (entries.length === 0) {
    const problem = lookup.problem ?? 'its client named no host';
    return { entries, warning: oneLine(`@${name} is empty: ${problem}; add ${ADVICE[name]} to network.allowlist instead`) };
  }
  if (lookup.problem) return { entries, warning: oneLine(`@${name} may be incomplete: ${lookup.problem}; add ${ADVICE[name]} to network.allowlist if you need more`) };
  return { entries };
}

function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex -- a warning is one plain line
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ');
}

/** The registry groups among these entries, in order. */
export function registryGroupsIn(entries: Iterable<PolicyEntry>): RegistryGroupName[] {
  const names: RegistryGroupName[] = [];
  for (const e of entries) if (e.rule.kind === 'group' && isRegistryGroup(e.rule.name) && !names.includes(e.rule.name)) names.push(e.rule.name);
  return names;
}

/** The registry groups named by these entry texts (as written in a config file), in order. */
export function registryGroupsOfTexts(texts: Iterable<string>): RegistryGroupName[] {
  const names: RegistryGroupName[] = [];
  for (const t of texts) {
    const parsed = parseNetworkEntry(t);
    if (parsed.ok && parsed.rule.kind === 'group' && isRegistryGroup(parsed.rule.name) && !names.includes(parsed.rule.name)) names.push(parsed.rule.name);
  }
  return names;
}

/** The policy with the hosts of the registry groups it uses; no client runs when it uses none. */
export async function withRegistryHosts(policy: EffectivePolicy, resolver: RegistryGroupResolver): Promise<{ policy: EffectivePolicy; warnings: string[] }> {
  const names = registryGroupsIn([...policy.allow, ...policy.deny]);
  if (names.length === 0) return { policy, warnings: [] };
  const { hosts, warnings } = await resolver.resolve(names);
  return { policy: { ...policy, registryHosts: { ...policy.registryHosts, ...hosts } }, warnings };
}

let shared: RegistryGroupResolver | undefined;

/**
 * This process's resolver (its cache is the process's): made on first use, with process.env. The
 * CLI prints the warnings nobody took, once, when a command ends (registry-warnings.ts).
 */
export function sharedRegistryResolver(): RegistryGroupResolver {
  if (!shared) {
    const made = new RegistryGroupResolver();
    registerWarningSource(() => made.takeWarnings());
    shared = made;
  }
  return shared;
}
