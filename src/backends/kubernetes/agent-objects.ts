/**
 * The agent's side of a session on a cluster: the workspace's PVC and the agent pod. The pod
 * runs the session's command (container "agent") next to a holder (container "files") that
 * keeps the pod's volumes reachable after the command ended, so paude can still read the
 * workspace, the last screen and the hook spool. The workspace is on the PVC at its host path
 * (fsGroup makes it the agent's); the agent's home and isolated directories are emptyDirs.
 */
import type { V1Container, V1PersistentVolumeClaim, V1Pod, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { SessionSpec } from '../session-backend.js';
import type { CredentialObjects } from './credentials.js';
import type { SessionMeta } from './labels.js';
import { AGENT_CONTAINER, CONTROL_DIR, FILES_CONTAINER, KUBE_PORTS, lockedContainer } from './pod-layout.js';

/** The cluster settings (backend.kubernetes) that shape the agent's pod and its storage. */
export interface AgentOptions {
  storageClass?: string;
  /** PVC size (default 10Gi). */
  workspaceSize?: string;
  /** A service account for Workload Identity; its token is still not mounted. */
  serviceAccount?: string;
  /** Node labels the agent pod must run on. */
  nodeSelector?: Record<string, string>;
  resources?: { requests?: { cpu?: string; memory?: string }; limits?: { cpu?: string; memory?: string } };
}

/** "8g" / "512m" (engine style) -> "8Gi" / "512Mi". */
export function quantity(size: string): string {
  const m = /^([0-9]+)([bkmg]?)$/i.exec(size);
  if (!m) return size;
  const unit = { '': '', b: '', k: 'Ki', m: 'Mi', g: 'Gi' }[(m[2] ?? '').toLowerCase()] ?? '';
  return `${m[1]}${unit}`;
}

export function workspaceClaim(spec: SessionSpec, meta: SessionMeta, o: AgentOptions): V1PersistentVolumeClaim {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: meta(`${spec.id}-workspace`, 'volume'),
    spec: {
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: o.workspaceSize ?? '10Gi' } },
      ...(o.storageClass ? { storageClassName: o.storageClass } : {}),
    },
  };
}

export function agentPod(spec: SessionSpec, meta: SessionMeta, o: AgentOptions, credentials: CredentialObjects): V1Pod {
  const a = spec.agent;
  const { mounts, volumes } = agentVolumes(spec, credentials);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: meta(spec.id, 'agent'),
    spec: {
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      ...(o.serviceAccount ? { serviceAccountName: o.serviceAccount } : {}),
      ...(o.nodeSelector && Object.keys(o.nodeSelector).length ? { nodeSelector: o.nodeSelector } : {}),
      restartPolicy: 'Never',
      securityContext: { runAsNonRoot: true, runAsUser: a.user.uid, runAsGroup: a.user.gid, fsGroup: a.user.gid, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [agentContainer(spec, o, mounts), filesContainer(spec, mounts)],
      volumes,
    },
  };
}

/**
 * The agent's volumes and their mounts: the workspace on the PVC (no subPath: kubelet would
 * create that directory as root), its home and isolated dirs as emptyDirs, tmpfs as memory.
 */
function agentVolumes(spec: SessionSpec, credentials: CredentialObjects): { mounts: V1VolumeMount[]; volumes: V1Volume[] } {
  const a = spec.agent;
  const tmpfs = Object.entries(a.tmpfs).map(([path, opts], i) => ({ name: `tmpfs-${i}`, path, size: /size=([0-9]+[kmg]?)/i.exec(opts)?.[1] }));
  const mounts: V1VolumeMount[] = [
    { name: 'workspace', mountPath: spec.projectRoot },
    ...a.localVolumes.map((v, i) => ({ name: `local-${i}`, mountPath: v.target })),
    ...tmpfs.map((t) => ({ name: t.name, mountPath: t.path })),
    { name: 'control', mountPath: CONTROL_DIR },
    ...credentials.mounts,
  ];
  const volumes: V1Volume[] = [
    { name: 'workspace', persistentVolumeClaim: { claimName: `${spec.id}-workspace` } },
    ...a.localVolumes.map((_, i) => ({ name: `local-${i}`, emptyDir: {} })),
    ...tmpfs.map((t) => ({ name: t.name, emptyDir: { medium: 'Memory', ...(t.size ? { sizeLimit: quantity(t.size) } : {}) } })),
    { name: 'control', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } },
    ...credentials.volumes,
  ];
  return { mounts, volumes };
}

/** The session's command; the image's entrypoint (paude-agent-init) runs it when paude says start. */
function agentContainer(spec: SessionSpec, o: AgentOptions, mounts: V1VolumeMount[]): V1Container {
  const a = spec.agent;
  const resources = {
    requests: { cpu: o.resources?.requests?.cpu ?? '250m', memory: o.resources?.requests?.memory ?? '512Mi' },
    limits: {
      ...(o.resources?.limits?.cpu ? { cpu: o.resources.limits.cpu } : a.resources.cpus ? { cpu: String(a.resources.cpus) } : {}),
      memory: o.resources?.limits?.memory ?? (a.resources.memory ? quantity(a.resources.memory) : '8Gi'),
    },
  };
  const env = {
    ...a.env,
    PAUDE_PROXY_HOST: `${spec.id}-proxy`,
    PAUDE_PROXY_PORTS: `${KUBE_PORTS.proxy},${KUBE_PORTS.provider},${KUBE_PORTS.otel}`,
    PAUDE_CONTROL: CONTROL_DIR,
    // The PVC's root belongs to root (fsGroup lets the agent write it), which git calls dubious
    // ownership: the workspace is trusted as it is on the host (command-line scope config).
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: 'safe.directory',
    GIT_CONFIG_VALUE_0: spec.projectRoot,
  };
  return {
    name: AGENT_CONTAINER,
    image: a.image,
    imagePullPolicy: 'IfNotPresent',
    args: a.command,
    workingDir: spec.workdir,
    env: Object.entries(env).map(([name, value]) => ({ name, value })),
    stdin: true,
    stdinOnce: true,
    tty: a.tty,
    securityContext: lockedContainer(),
    resources,
    volumeMounts: mounts,
  };
}

/** Holds the pod's volumes (a terminated container cannot be exec'd into); not the credentials. */
function filesContainer(spec: SessionSpec, mounts: V1VolumeMount[]): V1Container {
  return {
    name: FILES_CONTAINER,
    image: spec.agent.image,
    imagePullPolicy: 'IfNotPresent',
    command: ['sh', '-c', 'trap "exit 0" TERM INT; while :; do sleep 3600 & wait $!; done'],
    workingDir: spec.workdir,
    securityContext: lockedContainer(),
    resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '128Mi' } },
    volumeMounts: mounts.filter((m) => !m.name.startsWith('credential-')),
  };
}
