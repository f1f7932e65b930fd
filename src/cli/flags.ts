import { UsageError } from '../errors.js';
import type { FlagOverrides } from '../config/load-config.js';
import type { BackendType } from '../config/schema.js';
import { describeEntryProblem, parseNetworkEntry } from '../config/network-entry.js';

export interface ConfigFlags {
  networkAllow?: string[];
  allowNetwork?: boolean;
  backend?: BackendType;
  context?: string;
  namespace?: string;
}

export function collect<T>(value: T, previous: T[]): T[] {
  return [...previous, value];
}

/** --network-allow takes the same grammar as paude.json, checked before anything starts. */
export function checkNetworkFlag(value: string): void {
  const parsed = parseNetworkEntry(value);
  if (!parsed.ok) throw new UsageError(`--network-allow: ${describeEntryProblem(value, parsed.problem)}`);
}

/** --namespace: a Kubernetes namespace name, checked before anything starts. */
export function checkNamespaceFlag(value: string): void {
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(value) || value.length > 63) {
    throw new UsageError(`--namespace: ${JSON.stringify(value)} is not a Kubernetes namespace name (expected lowercase letters, digits and '-', at most 63, starting and ending with a letter or digit)`);
  }
}

export function toOverrides(flags: ConfigFlags, env: NodeJS.ProcessEnv = {}): FlagOverrides {
  flags.networkAllow?.forEach(checkNetworkFlag);
  if (flags.namespace !== undefined) checkNamespaceFlag(flags.namespace);
  return {
    ...(env.PAUDE_BASE_IMAGE ? { baseImage: env.PAUDE_BASE_IMAGE } : {}),
    ...(flags.networkAllow?.length ? { networkAllow: flags.networkAllow } : {}),
    ...(flags.allowNetwork ? { allowNetwork: true } : {}),
    ...(flags.backend ? { backend: flags.backend } : {}),
    ...(flags.context ? { kubeContext: flags.context } : {}),
    ...(flags.namespace ? { kubeNamespace: flags.namespace } : {}),
  };
}
