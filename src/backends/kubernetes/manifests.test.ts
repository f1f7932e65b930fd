/**
 * Every object paude sends to a cluster is valid against the Kubernetes OpenAPI schemas
 * (kubernetes-models' validators, generated from them) and has no field the API would drop
 * (client-node's serializer keeps only fields the schema knows), and it says what
 * docs/KUBERNETES.md promises: hardened pods, NetworkPolicies, nothing secret outside Secrets.
 */
import { describe, expect, it } from 'vitest';
import { ObjectSerializer } from '@kubernetes/client-node/dist/serializer.js';
import { ConfigMap, PersistentVolumeClaim, Pod, Secret, Service } from 'kubernetes-models/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import type { SessionSpec } from '../session-backend.js';
import { dataLabel, isLabelKey, isLabelValue, KUBE_PORTS, LABELS, quantity, sessionObjects } from './manifests.js';

const KEY = 'sk-ant-secret-key-123';

function spec(overrides: Partial<SessionSpec['agent']> = {}): SessionSpec {
  return {
    id: 'paude-abc123',
    stateDir: '/home/ada/.local/share/paude/sessions/paude-abc123',
    projectRoot: '/home/ada/src/My Project',
    workdir: '/home/ada/src/My Project/sub',
    agent: {
      image: 'registry.example.com/paude-agent:1',
      command: ['claude', '--model', 'x'],
      env: { HTTP_PROXY: 'http://127.0.0.1:3128', PAUDE_SESSION: 'paude-abc123' },
      user: { uid: 1000, gid: 1000 },
      tty: false,
      mounts: [],
      localVolumes: [
        { name: 'home', target: '/home/paude' },
        { name: 'iso-node_modules', target: '/home/ada/src/My Project/node_modules' },
      ],
      tmpfs: { '/run/paude-secrets': 'rw,mode=1777,size=1m', '/tmp': 'rw,exec,mode=1777' },
      resources: { memory: '8g', cpus: 2 },
      ...overrides,
    },
    proxy: { image: 'registry.example.com/paude-proxy:1', extraHosts: { 'stub.test': '10.0.0.5' }, provider: { host: 'api.anthropic.com', port: 443, tls: true, key: KEY } },
    policy: { mode: 'restricted', allow: [], deny: [], approvalTimeoutSeconds: 60 },
    labels: { 'paude.test.run': 'r1', 'bad label!': 'x' },
    dataDir: '/home/ada/.local/share/paude',
  };
}

const objects = () =>
  sessionObjects(spec(), { namespace: 'team-a', workspaceSize: '20Gi', storageClass: 'fast' }, { squidConf: 'http_port 127.0.0.1:3128\n', rules: 'allow example.com\n', providerConf: `request_header_add x-api-key "${KEY}"\n` }, [
    { target: '/home/paude/.gitconfig', directory: false, files: [{ path: '.gitconfig', content: Buffer.from('[user]\n') }] },
    { target: '/home/paude/.config/gcloud', directory: true, files: [{ path: 'application_default_credentials.json', content: Buffer.from('{}') }, { path: 'configurations/config_default', content: Buffer.from('[core]') }] },
  ]);

const TYPES = new Map<string, string>([
  ['ConfigMap', 'V1ConfigMap'],
  ['Secret', 'V1Secret'],
  ['PersistentVolumeClaim', 'V1PersistentVolumeClaim'],
  ['Service', 'V1Service'],
  ['Pod', 'V1Pod'],
  ['NetworkPolicy', 'V1NetworkPolicy'],
]);

/** The object as client-node puts it on the wire. */
const wire = (obj: object): Record<string, unknown> => JSON.parse(JSON.stringify(ObjectSerializer.serialize(obj, TYPES.get((obj as { kind?: string }).kind ?? '') ?? '?'))) as Record<string, unknown>;

/** Validates the wire form with the model generated from the OpenAPI schema; throws when invalid. */
function validate(Model: new (data: never) => { validate(): void }, obj: object): void {
  new Model(wire(obj) as never).validate();
}

/** Fields the API knows survive client-node's serializer; anything else would be dropped by the server. */
function unknownFields(obj: object, type: string): string[] {
  const kept = ObjectSerializer.deserialize(ObjectSerializer.serialize(obj, type), type) as object;
  const out: string[] = [];
  const walk = (a: unknown, b: unknown, path: string): void => {
    if (a && typeof a === 'object' && !Array.isArray(a)) {
      for (const [k, v] of Object.entries(a)) {
        if (!b || typeof b !== 'object' || !(k in b)) out.push(`${path}.${k}`);
        else walk(v, (b as Record<string, unknown>)[k], `${path}.${k}`);
      }
    } else if (Array.isArray(a)) a.forEach((v, i) => walk(v, Array.isArray(b) ? b[i] : undefined, `${path}[${i}]`));
  };
  walk(obj, kept, type);
  return out;
}

describe('sessionObjects', () => {
  it('produces objects valid against the Kubernetes schemas, with no field the API does not know', () => {
    const o = objects();
    validate(ConfigMap, o.configMap);
    for (const s of o.secrets) validate(Secret, s);
    validate(PersistentVolumeClaim, o.pvc);
    validate(Service, o.service);
    validate(Pod, o.proxyPod);
    validate(Pod, o.agentPod);
    for (const p of o.policies) validate(NetworkPolicy, p);
    expect(() => validate(Pod, { ...o.agentPod, spec: { ...o.agentPod.spec, containers: [{ image: 'x' }] } })).toThrow(/must have required property name/);
    expect([
      ...unknownFields(o.configMap, 'V1ConfigMap'),
      ...o.secrets.flatMap((s) => unknownFields(s, 'V1Secret')),
      ...unknownFields(o.pvc, 'V1PersistentVolumeClaim'),
      ...unknownFields(o.service, 'V1Service'),
      ...unknownFields(o.proxyPod, 'V1Pod'),
      ...unknownFields(o.agentPod, 'V1Pod'),
      ...o.policies.flatMap((p) => unknownFields(p, 'V1NetworkPolicy')),
    ]).toEqual([]);
    // The check itself finds a field the schema does not have.
    const [agent] = o.agentPod.spec?.containers ?? [];
    expect(unknownFields({ ...o.agentPod, spec: { ...o.agentPod.spec, containers: [{ ...agent, stdinOnly: true }] } }, 'V1Pod')).toEqual(['V1Pod.spec.containers[0].stdinOnly']);
  });

  it('hardens the agent pod: no token, non-root, no capabilities, RuntimeDefault seccomp, read-only root, limits', () => {
    const pod = objects().agentPod;
    expect(pod.spec?.automountServiceAccountToken).toBe(false);
    expect(pod.spec?.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } });
    for (const c of pod.spec?.containers ?? []) {
      expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true, runAsNonRoot: true });
      expect(c.resources?.limits?.memory).toBeDefined();
    }
    const agent = pod.spec?.containers[0];
    expect(agent?.args).toEqual(['claude', '--model', 'x']);
    expect(agent?.resources?.limits).toEqual({ cpu: '2', memory: '8Gi' });
    expect(agent?.workingDir).toBe('/home/ada/src/My Project/sub');
    expect(agent?.env).toContainEqual({ name: 'PAUDE_PROXY_HOST', value: 'paude-abc123-proxy' });
    expect(agent?.env).toContainEqual({ name: 'GIT_CONFIG_VALUE_0', value: '/home/ada/src/My Project' });
    // The workspace PVC at the host path; home and isolated dirs pod-local; credentials read-only.
    expect(agent?.volumeMounts).toContainEqual({ name: 'workspace', mountPath: '/home/ada/src/My Project' });
    expect(agent?.volumeMounts).toContainEqual({ name: 'credential-0', mountPath: '/home/paude/.gitconfig', subPath: '.gitconfig', readOnly: true });
    expect(agent?.volumeMounts).toContainEqual({ name: 'credential-1', mountPath: '/home/paude/.config/gcloud', readOnly: true });
    // The holder of the files has the same volumes but not the credentials.
    expect(pod.spec?.containers[1]?.volumeMounts?.some((m) => m.name.startsWith('credential'))).toBe(false);
    expect(pod.spec?.volumes).toContainEqual({ name: 'workspace', persistentVolumeClaim: { claimName: 'paude-abc123-workspace' } });
  });

  it('keeps the API key and credentials in Secrets only, and the proxy key away from the agent pod', () => {
    const o = objects();
    const notSecret = JSON.stringify([o.agentPod, o.proxyPod, o.configMap, o.service, o.pvc, o.policies, o.secrets.map((s) => s.metadata)]);
    expect(notSecret).not.toContain(KEY);
    expect(notSecret).not.toContain(Buffer.from(KEY).toString('base64').slice(0, 12));
    const key = o.secrets.find((s) => s.metadata?.name === 'paude-abc123-proxy-key');
    expect(Buffer.from(key?.data?.['provider.conf'] ?? '', 'base64').toString()).toContain(KEY);
    expect(JSON.stringify(o.agentPod)).not.toContain('proxy-key');
    expect(o.proxyPod.spec?.volumes).toContainEqual({ name: 'key', secret: { secretName: 'paude-abc123-proxy-key', defaultMode: 0o440 } });
  });

  it('lets the agent reach only DNS and its proxy, and the proxy accept only its agent', () => {
    const [agent, proxy] = objects().policies;
    expect(agent?.spec?.podSelector?.matchLabels).toEqual({ [LABELS.session]: 'paude-abc123', [LABELS.role]: 'agent' });
    expect(agent?.spec?.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(agent?.spec?.ingress).toEqual([]);
    expect(agent?.spec?.egress?.[0]).toEqual({
      to: [{ podSelector: { matchLabels: { [LABELS.session]: 'paude-abc123', [LABELS.role]: 'proxy' } } }],
      ports: [KUBE_PORTS.proxy, KUBE_PORTS.provider, KUBE_PORTS.otel].map((port) => ({ protocol: 'TCP', port })),
    });
    // DNS only to the cluster's DNS pods: a rule with ports and no `to` would open port 53 of any host.
    expect(agent?.spec?.egress?.[1]).toEqual({
      to: [{ namespaceSelector: {}, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
      ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }],
    });
    expect(agent?.spec?.egress).toHaveLength(2);
    // On the wire too, every egress rule names its peers.
    const egress = (wire(agent ?? {}).spec as { egress: Array<{ to?: unknown[] }> }).egress;
    expect(egress.map((r) => r.to?.length ?? 0)).toEqual([1, 1]);
    // On the wire (client-node calls it _from): an ingress rule without `from` would admit anyone.
    const ingress = (wire(proxy ?? {}).spec as { ingress: Array<{ from?: unknown }> }).ingress;
    expect(ingress[0]?.from).toEqual([{ podSelector: { matchLabels: { [LABELS.session]: 'paude-abc123', [LABELS.role]: 'agent' } } }]);
    expect(JSON.stringify(proxy?.spec?.egress)).toContain('169.254.0.0/16');
  });

  it('labels with label-safe values only and keeps paths in annotations', () => {
    const o = objects();
    for (const obj of [o.agentPod, o.proxyPod, o.service, o.pvc, o.configMap, ...o.secrets, ...o.policies]) {
      for (const [k, v] of Object.entries(obj.metadata?.labels ?? {})) {
        expect(isLabelKey(k), k).toBe(true);
        expect(isLabelValue(v), v).toBe(true);
      }
      expect(obj.metadata?.labels?.[LABELS.data]).toBe(dataLabel('/home/ada/.local/share/paude'));
      expect(obj.metadata?.annotations?.['paude.workspace']).toBe('/home/ada/src/My Project');
      expect(obj.metadata?.namespace).toBe('team-a');
    }
    expect(o.agentPod.metadata?.labels).toMatchObject({ 'paude.test.run': 'r1' });
    expect(o.agentPod.metadata?.labels).not.toHaveProperty(['bad label!']);
  });

  it('runs an OpenTelemetry Collector next to the proxy that sets the session’s attributes itself, its headers in a Secret', () => {
    const base = spec();
    const withCollector: SessionSpec = {
      ...base,
      proxy: {
        ...base.proxy,
        collector: { image: 'otel/opentelemetry-collector-contrib:0.114.0', endpoint: 'http://collector.monitoring:4317', protocol: 'grpc', headers: { authorization: 'Bearer collector-token' }, attributes: { 'paude.session_id': 'paude-abc123', team: 'infra' } },
      },
    };
    const o = sessionObjects(withCollector, { namespace: 'team-a' }, { squidConf: '', rules: '' });
    validate(Pod, o.proxyPod);
    expect(unknownFields(o.proxyPod, 'V1Pod')).toEqual([]);
    const sidecar = o.proxyPod.spec?.containers.find((c) => c.name === 'otel-collector');
    expect(sidecar?.args).toEqual(['--config=/etc/paude-otel/otel-collector.yaml']);
    expect(sidecar?.env).toEqual([{ name: 'PAUDE_OTEL_HEADER_0', valueFrom: { secretKeyRef: { name: 'paude-abc123-otel', key: 'header-0' } } }]);
    const config = JSON.parse(o.configMap.data?.['otel-collector.yaml'] ?? '{}') as {
      receivers: { otlp: { protocols: { http: { endpoint: string } } } };
      processors: Record<string, { attributes?: Array<{ key: string; value: string; action: string }> }>;
      exporters: Record<string, { endpoint: string; headers: Record<string, string>; tls?: { insecure: boolean } }>;
      service: { pipelines: Record<string, { receivers: string[]; processors: string[]; exporters: string[] }> };
    };
    expect(config.receivers.otlp.protocols.http.endpoint).toBe(`0.0.0.0:${KUBE_PORTS.otel}`);
    expect(config.exporters.otlp).toEqual({ endpoint: 'collector.monitoring:4317', tls: { insecure: true }, headers: { authorization: '${env:PAUDE_OTEL_HEADER_0}' } });
    expect(config.processors['resource/paude']?.attributes).toContainEqual({ key: 'paude.session_id', value: 'paude-abc123', action: 'upsert' });
    for (const p of Object.values(config.service.pipelines)) {
      for (const x of p.processors) expect(config.processors).toHaveProperty([x]);
      for (const x of p.exporters) expect(config.exporters).toHaveProperty([x]);
    }
    expect(Object.keys(config.service.pipelines).sort()).toEqual(['logs', 'metrics', 'traces']);
    // The token is only in the Secret.
    expect(JSON.stringify([o.proxyPod, o.configMap, o.agentPod])).not.toContain('collector-token');
    const secret = o.secrets.find((x) => x.metadata?.name === 'paude-abc123-otel');
    expect(Buffer.from(secret?.data?.['header-0'] ?? '', 'base64').toString()).toBe('Bearer collector-token');
  });

  // The whole object set, byte for byte (key order too), for a session with every option set, one
  // with none and the typical one above (engine-style limits): a refactoring of manifests.ts must
  // leave it as it is. A deliberate change to what paude sends a cluster updates the record with
  // `vitest -u`, and the change shows in the diff.
  it('sends a cluster exactly the recorded objects, with every option and with none', async () => {
    const base = spec();
    const full: SessionSpec = {
      ...base,
      agent: { ...base.agent, tty: true },
      proxy: {
        ...base.proxy,
        collector: { image: 'otel/opentelemetry-collector-contrib:0.114.0', endpoint: 'https://collector.example.com', protocol: 'http/json', headers: { authorization: 'Bearer t', 'x-team': 'infra' }, attributes: { 'paude.session_id': 'paude-abc123' } },
      },
    };
    const options = {
      namespace: 'team-a',
      storageClass: 'fast',
      workspaceSize: '20Gi',
      serviceAccount: 'paude-agent',
      nodeSelector: { pool: 'agents' },
      resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '4', memory: '16Gi' } },
    };
    const withEverything = sessionObjects(full, options, { squidConf: 'http_port 127.0.0.1:3128\n', rules: 'allow example.com\n', providerConf: 'request_header_add x-api-key "k"\n' }, [
      { target: '/home/paude/.gitconfig', directory: false, files: [{ path: '.gitconfig', content: Buffer.from('[user]\n') }] },
      { target: '/home/paude/.config/gcloud', directory: true, files: [{ path: 'application_default_credentials.json', content: Buffer.from('{}') }, { path: 'configurations/config_default', content: Buffer.from('[core]') }] },
    ]);
    const bare: SessionSpec = { ...base, agent: { ...base.agent, localVolumes: [], tmpfs: {}, resources: {} }, proxy: { image: base.proxy.image, extraHosts: {} }, labels: {} };
    const withNothing = sessionObjects(bare, { namespace: 'default' }, { squidConf: '', rules: '' });
    await expect(`${JSON.stringify({ withEverything, withNothing, typical: objects() }, null, 2)}\n`).toMatchFileSnapshot('./__snapshots__/session-objects.json');
  });

  it('converts engine sizes to quantities', () => {
    expect(quantity('8g')).toBe('8Gi');
    expect(quantity('512m')).toBe('512Mi');
    expect(quantity('1024')).toBe('1024');
    expect(isLabelValue('a'.repeat(64))).toBe(false);
    expect(isLabelKey('example.com/x')).toBe(true);
    expect(isLabelKey('Example.com/x')).toBe(false);
  });
});
