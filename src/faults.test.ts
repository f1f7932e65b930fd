import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FAULT_POINTS } from './faults.js';

/** Every .ts file of the product (not its tests). */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [path] : [];
  });
}

describe('fault points', () => {
  it('are each placed in the product, and the product places no other', () => {
    const src = fileURLToPath(new URL('.', import.meta.url));
    const placed = sources(src).flatMap((file) => [...readFileSync(file, 'utf8').matchAll(/faultPoint\('([a-z.-]+)'\)/g)].map((m) => m[1]));
    expect(new Set(placed)).toEqual(new Set(FAULT_POINTS));
  });

  it('have unique names', () => {
    expect(new Set(FAULT_POINTS).size).toBe(FAULT_POINTS.length);
  });
});
