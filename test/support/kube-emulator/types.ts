/**
 * Shared shapes. Objects are kept exactly as they travel on the wire (JSON, string timestamps);
 * the typed views of pods, services... come from kubernetes-models' interfaces, which describe
 * that JSON (unlike client-node's classes, which hold Dates and renamed fields).
 */
import type { IPod } from 'kubernetes-models/v1';

export type ObjectMeta = NonNullable<IPod['metadata']>;

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Any API object as stored: apiVersion, kind, metadata and whatever else it carries. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta & { name: string };
  [field: string]: unknown;
}

export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export const clone = <T>(v: T): T => structuredClone(v);

/** RFC 3339 with second precision, as metav1.Time is serialised. */
export const timestamp = (d: Date = new Date()): string => d.toISOString().replace(/\.\d+Z$/, 'Z');

/** Engine times ("2024-05-01T10:00:00.123456789Z", or the zero time) as metav1.Time. */
export function engineTime(t: string | undefined): string | undefined {
  if (!t || t.startsWith('0001-01-01')) return undefined;
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? undefined : timestamp(d);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isRecord(a) && isRecord(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}
