/**
 * The Kubernetes emulator (test/support/kube-emulator) tested with @kubernetes/client-node as
 * its client, on one engine (describeOneEngine): if client-node accepts what it answers, so will the backend.
 */
import { PassThrough, Readable } from 'node:stream';
import {
  ApiException,
  Attach,
  CoreV1Api,
  Exec,
  KubeConfig,
  Log,
  NetworkingV1Api,
  PatchStrategy,
  VersionApi,
  Watch,
  makeInformer,
  setHeaderOptions,
  type KubernetesObject,
  type V1ConfigMap,
  type V1Container,
  type V1Pod,
  type V1Status,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeEmulator, type KubeEmulator } from '../support/kube-emulator/index.js';
import { describeOneEngine } from '../support/engine-test.js';

const NS = 'default';
const SUITE_LABEL = 'paude.test.kube-emulator';

/** What an ApiException carries: the HTTP code and the Status body. */
async function failure(p: Promise<unknown>): Promise<{ code: number; body: V1Status & { details?: { causes?: Array<{ field?: string; reason?: string }> } } }> {
  try {
    await p;
  } catch (error) {
    if (!(error instanceof ApiException)) throw error;
    const e = error as ApiException<unknown>;
    const body = typeof e.body === 'string' ? (JSON.parse(e.body) as V1Status) : (e.body as V1Status);
    return { code: e.code, body };
  }
  throw new Error('the call succeeded');
}

async function waitFor<T>(what: string | (() => string), probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}${last instanceof Error ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describeOneEngine('Kubernetes emulator', (engine) => {
  let emulator: KubeEmulator;
  let kc: KubeConfig;
  let core: CoreV1Api;
  let net: NetworkingV1Api;
  const suite = engine.uniqueName('k8s');
  const labels = { ...engine.labels, [SUITE_LABEL]: suite };

  beforeAll(async () => {
    emulator = await startKubeEmulator({ docker: engine.docker, labels, namePrefix: suite });
    engine.defer(() => emulator.close());
    kc = new KubeConfig();
    kc.loadFromFile(emulator.kubeconfigPath);
    core = kc.makeApiClient(CoreV1Api);
    net = kc.makeApiClient(NetworkingV1Api);
  });

  afterAll(async () => {
    await emulator.close();
    const filters = JSON.stringify({ label: [`${SUITE_LABEL}=${suite}`] });
    expect(await engine.docker.listContainers({ all: true, filters })).toEqual([]);
    expect((await engine.docker.listVolumes({ filters })).Volumes ?? []).toEqual([]);
    expect(await engine.docker.listNetworks({ filters })).toEqual([]);
  });

  const container = (name: string, command: string[], extra: Partial<V1Container> = {}): V1Container => ({ name, image: engine.baseImage, imagePullPolicy: 'IfNotPresent', command, ...extra });
  const pod = (name: string, containers: V1Container[], extra: Partial<V1Pod['spec']> = {}, podLabels: Record<string, string> = {}): V1Pod => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: 'emulator-test', ...podLabels } },
    spec: { restartPolicy: 'Never', terminationGracePeriodSeconds: 0, containers, ...extra },
  });
  const sleeper = (name: string, extra: Partial<V1Pod['spec']> = {}, podLabels: Record<string, string> = {}): V1Pod => pod(name, [container('main', ['sleep', '300'])], extra, podLabels);

  /** Waits until the pod is Running with all its containers ready. */
  async function running(name: string): Promise<V1Pod> {
    let last: V1Pod | undefined;
    return waitFor(() => `pod ${name} Running (last status: ${JSON.stringify(last?.status)}; unknown: ${JSON.stringify(emulator.unknown)})`, async () => {
      const p = await core.readNamespacedPod({ name, namespace: NS });
      last = p;
      if (p.status?.phase === 'Failed' || p.status?.phase === 'Succeeded') throw new Error(`pod ${name} ended: ${JSON.stringify(p.status)}`);
      const ready = p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      return p.status?.phase === 'Running' && ready && p.status.podIP ? p : undefined;
    });
  }

  async function gone(name: string): Promise<void> {
    await waitFor(`pod ${name} gone`, async () => {
      const r = await failure(core.readNamespacedPod({ name, namespace: NS })).catch(() => undefined);
      return r?.code === 404 ? true : undefined;
    });
  }

  /** Runs a command in a pod through client-node's Exec; resolves when the socket closes. */
  function exec(podName: string, command: string[], opts: { container?: string; stdin?: string; tty?: boolean; stdout?: PassThrough } = {}): Promise<{ stdout: string; stderr: string; status?: V1Status }> {
    const out = opts.stdout ?? new PassThrough();
    const err = new PassThrough();
    let stdout = '';
    let stderr = '';
    out.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    err.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const input = opts.stdin !== undefined ? Readable.from([Buffer.from(opts.stdin)]) : null;
    let status: V1Status | undefined;
    return new Promise((resolve, reject) => {
      new Exec(kc)
        .exec(NS, podName, opts.container ?? 'main', command, out, opts.tty ? null : err, input, opts.tty ?? false, (s) => (status = s))
        .then((ws) => ws.on('close', () => resolve({ stdout, stderr, status })), reject);
    });
  }

  it('serves discovery and the version, and refuses requests without the token', async () => {
    const version = await kc.makeApiClient(VersionApi).getCode();
    expect(version.major).toBe('1');
    const get = (path: string, token: string | null = emulator.token): Promise<Response> => fetch(`${emulator.url}${path}`, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
    const api = (await (await get('/api')).json()) as { kind: string; versions: string[] };
    expect(api).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    const v1 = (await (await get('/api/v1')).json()) as { resources: Array<{ name: string; namespaced: boolean; kind: string }> };
    expect(v1.resources.map((r) => r.name)).toEqual(expect.arrayContaining(['pods', 'pods/exec', 'pods/log', 'services', 'secrets', 'configmaps', 'persistentvolumeclaims', 'events', 'namespaces']));
    const groups = (await (await get('/apis')).json()) as { groups: Array<{ name: string }> };
    expect(groups.groups.map((g) => g.name)).toContain('networking.k8s.io');
    const netv1 = (await (await get('/apis/networking.k8s.io/v1')).json()) as { resources: Array<{ name: string; kind: string }> };
    expect(netv1.resources).toContainEqual(expect.objectContaining({ name: 'networkpolicies', kind: 'NetworkPolicy' }));

    const anonymous = await get('/api/v1/namespaces/default/pods', null);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Unauthorized', code: 401 });
    const wrong = await get('/api/v1/namespaces', 'not-the-token');
    expect(wrong.status).toBe(401);
    const other = new KubeConfig();
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no cluster');
    other.loadFromClusterAndUser(cluster, { name: 'someone', token: 'wrong' });
    expect((await failure(other.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: NS }))).code).toBe(401);
  });

  it('creates, reads, lists, updates, patches and deletes config maps and secrets', async () => {
    const cm: V1ConfigMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm-a', labels: { tier: 'a', color: 'red' } }, data: { 'k.txt': 'v1' } };
    const created = await core.createNamespacedConfigMap({ namespace: NS, body: cm });
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.metadata?.resourceVersion).toMatch(/^\d+$/);
    expect(created.metadata?.creationTimestamp).toBeInstanceOf(Date);
    expect(created.metadata?.namespace).toBe(NS);
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'cm-b', labels: { tier: 'b' } }, data: {} } });
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'cm-c', labels: { tier: 'c', color: 'blue' } } } });

    const got = await core.readNamespacedConfigMap({ name: 'cm-a', namespace: NS });
    expect(got.data).toEqual({ 'k.txt': 'v1' });
    const names = async (labelSelector?: string, fieldSelector?: string): Promise<string[]> =>
      ((await core.listNamespacedConfigMap({ namespace: NS, labelSelector, fieldSelector })).items.map((i) => i.metadata?.name ?? '').filter((n) => n.startsWith('cm-')));
    expect(await names()).toEqual(['cm-a', 'cm-b', 'cm-c']);
    expect(await names('tier=a')).toEqual(['cm-a']);
    expect(await names('tier!=a')).toEqual(['cm-b', 'cm-c']);
    expect(await names('color')).toEqual(['cm-a', 'cm-c']);
    expect(await names('!color')).toEqual(['cm-b']);
    expect(await names('tier in (a,b)')).toEqual(['cm-a', 'cm-b']);
    expect(await names('tier notin (a,b),color')).toEqual(['cm-c']);
    expect(await names(undefined, 'metadata.name=cm-b')).toEqual(['cm-b']);
    const list = await core.listNamespacedConfigMap({ namespace: NS });
    expect(list.kind).toBe('ConfigMapList');
    expect(list.apiVersion).toBe('v1');
    expect(Number(list.metadata?.resourceVersion)).toBeGreaterThanOrEqual(Number(created.metadata?.resourceVersion));
    const all = await core.listConfigMapForAllNamespaces({ labelSelector: 'tier' });
    expect(all.items.map((i) => i.metadata?.name)).toEqual(['cm-a', 'cm-b', 'cm-c']);
    expect((await failure(core.listNamespacedConfigMap({ namespace: NS, labelSelector: 'a in (' }))).code).toBe(400);
    expect((await failure(core.listNamespacedConfigMap({ namespace: NS, fieldSelector: 'data.x=1' }))).body.message).toBe('field label not supported: data.x');

    // replace: a stale resourceVersion is a 409 Conflict
    const replaced = await core.replaceNamespacedConfigMap({ name: 'cm-a', namespace: NS, body: { ...got, data: { 'k.txt': 'v2' } } });
    expect(Number(replaced.metadata?.resourceVersion)).toBeGreaterThan(Number(got.metadata?.resourceVersion));
    const stale = await failure(core.replaceNamespacedConfigMap({ name: 'cm-a', namespace: NS, body: { ...got, data: { 'k.txt': 'v3' } } }));
    expect(stale.code).toBe(409);
    expect(stale.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Conflict', code: 409, details: { name: 'cm-a', kind: 'configmaps' } });
    expect(stale.body.message).toBe('Operation cannot be fulfilled on configmaps "cm-a": the object has been modified; please apply your changes to the latest version and try again');

    // patches: merge, strategic (as merge) and JSON patch
    await core.patchNamespacedConfigMap({ name: 'cm-a', namespace: NS, body: { metadata: { labels: { color: null, added: 'yes' } }, data: { extra: 'x' } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    await core.patchNamespacedConfigMap({ name: 'cm-a', namespace: NS, body: { data: { strategic: 'y' } } }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch));
    const patched = await core.patchNamespacedConfigMap({ name: 'cm-a', namespace: NS, body: [{ op: 'replace', path: '/data/k.txt', value: 'v4' }, { op: 'remove', path: '/data/extra' }] });
    expect(patched.metadata?.labels).toEqual({ tier: 'a', added: 'yes' });
    expect(patched.data).toEqual({ 'k.txt': 'v4', strategic: 'y' });
    const failedTest = await failure(core.patchNamespacedConfigMap({ name: 'cm-a', namespace: NS, body: [{ op: 'test', path: '/data/k.txt', value: 'nope' }] }));
    expect(failedTest.code).toBe(422);

    // errors: AlreadyExists, NotFound, Invalid
    const dup = await failure(core.createNamespacedConfigMap({ namespace: NS, body: cm }));
    expect(dup).toMatchObject({ code: 409, body: { reason: 'AlreadyExists', message: 'configmaps "cm-a" already exists', details: { name: 'cm-a', kind: 'configmaps' } } });
    const missing = await failure(core.readNamespacedConfigMap({ name: 'nope', namespace: NS }));
    expect(missing).toMatchObject({ code: 404, body: { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', message: 'configmaps "nope" not found', details: { name: 'nope', kind: 'configmaps' } } });
    const badName = await failure(core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'Bad_Name' } } }));
    expect(badName.code).toBe(422);
    expect(badName.body.reason).toBe('Invalid');
    expect(badName.body.message).toMatch(/^ConfigMap "Bad_Name" is invalid: metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of/);
    expect(badName.body.details?.causes?.[0]).toMatchObject({ reason: 'FieldValueInvalid', field: 'metadata.name' });
    const badLabel = await failure(core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'cm-bad', labels: { ok: 'x'.repeat(64) } } } }));
    expect(badLabel.body.message).toContain('metadata.labels: Invalid value: "xxxx');
    expect(badLabel.body.message).toContain('must be no more than 63 characters');
    const wrongNs = await failure(core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'cm-x', namespace: 'kube-system' } } }));
    expect(wrongNs).toMatchObject({ code: 400, body: { reason: 'BadRequest', message: 'the namespace of the provided object does not match the namespace sent on the request' } });
    const noNs = await failure(core.createNamespacedConfigMap({ namespace: 'nowhere', body: { metadata: { name: 'cm-x' } } }));
    expect(noNs).toMatchObject({ code: 404, body: { message: 'namespaces "nowhere" not found' } });

    // Unknown top-level fields are dropped (the server's default field validation only warns).
    const odd = await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'cm-odd' }, data: { a: 'b' }, spec: { nope: true } } as V1ConfigMap });
    expect((odd as { spec?: unknown }).spec).toBeUndefined();
    await core.deleteNamespacedConfigMap({ name: 'cm-odd', namespace: NS });

    // secrets: base64 data, stringData folded into data
    const secret = await core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: 'sec-a', labels: { tier: 'a' } }, data: { token: Buffer.from('s3cret').toString('base64') }, stringData: { plain: 'text' } } });
    expect(secret.type).toBe('Opaque');
    expect(secret.data).toEqual({ token: Buffer.from('s3cret').toString('base64'), plain: Buffer.from('text').toString('base64') });
    expect((secret as { stringData?: unknown }).stringData).toBeUndefined();
    const notBase64 = await failure(core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: 'sec-b' }, data: { token: 'not base64!' } } }));
    expect(notBase64.code).toBe(400);
    expect(notBase64.body.message).toContain('illegal base64 data');
    expect((await core.listNamespacedSecret({ namespace: NS, labelSelector: 'tier=a' })).items.map((s) => s.metadata?.name)).toEqual(['sec-a']);
    const deletedSecret = await core.deleteNamespacedSecret({ name: 'sec-a', namespace: NS });
    expect(deletedSecret).toMatchObject({ kind: 'Status', status: 'Success', details: { name: 'sec-a', kind: 'secrets' } });
    expect((await failure(core.readNamespacedSecret({ name: 'sec-a', namespace: NS }))).code).toBe(404);

    // deletecollection with a label selector
    await core.deleteCollectionNamespacedConfigMap({ namespace: NS, labelSelector: 'tier in (a,b)' });
    expect(await names()).toEqual(['cm-c']);
    await core.deleteNamespacedConfigMap({ name: 'cm-c', namespace: NS });
    expect(await names()).toEqual([]);
  });

  it('serves namespaces, services, PVCs and network policies, and validates them', async () => {
    const ns = await core.createNamespace({ body: { metadata: { name: 'emu-extra' } } });
    expect(ns.status?.phase).toBe('Active');
    expect(ns.metadata?.labels?.['kubernetes.io/metadata.name']).toBe('emu-extra');
    expect((await core.listNamespace()).items.map((n) => n.metadata?.name)).toEqual(expect.arrayContaining(['default', 'kube-system', 'emu-extra']));
    await core.createNamespacedConfigMap({ namespace: 'emu-extra', body: { metadata: { name: 'inside' } } });
    const badNs = await failure(core.createNamespace({ body: { metadata: { name: 'Not.A.Label' } } }));
    expect(badNs.code).toBe(422);

    const svc = await core.createNamespacedService({ namespace: NS, body: { metadata: { name: 'web', labels: { app: 'web' } }, spec: { selector: { app: 'web' }, ports: [{ port: 8080 }] } } });
    expect(svc.spec?.type).toBe('ClusterIP');
    expect(svc.spec?.clusterIP).toMatch(/^10\.96\./);
    expect(svc.spec?.ports?.[0]).toMatchObject({ port: 8080, protocol: 'TCP', targetPort: 8080 });
    expect((await core.readNamespacedService({ name: 'web', namespace: NS })).spec?.selector).toEqual({ app: 'web' });
    expect((await core.listNamespacedService({ namespace: NS, labelSelector: 'app=web' })).items).toHaveLength(1);
    const badSvc = await failure(core.createNamespacedService({ namespace: NS, body: { metadata: { name: '1web' }, spec: { ports: [{ port: 80 }] } } }));
    expect(badSvc.body.message).toMatch(/^Service "1web" is invalid: metadata\.name: Invalid value: "1web": a DNS-1035 label must consist of/);
    const noPorts = await failure(core.createNamespacedService({ namespace: NS, body: { metadata: { name: 'noports' }, spec: { selector: { a: 'b' } } } }));
    expect(noPorts.body.message).toBe('Service "noports" is invalid: spec.ports: Required value');
    await core.deleteNamespacedService({ name: 'web', namespace: NS });

    const pvc = await core.createNamespacedPersistentVolumeClaim({ namespace: NS, body: { metadata: { name: 'data-a' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } } });
    expect(pvc.status?.phase).toBe('Bound');
    expect(pvc.status?.capacity).toEqual({ storage: '1Gi' });
    const badPvc = await failure(core.createNamespacedPersistentVolumeClaim({ namespace: NS, body: { metadata: { name: 'data-b' }, spec: { resources: { requests: { storage: '1Gi' } } } } }));
    expect(badPvc.body.message).toBe('PersistentVolumeClaim "data-b" is invalid: spec.accessModes: Required value: at least 1 access mode is required');
    await core.deleteNamespacedPersistentVolumeClaim({ name: 'data-a', namespace: NS });
    await waitFor('PVC gone', async () => ((await failure(core.readNamespacedPersistentVolumeClaim({ name: 'data-a', namespace: NS }))).code === 404 ? true : undefined));

    const policy = await net.createNamespacedNetworkPolicy({
      namespace: NS,
      body: {
        metadata: { name: 'deny-all', labels: { app: 'x' } },
        spec: { podSelector: { matchLabels: { app: 'x' } }, egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['169.254.0.0/16'] } }, { ipBlock: { cidr: '::/0', except: ['fe80::/10'] } }] }], ingress: [{ _from: [{ podSelector: {} }], ports: [{ port: 80 }] }] },
      },
    });
    expect(policy.apiVersion).toBe('networking.k8s.io/v1');
    expect(policy.spec?.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy.spec?.ingress?.[0]?._from).toHaveLength(1);
    expect((await net.listNamespacedNetworkPolicy({ namespace: NS, labelSelector: 'app=x' })).items).toHaveLength(1);
    const badPolicy = await failure(net.createNamespacedNetworkPolicy({ namespace: NS, body: { metadata: { name: 'bad' }, spec: { podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/33' } }] }] } } }));
    expect(badPolicy.code).toBe(422);
    expect(badPolicy.body.message).toContain('NetworkPolicy.networking.k8s.io "bad" is invalid: spec.egress[0].to[0].ipBlock.cidr: Invalid value: "10.0.0.0/33"');
    await net.deleteCollectionNamespacedNetworkPolicy({ namespace: NS, labelSelector: 'app=x' });
    expect((await failure(net.readNamespacedNetworkPolicy({ name: 'deny-all', namespace: NS }))).body.message).toBe('networkpolicies.networking.k8s.io "deny-all" not found');

    await core.deleteNamespace({ name: 'emu-extra' });
    await waitFor('namespace gone', async () => ((await failure(core.readNamespace({ name: 'emu-extra' }))).code === 404 ? true : undefined));
    expect((await failure(core.readNamespacedConfigMap({ name: 'inside', namespace: 'emu-extra' }))).code).toBe(404);
  });

  it('watches pods: ADDED, MODIFIED to Running, DELETED', async () => {
    const events: Array<{ type: string; phase?: string; rv?: string }> = [];
    const watch = new Watch(kc);
    const done = new Promise<unknown>((resolve) => {
      void watch
        .watch(`/api/v1/namespaces/${NS}/pods`, { labelSelector: 'watched=yes' }, (type: string, obj: V1Pod) => events.push({ type, phase: obj.status?.phase, rv: obj.metadata?.resourceVersion }), resolve)
        .then((controller) => {
          void running('watched').then(async () => {
            await core.deleteNamespacedPod({ name: 'watched', namespace: NS });
            await waitFor('DELETED', () => Promise.resolve(events.some((e) => e.type === 'DELETED') ? true : undefined));
            controller.abort();
          });
        });
    });
    await core.createNamespacedPod({ namespace: NS, body: sleeper('watched', {}, { watched: 'yes' }) });
    await done;
    expect(events[0]).toMatchObject({ type: 'ADDED', phase: 'Pending' });
    expect(events.some((e) => e.type === 'MODIFIED' && e.phase === 'Running')).toBe(true);
    expect(events[events.length - 1]?.type).toBe('DELETED');
    const rvs = events.map((e) => Number(e.rv));
    expect([...rvs].sort((a, b) => a - b)).toEqual(rvs);

    // A watch from a resourceVersion replays what came after it; a too old one is 410 Gone.
    const replay: string[] = [];
    const ctrl = await watch.watch(`/api/v1/namespaces/${NS}/pods`, { resourceVersion: String(rvs[0]), labelSelector: 'watched=yes' }, (type: string) => replay.push(type), () => undefined);
    await waitFor('replayed DELETED', () => Promise.resolve(replay.includes('DELETED') ? true : undefined));
    ctrl.abort();
    expect(replay[0]).toBe('MODIFIED');
    const expired: Array<{ type: string; code?: number }> = [];
    await new Promise<void>((resolve) => {
      void watch.watch(`/api/v1/namespaces/${NS}/pods`, { resourceVersion: '1' }, (type: string, obj: V1Status) => expired.push({ type, code: obj.code }), () => resolve());
    });
    expect(expired).toEqual([{ type: 'ERROR', code: 410 }]);
  });

  it('keeps an informer (ListWatch) in sync', async () => {
    const informer = makeInformer(kc, `/api/v1/namespaces/${NS}/configmaps`, () => core.listNamespacedConfigMap({ namespace: NS, labelSelector: 'informed=yes' }), 'informed=yes');
    const seen: string[] = [];
    informer.on('add', (o: KubernetesObject) => seen.push(`add ${o.metadata?.name ?? ''}`));
    informer.on('update', (o: KubernetesObject) => seen.push(`update ${o.metadata?.name ?? ''}`));
    informer.on('delete', (o: KubernetesObject) => seen.push(`delete ${o.metadata?.name ?? ''}`));
    await informer.start();
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'inf', labels: { informed: 'yes' } }, data: { a: '1' } } });
    await core.patchNamespacedConfigMap({ name: 'inf', namespace: NS, body: { data: { a: '2' } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    await core.deleteNamespacedConfigMap({ name: 'inf', namespace: NS });
    await waitFor('informer events', () => Promise.resolve(seen.length >= 3 ? true : undefined));
    await informer.stop();
    expect(seen).toEqual(['add inf', 'update inf', 'delete inf']);
  });

  it('runs a pod with env from a secret and a config map mounted as files, read back with exec', async () => {
    await core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: 'app-secret' }, stringData: { password: 'hunter2' } } });
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'app-config' }, data: { 'app.conf': 'mode=test\n', other: 'x' } } });
    const spec = pod('configured', [
      container('main', ['sleep', '300'], {
        env: [
          { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'app-secret', key: 'password' } } },
          { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'app-config', key: 'other' } } },
          { name: 'GREETING', value: 'hello $(MODE)' },
          { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        ],
        workingDir: '/tmp',
        securityContext: { runAsUser: 1000, runAsGroup: 1000, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true },
        resources: { limits: { memory: '256Mi', cpu: '500m' } },
        volumeMounts: [
          { name: 'config', mountPath: '/etc/app', readOnly: true },
          { name: 'one', mountPath: '/etc/one.conf', subPath: 'app.conf' },
          { name: 'scratch', mountPath: '/scratch' },
          { name: 'mem', mountPath: '/mem' },
        ],
      }),
    ], {
      securityContext: { fsGroup: 2000 },
      hostAliases: [{ ip: '10.1.2.3', hostnames: ['alias.example'] }],
      volumes: [
        { name: 'config', configMap: { name: 'app-config', items: [{ key: 'app.conf', path: 'conf/app.conf', mode: 0o440 }] } },
        { name: 'one', configMap: { name: 'app-config' } },
        { name: 'scratch', emptyDir: {} },
        { name: 'mem', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } },
      ],
    });
    await core.createNamespacedPod({ namespace: NS, body: spec });
    await running('configured');
    const r = await exec('configured', ['sh', '-c', 'echo "$PASSWORD|$MODE|$GREETING|$POD|$(pwd)|$(id -u):$(id -g)|$(id -G)"; cat /etc/app/conf/app.conf /etc/one.conf; stat -c %a /etc/app/conf/app.conf; touch /scratch/ok /mem/ok && echo writable; touch /rootfs 2>/dev/null || echo readonly-root; grep alias.example /etc/hosts; grep NoNewPrivs /proc/self/status']);
    expect(r.status).toEqual({ metadata: {}, status: 'Success' });
    expect(r.stdout.split('\n')).toEqual(['hunter2|x|hello x|configured|/tmp|1000:1000|1000 2000', 'mode=test', 'mode=test', '440', 'writable', 'readonly-root', '10.1.2.3\talias.example', 'NoNewPrivs:\t1', '']);
    const p = await core.readNamespacedPod({ name: 'configured', namespace: NS });
    expect(p.status?.containerStatuses?.[0]).toMatchObject({ name: 'main', ready: true, started: true, restartCount: 0 });
    expect(p.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(p.spec?.nodeName).toBe('emulator-node');
    await core.deleteNamespacedPod({ name: 'configured', namespace: NS });
  });

  it('runs a two-container pod: shared localhost and volumes, secret files by subPath, a locked-down security context', async () => {
    await core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: 'creds' }, stringData: { 'f0-gitconfig': '[user]\n\tname = x\n' } } });
    const locked = { runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true };
    const mounts = [
      { name: 'control', mountPath: '/run/control' },
      { name: 'home', mountPath: '/home/u' },
    ];
    await core.createNamespacedPod({
      namespace: NS,
      body: pod(
        'duo',
        [
          container('main', ['sleep', '300'], { securityContext: locked, stdin: true, stdinOnce: true, volumeMounts: [...mounts, { name: 'cred', mountPath: '/home/u/.gitconfig', subPath: 'gitconfig', readOnly: true }] }),
          container('side', ['socat', 'TCP-LISTEN:8080,fork,reuseaddr', 'SYSTEM:echo pong'], { securityContext: locked, volumeMounts: mounts, resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '128Mi' } } }),
        ],
        {
          securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } },
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          volumes: [
            { name: 'control', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } },
            { name: 'home', emptyDir: {} },
            { name: 'cred', secret: { secretName: 'creds', defaultMode: 0o440, items: [{ key: 'f0-gitconfig', path: 'gitconfig', mode: 0o440 }] } },
          ],
        },
      ),
    });
    await running('duo');
    expect((await exec('duo', ['sh', '-c', 'echo from-side > /run/control/flag && echo home > /home/u/h'], { container: 'side' })).status?.status).toBe('Success');
    const r = await exec('duo', ['sh', '-c', 'cat /run/control/flag /home/u/h /home/u/.gitconfig; socat -u TCP:127.0.0.1:8080 -; stat -c "%a %g" /home/u/.gitconfig; id -u; hostname'], { container: 'main' });
    expect(r.stdout).toBe('from-side\nhome\n[user]\n\tname = x\npong\n440 1000\n1000\nduo\n');
    // Without a container name, a two-container pod is ambiguous.
    const noName = await failure(core.readNamespacedPodLog({ name: 'duo', namespace: NS }));
    expect(noName.code).toBe(400);
    const statuses = (await core.readNamespacedPod({ name: 'duo', namespace: NS })).status?.containerStatuses;
    expect(statuses?.map((c) => [c.name, c.ready])).toEqual([
      ['main', true],
      ['side', true],
    ]);

    // runAsNonRoot with an image that runs as root: the kubelet refuses to start it.
    await core.createNamespacedPod({ namespace: NS, body: pod('rootful', [container('main', ['sleep', '300'], { securityContext: { runAsNonRoot: true } })]) });
    const waiting = await waitFor('CreateContainerConfigError', async () => {
      const w = (await core.readNamespacedPod({ name: 'rootful', namespace: NS })).status?.containerStatuses?.[0]?.state?.waiting;
      return w?.reason === 'CreateContainerConfigError' ? w : undefined;
    });
    expect(waiting.message).toMatch(/^container has runAsNonRoot and image will run as root \(pod: "rootful_default\(/);
    // privileged containers are refused as on a cluster that does not allow them.
    const privileged = await failure(core.createNamespacedPod({ namespace: NS, body: pod('priv', [container('main', ['true'], { securityContext: { privileged: true } })]) }));
    expect(privileged.body.message).toBe('Pod "priv" is invalid: spec.containers[0].securityContext.privileged: Forbidden: disallowed by cluster policy');
    const noImage = await failure(core.createNamespacedPod({ namespace: NS, body: { metadata: { name: 'empty' }, spec: { containers: [{ name: 'main' }] } } }));
    expect(noImage.body.message).toBe('Pod "empty" is invalid: spec.containers[0].image: Required value');
    await core.deleteCollectionNamespacedPod({ namespace: NS, labelSelector: 'app=emulator-test' });
    await gone('duo');
    await gone('rootful');
  });

  it('restarts containers under restartPolicy Always, with CrashLoopBackOff in between', async () => {
    await core.createNamespacedPod({ namespace: NS, body: pod('crasher', [container('main', ['sh', '-c', 'echo ran; exit 2'])], { restartPolicy: 'Always' }) });
    const backoff = await waitFor('CrashLoopBackOff', async () => {
      const c = (await core.readNamespacedPod({ name: 'crasher', namespace: NS })).status?.containerStatuses?.[0];
      return c?.state?.waiting?.reason === 'CrashLoopBackOff' ? c : undefined;
    });
    expect(backoff.state?.waiting?.message).toMatch(/^back-off \d+s restarting failed container=main pod=crasher_default/);
    const restarted = await waitFor('a restart', async () => {
      const p = await core.readNamespacedPod({ name: 'crasher', namespace: NS });
      const c = p.status?.containerStatuses?.[0];
      return c && c.restartCount >= 1 ? { p, c } : undefined;
    });
    expect(restarted.p.status?.phase).toBe('Running');
    expect(restarted.c.lastState?.terminated).toMatchObject({ exitCode: 2, reason: 'Error' });
    await core.deleteNamespacedPod({ name: 'crasher', namespace: NS });
    await gone('crasher');
  });

  it('execs with stdin, separate stdout and stderr, and the exit code on the status channel', async () => {
    await core.createNamespacedPod({ namespace: NS, body: sleeper('exec-target') });
    await running('exec-target');
    const ok = await exec('exec-target', ['sh', '-c', 'tr a-z A-Z; echo to-stderr >&2'], { stdin: 'hello stdin\n' });
    expect(ok).toEqual({ stdout: 'HELLO STDIN\n', stderr: 'to-stderr\n', status: { metadata: {}, status: 'Success' } });
    const bad = await exec('exec-target', ['sh', '-c', 'echo out; exit 3']);
    expect(bad.stdout).toBe('out\n');
    expect(bad.status).toEqual({
      metadata: {},
      status: 'Failure',
      message: 'command terminated with non-zero exit code: error executing command [sh -c echo out; exit 3], exit code 3',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
    // A TTY: resizes reach the process.
    const term = Object.assign(new PassThrough(), { rows: 33, columns: 111 });
    const tty = await exec('exec-target', ['sh', '-c', 'sleep 0.5; stty size'], { tty: true, stdout: term });
    expect(tty.stdout.trim()).toBe('33 111');
    // A pod that is not running cannot be exec'd into.
    await core.createNamespacedPod({ namespace: NS, body: pod('done', [container('main', ['true'])]) });
    await waitFor('pod done Succeeded', async () => ((await core.readNamespacedPod({ name: 'done', namespace: NS })).status?.phase === 'Succeeded' ? true : undefined));
    await expect(exec('done', ['true'])).rejects.toThrow(/400/);
    await core.deleteNamespacedPod({ name: 'exec-target', namespace: NS });
    await core.deleteNamespacedPod({ name: 'done', namespace: NS });
  });

  it('attaches to a pod started with stdin and a tty', async () => {
    await core.createNamespacedPod({ namespace: NS, body: pod('shell', [container('main', ['sh'], { stdin: true, tty: true })]) });
    await running('shell');
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString('utf8')));
    const input = new PassThrough();
    const ws = await new Attach(kc).attach(NS, 'shell', 'main', out, null, input, true);
    input.write('echo attached-$((6*7))\n');
    await waitFor('attach output', () => Promise.resolve(text.includes('attached-42') ? true : undefined), 10_000);
    const closed = new Promise((resolve) => ws.on('close', resolve));
    input.write('exit 0\n');
    await closed;
    await waitFor('shell Succeeded', async () => ((await core.readNamespacedPod({ name: 'shell', namespace: NS })).status?.phase === 'Succeeded' ? true : undefined));
    await core.deleteNamespacedPod({ name: 'shell', namespace: NS });
  });

  it('serves pod logs (client-node Log and readNamespacedPodLog)', async () => {
    await core.createNamespacedPod({ namespace: NS, body: pod('logger', [container('main', ['sh', '-c', 'echo one; echo two >&2; echo three; sleep 2; echo four'])]) });
    await running('logger');
    await waitFor('logs', async () => ((await core.readNamespacedPodLog({ name: 'logger', namespace: NS })).includes('three') ? true : undefined));
    const all = await core.readNamespacedPodLog({ name: 'logger', namespace: NS, container: 'main' });
    expect(all.split('\n').slice(0, 3).sort()).toEqual(['one', 'three', 'two']);
    expect((await core.readNamespacedPodLog({ name: 'logger', namespace: NS, tailLines: 1 })).split('\n').filter(Boolean)).toHaveLength(1);
    // follow: the stream ends when the container does.
    const stream = new PassThrough();
    let followed = '';
    stream.on('data', (d: Buffer) => (followed += d.toString('utf8')));
    const ended = new Promise((resolve) => stream.on('end', resolve));
    await new Log(kc).log(NS, 'logger', 'main', stream, { follow: true, timestamps: true });
    await ended;
    expect(followed).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z one$/m);
    expect(followed).toMatch(/Z four\n$/);
    await core.deleteNamespacedPod({ name: 'logger', namespace: NS });
  });

  it('keeps PVC data across pod deletion and re-creation', async () => {
    await core.createNamespacedPersistentVolumeClaim({ namespace: NS, body: { metadata: { name: 'keep' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } } });
    const withPvc = (): V1Pod =>
      pod('pvc-user', [container('main', ['sleep', '300'], { securityContext: { runAsUser: 1000 }, volumeMounts: [{ name: 'data', mountPath: '/data' }] })], {
        securityContext: { fsGroup: 1000 },
        volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'keep' } }],
      });
    await core.createNamespacedPod({ namespace: NS, body: withPvc() });
    await running('pvc-user');
    expect((await exec('pvc-user', ['sh', '-c', 'echo kept > /data/file && cat /data/file'])).stdout).toBe('kept\n');
    await core.deleteNamespacedPod({ name: 'pvc-user', namespace: NS, gracePeriodSeconds: 30 });
    await gone('pvc-user');
    await core.createNamespacedPod({ namespace: NS, body: withPvc() });
    await running('pvc-user');
    expect((await exec('pvc-user', ['cat', '/data/file'])).stdout).toBe('kept\n');
    // The PVC is protected while a pod uses it, and goes when the pod does.
    const deleting = await core.deleteNamespacedPersistentVolumeClaim({ name: 'keep', namespace: NS });
    expect(deleting.metadata?.deletionTimestamp).toBeInstanceOf(Date);
    expect((await core.readNamespacedPersistentVolumeClaim({ name: 'keep', namespace: NS })).metadata?.finalizers).toEqual(['kubernetes.io/pvc-protection']);
    await core.deleteNamespacedPod({ name: 'pvc-user', namespace: NS });
    await waitFor('PVC gone', async () => ((await failure(core.readNamespacedPersistentVolumeClaim({ name: 'keep', namespace: NS }))).code === 404 ? true : undefined));
  });

  it('reports a missing image as ImagePullBackOff with the kubelet events', async () => {
    await core.createNamespacedPod({ namespace: NS, body: pod('no-image', [{ name: 'main', image: 'localhost/paude-test-no-such-image:1', imagePullPolicy: 'IfNotPresent' }]) });
    const waiting = await waitFor('ImagePullBackOff', async () => {
      const p = await core.readNamespacedPod({ name: 'no-image', namespace: NS });
      const w = p.status?.containerStatuses?.[0]?.state?.waiting;
      return w?.reason === 'ImagePullBackOff' ? p : undefined;
    });
    expect(waiting.status?.phase).toBe('Pending');
    const events = await core.listNamespacedEvent({ namespace: NS, fieldSelector: 'involvedObject.name=no-image' });
    const failed = events.items.find((e) => e.reason === 'Failed' && e.message?.startsWith('Failed to pull image "localhost/paude-test-no-such-image:1"'));
    expect(failed).toMatchObject({ type: 'Warning', involvedObject: { kind: 'Pod', name: 'no-image', namespace: NS } });
    expect(events.items.map((e) => e.reason)).toEqual(expect.arrayContaining(['Scheduled', 'Pulling', 'Failed', 'BackOff']));
    const logs = await failure(core.readNamespacedPodLog({ name: 'no-image', namespace: NS }));
    expect(logs.code).toBe(400);
    await core.deleteNamespacedPod({ name: 'no-image', namespace: NS });
  });

  it('leaves a pod whose nodeSelector no node satisfies Pending and Unschedulable', async () => {
    await core.createNamespacedPod({ namespace: NS, body: sleeper('unschedulable', { nodeSelector: { 'example.com/gpu': 'yes' } }) });
    const p = await waitFor('Unschedulable', async () => {
      const x = await core.readNamespacedPod({ name: 'unschedulable', namespace: NS });
      return x.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable') ? x : undefined;
    });
    expect(p.status?.phase).toBe('Pending');
    const events = await core.listNamespacedEvent({ namespace: NS, fieldSelector: 'involvedObject.name=unschedulable,reason=FailedScheduling' });
    expect(events.items[0]?.message).toBe("0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.");
    // A pod never bound to a node is deleted at once.
    await core.deleteNamespacedPod({ name: 'unschedulable', namespace: NS });
    expect((await failure(core.readNamespacedPod({ name: 'unschedulable', namespace: NS }))).code).toBe(404);
  });

  it('makes a service name resolvable from other pods', async () => {
    await core.createNamespacedService({ namespace: NS, body: { metadata: { name: 'backend' }, spec: { selector: { role: 'backend' }, ports: [{ port: 8080 }] } } });
    await core.createNamespacedPod({ namespace: NS, body: pod('backend-pod', [container('main', ['socat', 'TCP-LISTEN:8080,fork,reuseaddr', 'SYSTEM:echo pong'])], {}, { role: 'backend' }) });
    await core.createNamespacedPod({ namespace: NS, body: sleeper('client-pod') });
    const backend = await running('backend-pod');
    await running('client-pod');
    const r = await exec('client-pod', ['sh', '-c', 'getent hosts backend backend.default backend.default.svc backend.default.svc.cluster.local | cut -d" " -f1']);
    expect(r.stdout.trim().split(/\s+/)).toEqual(Array(4).fill(backend.status?.podIP));
    expect((await exec('client-pod', ['socat', '-u', 'TCP:backend.default.svc.cluster.local:8080', '-'])).stdout).toBe('pong\n');
    const listed = await core.listNamespacedPod({ namespace: NS, labelSelector: 'role=backend', fieldSelector: 'status.phase=Running' });
    expect(listed.items.map((p) => p.metadata?.name)).toEqual(['backend-pod']);
    // A service created after its pod: the pod is reconnected with the new alias.
    await core.createNamespacedService({ namespace: NS, body: { metadata: { name: 'late' }, spec: { selector: { role: 'backend' }, ports: [{ port: 9090 }] } } });
    const ip = await waitFor('late alias', async () => {
      const out = (await exec('client-pod', ['sh', '-c', 'getent hosts late.default.svc.cluster.local | cut -d" " -f1'])).stdout.trim();
      return out ? out : undefined;
    });
    await waitFor('podIP follows', async () => ((await core.readNamespacedPod({ name: 'backend-pod', namespace: NS })).status?.podIP === ip ? true : undefined));
    await core.deleteCollectionNamespacedPod({ namespace: NS, labelSelector: 'app=emulator-test' });
    await core.deleteNamespacedService({ name: 'backend', namespace: NS });
    await core.deleteNamespacedService({ name: 'late', namespace: NS });
  });

  it('refuses what RBAC denies and what a quota forbids, with the real messages', async () => {
    emulator.deny('create', 'services');
    const denied = await failure(core.createNamespacedService({ namespace: NS, body: { metadata: { name: 'denied' }, spec: { ports: [{ port: 80 }] } } }));
    expect(denied).toMatchObject({
      code: 403,
      body: { kind: 'Status', reason: 'Forbidden', code: 403, message: 'services is forbidden: User "emulator" cannot create resource "services" in API group "" in the namespace "default"', details: { kind: 'services' } },
    });
    emulator.deny('get', 'secrets');
    expect((await failure(core.readNamespacedSecret({ name: 'x', namespace: NS }))).body.message).toBe('secrets "x" is forbidden: User "emulator" cannot get resource "secrets" in API group "" in the namespace "default"');
    emulator.deny('list', 'namespaces');
    expect((await failure(core.listNamespace())).body.message).toBe('namespaces is forbidden: User "emulator" cannot list resource "namespaces" in API group "" at the cluster scope');

    const existing = (await core.listNamespacedConfigMap({ namespace: NS })).items.length;
    emulator.quota('configmaps', existing + 2);
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'q1', labels: { quota: 't' } } } });
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'q2', labels: { quota: 't' } } } });
    const over = await failure(core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'q3' } } }));
    const n = existing + 2;
    expect(over).toMatchObject({ code: 403, body: { reason: 'Forbidden', message: `configmaps "q3" is forbidden: exceeded quota: emulator-quota, requested: configmaps=1, used: configmaps=${n}, limited: configmaps=${n}` } });
    await core.deleteCollectionNamespacedConfigMap({ namespace: NS, labelSelector: 'quota=t' });
    emulator.quota('configmaps', 1000);

    // Pods count while they are not finished; exec is "create" on pods/exec.
    const pods = (await core.listNamespacedPod({ namespace: NS })).items.filter((p) => !['Succeeded', 'Failed'].includes(p.status?.phase ?? '')).length;
    emulator.quota('pods', pods + 1);
    await core.createNamespacedPod({ namespace: NS, body: sleeper('quota-a') });
    const overPods = await failure(core.createNamespacedPod({ namespace: NS, body: sleeper('quota-b') }));
    expect(overPods.body.message).toBe(`pods "quota-b" is forbidden: exceeded quota: emulator-quota, requested: pods=1, used: pods=${pods + 1}, limited: pods=${pods + 1}`);
    await running('quota-a');
    emulator.deny('create', 'pods', 'exec');
    await expect(exec('quota-a', ['true'])).rejects.toThrow(/403/);
    await core.deleteNamespacedPod({ name: 'quota-a', namespace: NS });
    await gone('quota-a');
  });

  describe('what it does not emulate', () => {
    it('answers 501 and records it, for paths and for pod features', async () => {
      expect(emulator.unknown).toEqual([]);
      const r = await fetch(`${emulator.url}/apis/apps/v1/namespaces/default/deployments`, { headers: { Authorization: `Bearer ${emulator.token}` } });
      expect(r.status).toBe(501);
      expect(await r.json()).toMatchObject({ kind: 'Status', status: 'Failure', code: 501 });
      const probe = await failure(core.createNamespacedPod({ namespace: NS, body: pod('probed', [container('main', ['sleep', '1'], { readinessProbe: { exec: { command: ['true'] } } })]) }));
      expect(probe.code).toBe(501);
      expect(emulator.unknown).toEqual([
        { method: 'GET', path: '/apis/apps/v1/namespaces/default/deployments', reason: 'the resource "deployments" in apps/v1' },
        { method: 'POST', path: '/api/v1/namespaces/default/pods', reason: 'readiness probes (container main)' },
      ]);
      expect(emulator.requests).toContainEqual({ method: 'POST', path: '/api/v1/namespaces/default/pods' });
    });
  });
});
