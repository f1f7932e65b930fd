/**
 * The Kubernetes objects of one session, as plain data (no API calls here): what
 * docs/KUBERNETES.md describes, generated from the same SessionSpec as a local session.
 *
 *   <id>            agent pod: the session's command (container "agent") and a holder
 *                   (container "files") that keeps the pod's volumes reachable after the
 *                   command ended, so paude can still read the workspace, the last screen and
 *                   the hook spool; no service account token, non-root, no capabilities,
 *                   seccomp RuntimeDefault, read-only root file system
 *   <id>-proxy      proxy pod (squid with the session's policy) and its Service; a separate pod,
 *                   because containers of one pod share a network namespace
 *   <id>-workspace  PVC: the workspace, mounted at its host path (fsGroup makes it the agent's);
 *                   the agent's home and isolated directories are emptyDirs of the pod
 *   <id>-proxy      ConfigMap: squid.conf and the first policy rules
 *   <id>-proxy-key  Secret: the provider route's key (only the proxy pod mounts it)
 *   <id>-agent      Secret: credential files (gitconfig, ADC...), mounted read-only at their paths
 *   <id>-agent, <id>-proxy  NetworkPolicies: the agent reaches only DNS and its proxy; the proxy
 *                   accepts only its agent and goes out to anything but link-local addresses
 *                   (squid enforces the allowlist by name, which NetworkPolicy cannot)
 *
 * Each side is written in its own module (agent-objects.ts, proxy-objects.ts, credentials.ts,
 * network-policies.ts); this one puts them together. Labels carry only label-safe values
 * (labels.ts); the workspace path is an annotation. Nothing secret is in a label, an annotation
 * or a pod spec.
 */
import type { V1ConfigMap, V1NetworkPolicy, V1PersistentVolumeClaim, V1Pod, V1Secret, V1Service } from '@kubernetes/client-node';
import type { SessionSpec } from '../session-backend.js';
import { agentPod, workspaceClaim, type AgentOptions } from './agent-objects.js';
import { credentialObjects, type CredentialFile } from './credentials.js';
import { sessionMeta } from './labels.js';
import { networkPolicies } from './network-policies.js';
import { proxyConfigMap, proxyPod, proxySecrets, proxyService, type ProxyFiles } from './proxy-objects.js';

export { ANNOTATIONS, dataLabel, isLabelKey, isLabelValue, LABELS, sessionLabels } from './labels.js';
export { AGENT_CONTAINER, CONTROL_DIR, FILES_CONTAINER, KUBE_PORTS, PROXY_INIT_DIR, PROXY_KEY_DIR } from './pod-layout.js';
export { quantity } from './agent-objects.js';
export { collectorConfig, type ProxyFiles } from './proxy-objects.js';
export type { CredentialFile } from './credentials.js';

export interface KubeSessionOptions extends AgentOptions {
  namespace: string;
}

export interface SessionObjects {
  configMap: V1ConfigMap;
  secrets: V1Secret[];
  pvc: V1PersistentVolumeClaim;
  service: V1Service;
  proxyPod: V1Pod;
  agentPod: V1Pod;
  policies: V1NetworkPolicy[];
}

export function sessionObjects(spec: SessionSpec, o: KubeSessionOptions, proxy: ProxyFiles, credentials: readonly CredentialFile[] = []): SessionObjects {
  const meta = sessionMeta(spec, o.namespace);
  const credential = credentialObjects(spec.id, meta, credentials);
  return {
    configMap: proxyConfigMap(spec, meta, proxy),
    secrets: [...proxySecrets(spec, meta, proxy), ...(credential.secret ? [credential.secret] : [])],
    pvc: workspaceClaim(spec, meta, o),
    service: proxyService(spec, meta),
    proxyPod: proxyPod(spec, meta, proxy),
    agentPod: agentPod(spec, meta, o, credential),
    policies: networkPolicies(spec.id, meta),
  };
}
