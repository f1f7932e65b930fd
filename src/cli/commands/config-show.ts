import { flattenJson } from '../../config/flatten.js';
import { sourceOf, type Source } from '../../config/layering.js';
import { toOverrides, type ConfigFlags } from '../flags.js';
import { loadTrustedConfig } from '../load-trusted-config.js';
import type { CliContext } from '../program.js';

export async function configShow(ctx: CliContext, opts: ConfigFlags & { json?: boolean }): Promise<void> {
  const resolved = await loadTrustedConfig(ctx, toOverrides(opts, ctx.env));
  for (const w of resolved.warnings) ctx.stderr.write(`paude: warning: ${w}\n`);
  const rows = flattenJson(resolved.config).map(([path, value]) => ({ path, value, source: sourceOf(resolved.sources, path) ?? { kind: 'default' as const } }));

  if (opts.json) {
    const out = {
      config: resolved.config,
      sources: Object.fromEntries(rows.map((r) => [r.path, r.source])),
      warnings: resolved.warnings,
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
}

export function describeSource(source: Source): string {
  return source.origin ? `${source.kind} (${source.origin})` : source.kind;
}
