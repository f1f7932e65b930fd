/** Labels on every engine resource paude creates: the engine is the source of truth. */
export const LABEL = {
  managed: 'paude.managed',
  session: 'paude.session',
  role: 'paude.role',
  workspace: 'paude.workspace',
  /** The data directory of the paude that made it: one user's sessions among others on a shared engine. */
  data: 'paude.data',
  version: 'paude.version',
} as const;

export type ResourceRole = 'agent' | 'proxy' | 'link' | 'volume';

export function sessionLabels(sessionId: string, role: ResourceRole, extra: Record<string, string> = {}): Record<string, string> {
  return { ...extra, [LABEL.managed]: 'true', [LABEL.session]: sessionId, [LABEL.role]: role };
}
