/**
 * The proxy's side of a session on a cluster: squid's first configuration (ConfigMap), the
 * provider's key and the collector's headers (Secrets, mounted or read by the proxy pod only),
 * the Service the agent reaches the proxy by, and the proxy pod: squid behind its socat
 * listeners and, when one is configured, an OpenTelemetry Collector.
 */
import type { V1ConfigMap, V1Container, V1Pod, V1Secret, V1Service } from '@kubernetes/client-node';
import type { SessionSpec } from '../session-backend.js';
import { LABELS, type SessionMeta } from './labels.js';
import { KUBE_PORTS, lockedContainer, PROXY_INIT_DIR, PROXY_KEY_DIR } from './pod-layout.js';

const PROXY_UID = 13; // Debian's proxy user, as in the proxy image

export interface ProxyFiles {
  squidConf: string;
  rules: string;
  /** The provider key's squid include (secret). */
  providerConf?: string;
}

type Collector = NonNullable<SessionSpec['proxy']['collector']>;

/** The collector's configuration (JSON, which is YAML): the session's attributes set by paude, not the agent. */
export function collectorConfig(c: Collector): string {
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

export function proxyConfigMap(spec: SessionSpec, meta: SessionMeta, proxy: ProxyFiles): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta(`${spec.id}-proxy`, 'proxy'),
    data: { 'squid.conf': proxy.squidConf, rules: proxy.rules, ...(spec.proxy.collector ? { 'otel-collector.yaml': collectorConfig(spec.proxy.collector) } : {}) },
  };
}

/** The provider's key, and the collector's headers (a token, say): env from a Secret, named in its config. */
export function proxySecrets(spec: SessionSpec, meta: SessionMeta, proxy: ProxyFiles): V1Secret[] {
  const secrets: V1Secret[] = [];
  if (proxy.providerConf !== undefined) {
    secrets.push({ apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: meta(`${spec.id}-proxy-key`, 'proxy'), data: { 'provider.conf': b64(proxy.providerConf) } });
  }
  const headerValues = Object.values(spec.proxy.collector?.headers ?? {});
  if (headerValues.length) {
    secrets.push({ apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: meta(`${spec.id}-otel`, 'proxy'), data: Object.fromEntries(headerValues.map((v, i) => [`header-${i}`, b64(v)])) });
  }
  return secrets;
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

export function proxyService(spec: SessionSpec, meta: SessionMeta): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(`${spec.id}-proxy`, 'proxy'),
    spec: {
      type: 'ClusterIP',
      selector: { [LABELS.session]: spec.id, [LABELS.role]: 'proxy' },
      ports: [
        { name: 'proxy', port: KUBE_PORTS.proxy, targetPort: KUBE_PORTS.proxy, protocol: 'TCP' },
        { name: 'provider', port: KUBE_PORTS.provider, targetPort: KUBE_PORTS.provider, protocol: 'TCP' },
        { name: 'otel', port: KUBE_PORTS.otel, targetPort: KUBE_PORTS.otel, protocol: 'TCP' },
      ],
    },
  };
}

export function proxyPod(spec: SessionSpec, meta: SessionMeta, proxy: ProxyFiles): V1Pod {
  const proxyName = `${spec.id}-proxy`;
  const collector = spec.proxy.collector;
  const hostAliases = Object.entries(spec.proxy.extraHosts).map(([hostname, ip]) => ({ ip, hostnames: [hostname] }));
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: meta(proxyName, 'proxy'),
    spec: {
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      restartPolicy: 'Never',
      securityContext: { runAsNonRoot: true, runAsUser: PROXY_UID, runAsGroup: PROXY_UID, fsGroup: PROXY_UID, seccompProfile: { type: 'RuntimeDefault' } },
      ...(hostAliases.length ? { hostAliases } : {}),
      containers: [proxyContainer(spec, proxy), ...(collector ? [collectorContainer(spec.id, collector)] : [])],
      volumes: [
        { name: 'state', emptyDir: {} },
        { name: 'init', configMap: { name: proxyName, defaultMode: 0o444 } },
        ...(proxy.providerConf !== undefined ? [{ name: 'key', secret: { secretName: `${spec.id}-proxy-key`, defaultMode: 0o440 } }] : []),
        { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
        { name: 'spool', emptyDir: { sizeLimit: '16Mi' } },
        { name: 'logs', emptyDir: { sizeLimit: '16Mi' } },
        { name: 'run', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } },
      ],
    },
  };
}

function proxyContainer(spec: SessionSpec, proxy: ProxyFiles): V1Container {
  return {
    name: 'proxy',
    image: spec.proxy.image,
    imagePullPolicy: 'IfNotPresent',
    env: [{ name: 'PAUDE_LINK', value: 'tcp' }],
    ports: [
      { name: 'proxy', containerPort: KUBE_PORTS.proxy },
      { name: 'provider', containerPort: KUBE_PORTS.provider },
      { name: 'otel', containerPort: KUBE_PORTS.otel },
    ],
    securityContext: lockedContainer(),
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
  };
}

/** Its configuration from the ConfigMap, each header from the Secret as PAUDE_OTEL_HEADER_<i>. */
function collectorContainer(id: string, collector: Collector): V1Container {
  return {
    name: 'otel-collector',
    image: collector.image,
    imagePullPolicy: 'IfNotPresent',
    args: ['--config=/etc/paude-otel/otel-collector.yaml'],
    env: Object.values(collector.headers).map((_, i) => ({ name: `PAUDE_OTEL_HEADER_${i}`, valueFrom: { secretKeyRef: { name: `${id}-otel`, key: `header-${i}` } } })),
    securityContext: lockedContainer(),
    resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } },
    volumeMounts: [{ name: 'init', mountPath: '/etc/paude-otel', readOnly: true }],
  };
}
