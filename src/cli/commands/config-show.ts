import { flattenJson } from '../../config/flatten.js';
import { sourceOf, type Source } from '../../config/layering.js';
import type { EffectiveConfig } from '../../config/defaults.js';
import { ALLOWLIST_GROUPS, isRegistryGroup, type AllowlistGroupName, type RegistryHosts } from '../../config/groups.js';
import { parseNetworkEntry } from '../../config/network-entry.js';
import { REGISTRY_ORIGIN, sharedRegistryResolver } from '../../policy/registry-groups.js';
import { toOverrides, type ConfigFlags } from '../flags.js';
import { loadTrustedConfig } from '../load-trusted-config.js';
import type { CliContext } from '../program.js';

export async function configShow(ctx: CliContext, opts: ConfigFlags & { json?: boolean }): Promise<void> {
  const resolved = await loadTrustedConfig(ctx, toOverrides(opts, ctx.env));
  for (const w of resolved.warnings) ctx.stderr.write(`paude: warning: ${w}\n`);
  const rows = flattenJson(resolved.config).map(([path, value]) => ({ path, value, source: sourceOf(resolved.sources, path) ?? { kind: 'default' as const } }));
  const groups = await groupMembers(resolved.config);

  if (opts.json) {
    const out = {
      config: resolved.config,
      sources: Object.fromEntries(rows.map((r) => [r.path, r.source])),
      warnings: resolved.warnings,
      groups: Object.fromEntries(groups.map((g) => [`@${g.name}`, g.members])),
      files: {
        global: resolved.files.global?.path ?? null,
        project: resolved.files.project?.path ?? null,
        devcontainer: resolved.files.devcontainer?.path ?? null,
      },
    };
    ctx.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return;
  }
  const width = Math.min(40, Math.max(...rows.map((r) => r.path.length)));
  const valueWidth = Math.min(40, Math.max(...rows.map((r) => JSON.stringify(r.value).length)));
  for (const r of rows) {
    const value = JSON.stringify(r.value);
    ctx.stdout.write(`${r.path.padEnd(width)}  ${value.padEnd(valueWidth)}  ${describeSource(r.source)}\n`);
  }
  for (const g of groups) {
    const origin = isRegistryGroup(g.name) ? `resolved from ${REGISTRY_ORIGIN[g.name]}` : 'fixed';
    ctx.stdout.write(`@${g.name.padEnd(width - 1)}  ${(g.members.join(', ') || '(nothing)').padEnd(valueWidth)}  ${origin}\n`);
  }
}

/**
 * What each group named in the allowlist or denylist stands for: fixed members, or the hosts a
 * package registry group resolves to here (looked up only for the groups named).
 */
async function groupMembers(config: EffectiveConfig): Promise<Array<{ name: AllowlistGroupName; members: readonly string[] }>> {
  const names: AllowlistGroupName[] = [];
  for (const text of [...config.network.allowlist, ...config.network.denylist]) {
    const parsed = parseNetworkEntry(text);
    if (parsed.ok && parsed.rule.kind === 'group' && !names.includes(parsed.rule.name)) names.push(parsed.rule.name);
  }
  const registry = names.filter(isRegistryGroup);
  const hosts: RegistryHosts = registry.length > 0 ? (await sharedRegistryResolver().resolve(registry)).hosts : {};
  return names.map((name) => ({ name, members: isRegistryGroup(name) ? (hosts[name] ?? []) : ALLOWLIST_GROUPS[name] }));
}

export function describeSource(source: Source): string {
  return source.origin ? `${source.kind} (${source.origin})` : source.kind;
}
