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
 * Labels carry only label-safe values (session id, role, a hash of the data directory); the
 * workspace path is an annotation. Nothing secret is in a label, an annotation or a pod spec.
 */
import { createHash } from 'node:crypto';
import type { V1ConfigMap, V1Container, V1NetworkPolicy, V1PersistentVolumeClaim, V1Pod, V1Secret, V1Service, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { SessionSpec } from '../session-backend.js';

export const LABELS = {
  managed: 'app.kubernetes.io/managed-by',
  session: 'paude.session',
  role: 'paude.role',
  data: 'paude.data',
} as const;
export const ANNOTATIONS = { workspace: 'paude.workspace', dataDir: 'paude.data-dir' } as const;

/** Ports of the proxy pod (its socat listeners in front of squid on loopback). */
export const KUBE_PORTS = { proxy: 13128, provider: 13129, otel: 14318 } as const;
/** Where the proxy's first configuration is mounted; paude-proxy-start copies it into its state dir. */
export const PROXY_INIT_DIR = '/etc/paude-init';
export const PROXY_KEY_DIR = '/etc/paude-key';
/** Shared by the agent's two containers: the start signal and the command's exit code. */
export const CONTROL_DIR = '/run/paude-control';
export const AGENT_CONTAINER = 'agent';
export const FILES_CONTAINER = 'files';
const PROXY_UID = 13; // Debian's proxy user, as in the proxy image

export interface KubeSessionOptions {
  namespace: string;
  storageClass?: string;
  /** PVC size (default 10Gi). */
  workspaceSize?: string;
  /** A service account for Workload Identity; its token is still not mounted. */
  serviceAccount?: string;
  /** Node labels the agent pod must run on. */
  nodeSelector?: Record<string, string>;
  resources?: { requests?: { cpu?: string; memory?: string }; limits?: { cpu?: string; memory?: string } };
}

export interface ProxyFiles {
  squidConf: string;
  rules: string;
  /** The provider key's squid include (secret). */
  providerConf?: string;
}

/** A credential file or directory for the agent: its target path and its files (relative to it). */
export interface CredentialFile {
  target: string;
  directory: boolean;
  files: Array<{ path: string; content: Buffer }>;
}

/** The collector's configuration (JSON, which is YAML): the session's attributes set by paude, not the agent. */
export function collectorConfig(c: NonNullable<SessionSpec['proxy']['collector']>): string {
  const grpc = c.protocol === 'grpc';
  const exporter = grpc ? 'otlp' : 'otlphttp';
  const headers = Object.fromEntries(Object.keys(c.headers).map((name, i) => [name, `\${env:PAUDE_OTEL_HEADER_${i}}`]));
  const target = grpc
    ? { endpoint: c.endpoint.replace(/^https?:\/\//, ''), tls: { insecure: c.endpoint.startsWith('http://') } }
    : { endpoint: c.endpoint, ...(c.protocol === 'http/json' ? { encoding: 'json' } : {}) };
  const pipeline = { receivers: ['otlp'], processors: ['resource/paude', 'batch'], exporters: [exporter] };
  return JSON.stringify(
    {
      receivers: { otlp: { protocols: { http: { endpoint: `0.0.0.0:${KUBE_PORTS.otel}` } } } },
      processors: {
        batch: {},
        'resource/paude': { attributes: Object.entries(c.attributes).map(([key, value]) => ({ key, value, action: 'upsert' })) },
      },
      exporters: { [exporter]: { ...target, ...(Object.keys(headers).length ? { headers } : {}) } },
      service: { pipelines: { metrics: pipeline, logs: pipeline, traces: pipeline } },
    },
    null,
    2,
  );
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

/** "8g" / "512m" (engine style) -> "8Gi" / "512Mi". */
export function quantity(size: string): string {
  const m = /^([0-9]+)([bkmg]?)$/i.exec(size);
  if (!m) return size;
  const unit = { '': '', b: '', k: 'Ki', m: 'Mi', g: 'Gi' }[(m[2] ?? '').toLowerCase()] ?? '';
  return `${m[1]}${unit}`;
}

/** A key a Secret or ConfigMap may hold ([-._a-zA-Z0-9]+), made from a path. */
const secretKey = (i: number, path: string): string => `f${i}-${path.replace(/[^-._a-zA-Z0-9]/g, '_')}`.slice(0, 253);

const b64 = (b: Buffer | string): string => Buffer.from(b).toString('base64');

export function sessionObjects(spec: SessionSpec, o: KubeSessionOptions, proxy: ProxyFiles, credentials: readonly CredentialFile[] = []): SessionObjects {
  const id = spec.id;
  const ns = o.namespace;
  const labels = (role: string): Record<string, string> => sessionLabels(id, role, spec.dataDir, spec.labels);
  const annotations = { [ANNOTATIONS.workspace]: spec.projectRoot, [ANNOTATIONS.dataDir]: spec.dataDir };
  const meta = (name: string, role: string) => ({ name, namespace: ns, labels: labels(role), annotations });
  const proxyName = `${id}-proxy`;
  const a = spec.agent;

  const configMap: V1ConfigMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta(proxyName, 'proxy'),
    data: { 'squid.conf': proxy.squidConf, rules: proxy.rules, ...(spec.proxy.collector ? { 'otel-collector.yaml': collectorConfig(spec.proxy.collector) } : {}) },
  };
  const collector = spec.proxy.collector;
  const secrets: V1Secret[] = [];
  if (proxy.providerConf !== undefined) {
    secrets.push({ apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: meta(`${id}-proxy-key`, 'proxy'), data: { 'provider.conf': b64(proxy.providerConf) } });
  }
  // The collector's headers (a token, say) are secret: env from a Secret, named in its config.
  const headerValues = Object.values(collector?.headers ?? {});
  if (headerValues.length) {
    secrets.push({ apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: meta(`${id}-otel`, 'proxy'), data: Object.fromEntries(headerValues.map((v, i) => [`header-${i}`, b64(v)])) });
  }
  // Credentials: one Secret; each file or directory mounted read-only where the agent expects it.
  const credentialVolumes: V1Volume[] = [];
  const credentialMounts: V1VolumeMount[] = [];
  if (credentials.length) {
    const data: Record<string, string> = {};
    let n = 0;
    credentials.forEach((c, ci) => {
      const items = c.files.map((f) => {
        const key = secretKey(n++, f.path);
        data[key] = b64(f.content);
        return { key, path: f.path, mode: 0o440 };
      });
      credentialVolumes.push({ name: `credential-${ci}`, secret: { secretName: `${id}-agent`, items, defaultMode: 0o440 } });
      if (c.directory) credentialMounts.push({ name: `credential-${ci}`, mountPath: c.target, readOnly: true });
      else credentialMounts.push({ name: `credential-${ci}`, mountPath: c.target, subPath: c.files[0]?.path ?? '', readOnly: true });
    });
    secrets.push({ apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: meta(`${id}-agent`, 'agent'), data });
  }

  const pvc: V1PersistentVolumeClaim = {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: meta(`${id}-workspace`, 'volume'),
    spec: {
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: o.workspaceSize ?? '10Gi' } },
      ...(o.storageClass ? { storageClassName: o.storageClass } : {}),
    },
  };

  const service: V1Service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(proxyName, 'proxy'),
    spec: {
      type: 'ClusterIP',
      selector: { [LABELS.session]: id, [LABELS.role]: 'proxy' },
      ports: [
        { name: 'proxy', port: KUBE_PORTS.proxy, targetPort: KUBE_PORTS.proxy, protocol: 'TCP' },
        { name: 'provider', port: KUBE_PORTS.provider, targetPort: KUBE_PORTS.provider, protocol: 'TCP' },
        { name: 'otel', port: KUBE_PORTS.otel, targetPort: KUBE_PORTS.otel, protocol: 'TCP' },
      ],
    },
  };

  const locked = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true, runAsNonRoot: true };
  const hostAliases = Object.entries(spec.proxy.extraHosts).map(([hostname, ip]) => ({ ip, hostnames: [hostname] }));
  const proxyPod: V1Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: meta(proxyName, 'proxy'),
    spec: {
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      restartPolicy: 'Never',
      securityContext: { runAsNonRoot: true, runAsUser: PROXY_UID, runAsGroup: PROXY_UID, fsGroup: PROXY_UID, seccompProfile: { type: 'RuntimeDefault' } },
      ...(hostAliases.length ? { hostAliases } : {}),
      containers: [
        {
          name: 'proxy',
          image: spec.proxy.image,
          imagePullPolicy: 'IfNotPresent',
          env: [{ name: 'PAUDE_LINK', value: 'tcp' }],
          ports: [
            { name: 'proxy', containerPort: KUBE_PORTS.proxy },
            { name: 'provider', containerPort: KUBE_PORTS.provider },
            { name: 'otel', containerPort: KUBE_PORTS.otel },
          ],
          securityContext: locked,
          resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '512Mi' } },
          volumeMounts: [
            { name: 'state', mountPath: '/run/paude' },
            { name: 'init', mountPath: PROXY_INIT_DIR, readOnly: true },
            ...(proxy.providerConf !== undefined ? [{ name: 'key', mountPath: PROXY_KEY_DIR, readOnly: true }] : []),
            { name: 'tmp', mountPath: '/tmp' },
            { name: 'spool', mountPath: '/var/spool/squid' },
            { name: 'logs', mountPath: '/var/log/squid' },
            { name: 'run', mountPath: '/run/squid' },
          ],
        },
        ...(collector
          ? [
              {
                name: 'otel-collector',
                image: collector.image,
                imagePullPolicy: 'IfNotPresent',
                args: ['--config=/etc/paude-otel/otel-collector.yaml'],
                env: headerValues.map((_, i) => ({ name: `PAUDE_OTEL_HEADER_${i}`, valueFrom: { secretKeyRef: { name: `${id}-otel`, key: `header-${i}` } } })),
                securityContext: locked,
                resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } },
                volumeMounts: [{ name: 'init', mountPath: '/etc/paude-otel', readOnly: true }],
              },
            ]
          : []),
      ],
      volumes: [
        { name: 'state', emptyDir: {} },
        { name: 'init', configMap: { name: proxyName, defaultMode: 0o444 } },
        ...(proxy.providerConf !== undefined ? [{ name: 'key', secret: { secretName: `${id}-proxy-key`, defaultMode: 0o440 } }] : []),
        { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
        { name: 'spool', emptyDir: { sizeLimit: '16Mi' } },
        { name: 'logs', emptyDir: { sizeLimit: '16Mi' } },
        { name: 'run', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } },
      ],
    },
  };

  // The agent's volumes: the workspace on the PVC (no subPath: kubelet would create that
  // directory as root), its home and isolated dirs as emptyDirs, tmpfs as memory.
  const tmpfs = Object.entries(a.tmpfs).map(([path, opts], i) => ({ name: `tmpfs-${i}`, path, size: /size=([0-9]+[kmg]?)/i.exec(opts)?.[1] }));
  const agentMounts: V1VolumeMount[] = [
    { name: 'workspace', mountPath: spec.projectRoot },
    ...a.localVolumes.map((v, i) => ({ name: `local-${i}`, mountPath: v.target })),
    ...tmpfs.map((t) => ({ name: t.name, mountPath: t.path })),
    { name: 'control', mountPath: CONTROL_DIR },
    ...credentialMounts,
  ];
  const resources = {
    requests: { cpu: o.resources?.requests?.cpu ?? '250m', memory: o.resources?.requests?.memory ?? '512Mi' },
    limits: {
      ...(o.resources?.limits?.cpu ? { cpu: o.resources.limits.cpu } : a.resources.cpus ? { cpu: String(a.resources.cpus) } : {}),
      memory: o.resources?.limits?.memory ?? (a.resources.memory ? quantity(a.resources.memory) : '8Gi'),
    },
  };
  const env = {
    ...a.env,
    PAUDE_PROXY_HOST: proxyName,
    PAUDE_PROXY_PORTS: `${KUBE_PORTS.proxy},${KUBE_PORTS.provider},${KUBE_PORTS.otel}`,
    PAUDE_CONTROL: CONTROL_DIR,
    // The PVC's root belongs to root (fsGroup lets the agent write it), which git calls dubious
    // ownership: the workspace is trusted as it is on the host (command-line scope config).
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: 'safe.directory',
    GIT_CONFIG_VALUE_0: spec.projectRoot,
  };
  const agent: V1Container = {
    name: AGENT_CONTAINER,
    image: a.image,
    imagePullPolicy: 'IfNotPresent',
    // The image's entrypoint (paude-agent-init) runs the command.
    args: a.command,
    workingDir: spec.workdir,
    env: Object.entries(env).map(([name, value]) => ({ name, value })),
    stdin: true,
    stdinOnce: true,
    tty: a.tty,
    securityContext: locked,
    resources,
    volumeMounts: agentMounts,
  };
  const files: V1Container = {
    name: FILES_CONTAINER,
    image: a.image,
    imagePullPolicy: 'IfNotPresent',
    command: ['sh', '-c', 'trap "exit 0" TERM INT; while :; do sleep 3600 & wait $!; done'],
    workingDir: spec.workdir,
    securityContext: locked,
    resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '128Mi' } },
    volumeMounts: agentMounts.filter((m) => !m.name.startsWith('credential-')),
  };
  const agentPod: V1Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: meta(id, 'agent'),
    spec: {
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      ...(o.serviceAccount ? { serviceAccountName: o.serviceAccount } : {}),
      ...(o.nodeSelector && Object.keys(o.nodeSelector).length ? { nodeSelector: o.nodeSelector } : {}),
      restartPolicy: 'Never',
      securityContext: { runAsNonRoot: true, runAsUser: a.user.uid, runAsGroup: a.user.gid, fsGroup: a.user.gid, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [agent, files],
      volumes: [
        { name: 'workspace', persistentVolumeClaim: { claimName: `${id}-workspace` } },
        ...a.localVolumes.map((_, i) => ({ name: `local-${i}`, emptyDir: {} })),
        ...tmpfs.map((t) => ({ name: t.name, emptyDir: { medium: 'Memory', ...(t.size ? { sizeLimit: quantity(t.size) } : {}) } })),
        { name: 'control', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } },
        ...credentialVolumes,
      ],
    },
  };

  const agentSelector = { matchLabels: { [LABELS.session]: id, [LABELS.role]: 'agent' } };
  const proxySelector = { matchLabels: { [LABELS.session]: id, [LABELS.role]: 'proxy' } };
  const dns = { to: [{ namespaceSelector: {}, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }], ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }] };
  const proxyPorts = [KUBE_PORTS.proxy, KUBE_PORTS.provider, KUBE_PORTS.otel].map((port) => ({ protocol: 'TCP', port }));
  const policies: V1NetworkPolicy[] = [
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: meta(`${id}-agent`, 'agent'),
      spec: {
        podSelector: agentSelector,
        policyTypes: ['Ingress', 'Egress'],
        ingress: [],
        egress: [{ to: [{ podSelector: proxySelector }], ports: proxyPorts }, dns],
      },
    },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: meta(`${id}-proxy`, 'proxy'),
      spec: {
        podSelector: proxySelector,
        policyTypes: ['Ingress', 'Egress'],
        // client-node's name for `from` (its serializer writes `from` on the wire).
        ingress: [{ _from: [{ podSelector: agentSelector }], ports: proxyPorts }],
        egress: [dns, { to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['169.254.0.0/16'] } }, { ipBlock: { cidr: '::/0', except: ['fe80::/10'] } }] }],
      },
    },
  ];
  return { configMap, secrets, pvc, service, proxyPod, agentPod, policies };
}
