import { formatJsonPath } from './json-path.js';

/** Leaf values of a JSON tree as [path, value] pairs; empty objects and lists count as leaves. */
export function flattenJson(value: unknown, path: Array<string | number> = []): Array<[string, unknown]> {
  if (Array.isArray(value)) {
    if (value.length === 0) return [[formatJsonPath(path), value]];
    return value.flatMap((v, i) => flattenJson(v, [...path, i]));
  }
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return [[formatJsonPath(path), value]];
    return entries.flatMap(([k, v]) => flattenJson(v, [...path, k]));
  }
  return [[formatJsonPath(path), value]];
}
