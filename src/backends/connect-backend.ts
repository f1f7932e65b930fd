/**
 * The backend behind a session's recorded endpoint: an engine (unix://, tcp://, ssh://) or a
 * cluster (kubernetes://CONTEXT/NAMESPACE, reached with the kubeconfig of backend.kubernetes
 * or KUBECONFIG). The kubernetes code is loaded only for cluster endpoints.
 */
import type { EffectiveConfig } from '../config/defaults.js';
import { connectEngine } from './engine/engine.js';
import { LocalBackend } from './local/local-backend.js';
import type { SessionBackend } from './session-backend.js';

type BackendConfig = EffectiveConfig['backend'];

export const isKubeEndpoint = (endpoint: string): boolean => endpoint.startsWith('kubernetes://');

export async function connectBackend(endpoint: string, config: Pick<BackendConfig, 'sshConfig' | 'kubernetes'>, env: NodeJS.ProcessEnv, flavorHint?: 'podman' | 'docker' | 'kubernetes'): Promise<SessionBackend> {
  if (isKubeEndpoint(endpoint)) {
    const { parseKubeEndpoint } = await import('./kubernetes/kube-backend.js');
    const target = parseKubeEndpoint(endpoint);
    if (!target) throw new Error(`not a kubernetes endpoint: ${endpoint}`);
    return kubernetesBackend(config, env, target);
  }
  return new LocalBackend(await connectEngine(endpoint, { sshConfigFile: config.sshConfig, flavorHint: flavorHint === 'kubernetes' ? 'any' : (flavorHint ?? 'any') }));
}

/** The kubernetes backend for the configured (or given) context and namespace. */
export async function kubernetesBackend(config: Pick<BackendConfig, 'kubernetes'>, env: NodeJS.ProcessEnv, target: { context?: string; namespace?: string } = {}): Promise<SessionBackend> {
  const [{ connectKubernetes }, { KubernetesBackend }] = await Promise.all([import('./kubernetes/kube-client.js'), import('./kubernetes/kube-backend.js')]);
  const k = config.kubernetes ?? {};
  const context = target.context ?? k.context;
  const namespace = target.namespace ?? k.namespace;
  const conn = await connectKubernetes({ ...(k.kubeconfig ? { kubeconfig: k.kubeconfig } : {}), ...(context ? { context } : {}), ...(namespace ? { namespace } : {}) }, env);
  return new KubernetesBackend(conn, {
    ...(k.storageClass ? { storageClass: k.storageClass } : {}),
    ...(k.workspaceSize ? { workspaceSize: k.workspaceSize } : {}),
    ...(k.serviceAccount ? { serviceAccount: k.serviceAccount } : {}),
    ...(k.nodeSelector ? { nodeSelector: k.nodeSelector } : {}),
    ...(k.resources ? { resources: k.resources } : {}),
    ...(env.PAUDE_KUBE_PENDING_SECONDS ? { pendingTimeoutMs: Number(env.PAUDE_KUBE_PENDING_SECONDS) * 1000 } : {}),
  });
}
