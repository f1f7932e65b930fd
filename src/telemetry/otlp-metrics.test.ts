import { describe, expect, it } from 'vitest';
import { TokenCounter } from './otlp-metrics.js';

/** One export of claude_code.cost.usage with these points (no attributes: one series). */
function cost(temporality: number, ...values: number[]): unknown {
  return {
    resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'claude_code.cost.usage', sum: { aggregationTemporality: temporality, dataPoints: values.map((asDouble) => ({ asDouble })) } }] }] }],
  };
}

/** Problems found by test/fuzz/otlp.test.ts and fixed; these keep them fixed. */
describe('TokenCounter: regressions', () => {
  // Each value was checked to be finite, not their sum: two points of 1e308 made the total
  // Infinity, which telemetry.json stores as null, so the session's totals could no longer be read.
  it('ignores values larger than any count or cost, so totals stay finite', () => {
    const counter = new TokenCounter();
    expect(counter.add(cost(1, 1e308, 1e308))).toBe(true);
    expect(counter.add(cost(1, 2.5))).toBe(true);
    expect(counter.totals().costUsd).toBe(2.5);
    expect(counter.add({ resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'claude_code.token.usage', sum: { dataPoints: [{ attributes: [{ key: 'type', value: { stringValue: 'input' } }], asInt: '99999999999999999999' }] } }] }] }] })).toBe(true);
    expect(counter.totals().input).toBe(0);
  });

  it('still counts the largest exact values', () => {
    const counter = new TokenCounter();
    counter.add(cost(2, Number.MAX_SAFE_INTEGER));
    expect(counter.totals().costUsd).toBe(Number.MAX_SAFE_INTEGER);
  });
});
