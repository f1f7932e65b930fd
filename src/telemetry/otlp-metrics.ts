/**
 * Token and cost counters from Claude Code's OTLP metrics (JSON encoding):
 * `claude_code.token.usage` (attribute `type`: input, output, cacheRead, cacheCreation) and
 * `claude_code.cost.usage` (USD). Each series (metric + attributes) is tracked on its own:
 * cumulative points replace the series' value, delta points add to it, so a re-sent export
 * or a change of temporality does not double count. Anything else in the payload is ignored;
 * a payload that is not OTLP JSON is refused with a reason.
 */
import { z } from 'zod';

const AnyValue = z.looseObject({ stringValue: z.string().optional(), intValue: z.union([z.string(), z.number()]).optional(), doubleValue: z.number().optional(), boolValue: z.boolean().optional() });
const KeyValue = z.looseObject({ key: z.string(), value: AnyValue.optional() });
const DataPoint = z.looseObject({ attributes: z.array(KeyValue).optional(), asDouble: z.number().optional(), asInt: z.union([z.string(), z.number()]).optional() });
const Metric = z.looseObject({
  name: z.string(),
  sum: z.looseObject({ aggregationTemporality: z.number().optional(), dataPoints: z.array(DataPoint).optional() }).optional(),
});
export const MetricsPayload = z.looseObject({
  resourceMetrics: z.array(z.looseObject({ scopeMetrics: z.array(z.looseObject({ metrics: z.array(Metric).optional() })).optional() })).optional(),
});

export interface TokenTotals {
  input: number;
  output: number;
  cacheRead: number;
  cacheCreation: number;
  costUsd: number;
}

export const EMPTY_TOTALS: TokenTotals = { input: 0, output: 0, cacheRead: 0, cacheCreation: 0, costUsd: 0 };

const DELTA = 1;
const TOKEN_TYPES = new Set(['input', 'output', 'cacheRead', 'cacheCreation']);

const text = (v: z.infer<typeof AnyValue> | undefined): string => (v ? String(v.stringValue ?? v.intValue ?? v.doubleValue ?? v.boolValue ?? '') : '');
const numberOf = (p: z.infer<typeof DataPoint>): number => (p.asDouble !== undefined ? p.asDouble : p.asInt !== undefined ? Number(p.asInt) : 0);

export class TokenCounter {
  /** series key -> [what it counts, value] */
  private readonly series = new Map<string, { what: keyof TokenTotals; value: number }>();

  /** Adds one export; returns false (and changes nothing) when it is not OTLP metrics JSON. */
  add(payload: unknown): boolean {
    const parsed = MetricsPayload.safeParse(payload);
    if (!parsed.success) return false;
    for (const rm of parsed.data.resourceMetrics ?? []) {
      for (const sm of rm.scopeMetrics ?? []) {
        for (const m of sm.metrics ?? []) {
          if (m.name !== 'claude_code.token.usage' && m.name !== 'claude_code.cost.usage') continue;
          const delta = m.sum?.aggregationTemporality === DELTA;
          for (const p of m.sum?.dataPoints ?? []) {
            const attrs = (p.attributes ?? []).map((a) => [a.key, text(a.value)] as const).sort(([a], [b]) => a.localeCompare(b));
            let what: keyof TokenTotals;
            if (m.name === 'claude_code.cost.usage') what = 'costUsd';
            else {
              const type = attrs.find(([k]) => k === 'type')?.[1] ?? '';
              if (!TOKEN_TYPES.has(type)) continue;
              what = type as keyof TokenTotals;
            }
            const key = `${m.name}|${attrs.map(([k, v]) => `${k}=${v}`).join(',')}`;
            const value = numberOf(p);
            // No count or cost is this large; a few such values would add up to Infinity, which
            // telemetry.json cannot hold (JSON writes it as null) and the totals would be lost.
            if (!Number.isFinite(value) || value < 0 || value > Number.MAX_SAFE_INTEGER) continue;
            const current = this.series.get(key)?.value ?? 0;
            this.series.set(key, { what, value: delta ? current + value : value });
          }
        }
      }
    }
    return true;
  }

  totals(): TokenTotals {
    const t = { ...EMPTY_TOTALS };
    for (const s of this.series.values()) t[s.what] += s.value;
    return t;
  }

  /** The state to persist (and restore in another process: the keeper after the foreground paude). */
  toJSON(): Array<[string, keyof TokenTotals, number]> {
    return [...this.series].map(([k, s]) => [k, s.what, s.value]);
  }

  static from(saved: Array<[string, keyof TokenTotals, number]>): TokenCounter {
    const c = new TokenCounter();
    for (const [k, what, value] of saved) c.series.set(k, { what, value });
    return c;
  }
}
