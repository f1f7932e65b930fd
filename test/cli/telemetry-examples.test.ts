/**
 * The telemetry recipes under examples/telemetry say what paude and Claude Code do: the paude.json
 * snippets are valid global configuration, the collector's pipelines use only what it defines,
 * compose mounts files that exist, and the Grafana dashboard queries the Prometheus names that
 * the collector makes of the metrics a real Claude Code export carries (test/fixtures).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseConfigText } from '../../src/config/read-config-file.js';
import { PaudeFileSchema } from '../../src/config/schema.js';
import { decodeMetricsRequest } from '../../src/telemetry/otlp-proto.js';

const dir = fileURLToPath(new URL('../../examples/telemetry/', import.meta.url));
const read = (p: string): string => readFileSync(join(dir, p), 'utf8');

interface Collector {
  receivers: Record<string, unknown>;
  processors: Record<string, unknown>;
  exporters: Record<string, unknown>;
  service: { pipelines: Record<string, { receivers: string[]; processors: string[]; exporters: string[] }> };
}

/** The collector's Prometheus exporter naming: dots to underscores, the unit appended, _total for monotonic sums. */
function prometheusName(name: string, unit: string, monotonic: boolean): string {
  const units: Record<string, string> = { s: 'seconds', By: 'bytes' };
  const u = units[unit] ?? unit;
  let n = name.replace(/[^a-zA-Z0-9_:]/g, '_');
  if (u && !n.endsWith(`_${u}`)) n += `_${u}`;
  return monotonic ? `${n}_total` : n;
}

describe('examples/telemetry', () => {
  it.each(['paude-collector.jsonc', 'paude-mlflow.jsonc'])('%s is valid global paude.json with traces on', (file) => {
    const value = parseConfigText(read(file), join(dir, file), file, PaudeFileSchema);
    expect(value.telemetry?.otel?.enabled).toBe(true);
    expect(value.telemetry?.otel?.traces).toBe(true);
  });

  it('wires the collector’s pipelines to receivers, processors and exporters it defines', () => {
    const c = parseYaml(read('collector.yaml')) as Collector;
    expect(Object.keys(c.service.pipelines).sort()).toEqual(['logs', 'metrics', 'traces']);
    for (const p of Object.values(c.service.pipelines)) {
      for (const r of p.receivers) expect(c.receivers).toHaveProperty([r]);
      for (const r of p.processors) expect(c.processors).toHaveProperty([r]);
      for (const r of p.exporters) expect(c.exporters).toHaveProperty([r]);
    }
    // The paude.* resource attributes become labels.
    expect(c.exporters.prometheus).toMatchObject({ resource_to_telemetry_conversion: { enabled: true } });
  });

  it('mounts in compose only files that exist, and scrapes the collector it runs', () => {
    const compose = parseYaml(read('compose.yaml')) as { services: Record<string, { volumes?: string[] }> };
    const mounts = Object.values(compose.services).flatMap((s) => s.volumes ?? []).map((v) => v.split(':')[0] ?? '').filter((v) => v.startsWith('./'));
    expect(mounts.length).toBeGreaterThan(3);
    for (const m of mounts) expect(existsSync(join(dir, m)), m).toBe(true);
    const prom = parseYaml(read('prometheus.yml')) as { scrape_configs: Array<{ static_configs: Array<{ targets: string[] }> }> };
    expect(prom.scrape_configs[0]?.static_configs[0]?.targets).toEqual(['otel-collector:8889']);
    expect(compose.services).toHaveProperty(['otel-collector']);
  });

  it('queries in the Grafana dashboard the names a real Claude Code export turns into', async () => {
    const bytes = readFileSync(fileURLToPath(new URL('../fixtures/claude-code-metrics.pb', import.meta.url)));
    const payload = (await decodeMetricsRequest(bytes)) as {
      resourceMetrics: Array<{ scopeMetrics: Array<{ metrics: Array<{ name: string; unit?: string; sum?: { isMonotonic?: boolean; dataPoints: Array<{ attributes: Array<{ key: string }> }> } }> }> }>;
    };
    const metrics = payload.resourceMetrics.flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics));
    const names = new Set(metrics.map((m) => prometheusName(m.name, m.unit ?? '', m.sum?.isMonotonic ?? false)));
    const dashboard = JSON.parse(read('grafana/paude-dashboard.json')) as { panels: Array<{ targets: Array<{ expr: string }> }> };
    const used = new Set(dashboard.panels.flatMap((p) => p.targets.flatMap((t) => [...t.expr.matchAll(/\bclaude_code_\w+/g)].map((m) => m[0]))));
    expect([...used].sort()).toEqual(['claude_code_cost_usage_USD_total', 'claude_code_token_usage_tokens_total']);
    for (const name of used) expect(names, name).toContain(name);
    // The labels the dashboard groups by exist: `type` on the points, paude.* on the resource.
    const tokens = metrics.find((m) => m.name === 'claude_code.token.usage');
    expect(tokens?.sum?.dataPoints[0]?.attributes.map((a) => a.key)).toContain('type');
  });
});
