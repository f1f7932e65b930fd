/**
 * The labels and annotations every object of a session carries. Labels hold only label-safe
 * values (the session id, the object's role, a hash of the data directory) and are what paude
 * lists and deletes by; paths (the workspace, the data directory) are annotations.
 */
import { createHash } from 'node:crypto';
import type { V1ObjectMeta } from '@kubernetes/client-node';
import type { SessionSpec } from '../session-backend.js';

export const LABELS = {
  managed: 'app.kubernetes.io/managed-by',
  session: 'paude.session',
  role: 'paude.role',
  data: 'paude.data',
} as const;
export const ANNOTATIONS = { workspace: 'paude.workspace', dataDir: 'paude.data-dir' } as const;

/** The data directory as a label value (paths are not label-safe): sessions of one paude data dir. */
export const dataLabel = (dataDir: string): string => createHash('sha256').update(dataDir).digest('hex').slice(0, 16);

export function sessionLabels(id: string, role: string, dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  const safe = Object.fromEntries(Object.entries(extra).filter(([k, v]) => isLabelKey(k) && isLabelValue(v)));
  return { ...safe, [LABELS.managed]: 'paude', [LABELS.session]: id, [LABELS.role]: role, [LABELS.data]: dataLabel(dataDir) };
}

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
export const isLabelValue = (v: string): boolean => v.length <= 63 && LABEL_VALUE.test(v);
export function isLabelKey(k: string): boolean {
  const [prefix, name] = k.includes('/') ? [k.slice(0, k.indexOf('/')), k.slice(k.indexOf('/') + 1)] : [undefined, k];
  if (prefix !== undefined && (prefix.length > 253 || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(prefix))) return false;
  return name.length > 0 && isLabelValue(name);
}

/** The metadata of one of a session's objects, by its name and role. */
export type SessionMeta = (name: string, role: string) => V1ObjectMeta;

export function sessionMeta(spec: SessionSpec, namespace: string): SessionMeta {
  const annotations = { [ANNOTATIONS.workspace]: spec.projectRoot, [ANNOTATIONS.dataDir]: spec.dataDir };
  return (name, role) => ({ name, namespace, labels: sessionLabels(spec.id, role, spec.dataDir, spec.labels), annotations });
}
