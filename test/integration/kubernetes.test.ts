/**
 * The kubernetes backend end to end, with the real paude binary: against the Kubernetes API
 * emulator (test/support/kube-emulator: the real wire protocol, pods run as real containers on
 * one engine, Docker where there is one: describeOneEngine), or unchanged against a real cluster when PAUDE_TEST_KUBECONFIG is set
 * (then the images come from PAUDE_TEST_KUBE_AGENT_IMAGE and PAUDE_TEST_KUBE_PROXY_IMAGE).
 *
 * A session: pods, Service, PVC, Secrets, ConfigMap and NetworkPolicies exist with the right
 * fields; attach streams both ways and resizes; the proxy allows, refuses, and takes a policy
 * change; sync goes both ways; stop and rm remove everything, Secrets included. Then the
 * errors: an API server that does not answer, RBAC, quota, an image that cannot be pulled, a
 * pod that cannot be scheduled.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { execFileSync, spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { readFile, rm as removeFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { beforeAll, expect, it } from 'vitest';
import { describeOneEngine } from '../support/engine-test.js';
import { startKubeEmulator, type KubeEmulator } from '../support/kube-emulator/index.js';
import { runInPty } from '../support/pty.js';
import { PAUDE_BIN, runPaude } from '../support/run-cli.js';
import { waitFor } from '../support/session-fixture.js';
import { gatewayOf, testProject, type TestProject } from '../support/workspace.js';

const REAL = process.env.PAUDE_TEST_KUBECONFIG;

async function upstream(): Promise<{ port: number; seen: string[]; server: Server }> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.headers.host ?? '?'} ${req.url ?? ''}`);
    res.writeHead(200, { 'content-type': 'text/plain' }).end('hello from upstream\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
  return { port: (server.address() as AddressInfo).port, seen, server };
}

describeOneEngine('kubernetes backend', (engine) => {
  let emulator: KubeEmulator | undefined;
  let kubeconfig = REAL ?? '';
  let core: k8s.CoreV1Api;
  let networking: k8s.NetworkingV1Api;
  let namespace = 'default';
  let up: Awaited<ReturnType<typeof upstream>>;
  let gateway: string;

  beforeAll(async () => {
    if (!REAL) {
      emulator = await startKubeEmulator({ docker: engine.docker, labels: engine.labels, namePrefix: engine.uniqueName('k8s') });
      const e = emulator;
      engine.defer(() => e.close());
      kubeconfig = e.kubeconfigPath;
    }
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(kubeconfig);
    namespace = kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
    core = kc.makeApiClient(k8s.CoreV1Api);
    networking = kc.makeApiClient(k8s.NetworkingV1Api);
    up = await upstream();
    const server = up.server;
    engine.defer(() => new Promise((r) => server.close(r)));
    // Where pods reach this host: the node's address (the emulator's network gateway); on a
    // real cluster, say where the test's upstream can be reached.
    const nodes = await core.listNode();
    gateway = process.env.PAUDE_TEST_KUBE_UPSTREAM_ADDRESS ?? nodes.items[0]?.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? (await gatewayOf(engine));
  });

  const project = (extra: Record<string, unknown> = {}, kube: Record<string, unknown> = {}): Promise<TestProject> =>
    testProject(engine, {
      config: {
        backend: {
          type: 'kubernetes',
          kubernetes: {
            kubeconfig,
            agentImage: process.env.PAUDE_TEST_KUBE_AGENT_IMAGE ?? engine.images.agent,
            proxyImage: process.env.PAUDE_TEST_KUBE_PROXY_IMAGE ?? engine.images.proxy,
            ...kube,
          },
        },
        network: { hosts: { 'allowed.test': gateway, 'blocked.test': gateway }, allowlist: [`allowed.test:${up.port}`] },
        ...extra,
      },
    });

  const objects = async (id: string): Promise<string[]> => {
    const labelSelector = `paude.session=${id}`;
    const [pods, services, secrets, maps, claims, policies] = await Promise.all([
      core.listNamespacedPod({ namespace, labelSelector }),
      core.listNamespacedService({ namespace, labelSelector }),
      core.listNamespacedSecret({ namespace, labelSelector }),
      core.listNamespacedConfigMap({ namespace, labelSelector }),
      core.listNamespacedPersistentVolumeClaim({ namespace, labelSelector }),
      networking.listNamespacedNetworkPolicy({ namespace, labelSelector }),
    ]);
    return [
      ...pods.items.map((o) => `pod/${o.metadata?.name ?? ''}`),
      ...services.items.map((o) => `service/${o.metadata?.name ?? ''}`),
      ...secrets.items.map((o) => `secret/${o.metadata?.name ?? ''}`),
      ...maps.items.map((o) => `configmap/${o.metadata?.name ?? ''}`),
      ...claims.items.map((o) => `pvc/${o.metadata?.name ?? ''}`),
      ...policies.items.map((o) => `networkpolicy/${o.metadata?.name ?? ''}`),
    ].sort();
  };

  it('runs a detached session: its objects, attach both ways with resize, the policy live, sync both ways, and rm removes everything', async () => {
    const p = await project();
    await writeFile(join(p.ws, 'hello.txt'), 'from the host\n');
    // A real repository, owned by the workspace's owner like the rest.
    const git = (...args: string[]): string => execFileSync('git', ['-C', p.ws, '-c', 'safe.directory=*', '-c', 'user.name=host', '-c', 'user.email=host@example.com', ...args], { encoding: 'utf8' });
    git('init', '-q', '-b', 'main');
    git('add', '.');
    git('commit', '-qm', 'first');
    if (process.getuid?.() === 0) execFileSync('chown', ['-R', '1000:1000', p.ws]);
    await writeFile(join(p.dir, 'home', '.gitconfig'), '[user]\n\tname = Ada\n');
    Object.assign(p.env, { ANTHROPIC_API_KEY: 'sk-ant-test-key-k8s' });
    const start = await p.paude(['--detach', '--shell']);
    expect(start.code, start.stderr).toBe(0);
    const id = start.stdout.trim();
    expect(id).toMatch(/^paude-[a-z0-9]{6}$/);

    // The objects, with what docs/KUBERNETES.md promises.
    expect(await objects(id)).toEqual(
      [
        `configmap/${id}-proxy`,
        `networkpolicy/${id}-agent`,
        `networkpolicy/${id}-proxy`,
        `pod/${id}`,
        `pod/${id}-proxy`,
        `pvc/${id}-workspace`,
        `secret/${id}-agent`,
        `secret/${id}-proxy-key`,
        `service/${id}-proxy`,
      ].sort(),
    );
    const pod = await core.readNamespacedPod({ namespace, name: id });
    expect(pod.spec?.automountServiceAccountToken).toBe(false);
    expect(pod.spec?.securityContext?.seccompProfile?.type).toBe('RuntimeDefault');
    expect(pod.spec?.containers.map((c) => c.securityContext?.capabilities?.drop)).toEqual([['ALL'], ['ALL']]);
    expect(JSON.stringify(pod.spec)).not.toContain('sk-ant-test-key-k8s');
    const key = await core.readNamespacedSecret({ namespace, name: `${id}-proxy-key` });
    expect(Buffer.from(key.data?.['provider.conf'] ?? '', 'base64').toString()).toContain('sk-ant-test-key-k8s');

    // paude sessions lists it from the cluster.
    const rows = JSON.parse((await p.paude(['sessions', '--json'])).stdout) as Array<{ id: string; status: string; backend: string }>;
    expect(rows.find((r) => r.id === id)).toMatchObject({ status: 'detached', backend: 'kubernetes' });

    // Attach: keys in, output out, a resize, the detach key.
    const t = runInPty(['attach', id.slice(6)], { cwd: p.ws, env: p.env, cols: 100, rows: 30 });
    try {
      await t.waitFor(/\$ $/m, 30_000);
      t.write('cat hello.txt ~/.gitconfig; echo "$((6*7))"\r');
      await t.waitFor(/from the host[\s\S]*name = Ada[\s\S]*42/);
      t.resize(123, 40);
      await new Promise((r) => setTimeout(r, 300));
      t.write('stty size\r');
      await t.waitFor(/40 123/);
      // The policy: allowed passes, blocked is refused, and `paude allow` lets it through live.
      t.write(`curl -s -o /dev/null -w "A%{http_code}\\n" http://allowed.test:${up.port}/ok; curl -s -o /dev/null -w "B%{http_code}\\n" http://blocked.test:${up.port}/no\r`);
      await t.waitFor(/A200\s+B403/);
      const allow = await p.paude(['allow', `blocked.test:${up.port}`, '--session', id]);
      expect(allow.code, allow.stderr).toBe(0);
      await waitFor(async () => {
        t.write(`curl -s -o /dev/null -w "C%{http_code}\\n" http://blocked.test:${up.port}/now\r`);
        await new Promise((r) => setTimeout(r, 700));
        return /C200/.test(t.output()) || undefined;
      }, 20_000);
      expect(up.seen).toContain(`blocked.test:${up.port} /now`);
      t.write('echo from-the-pod > made-there.txt; git add made-there.txt && git -c user.name=agent -c user.email=agent@example.com commit -qm "from the agent" && echo COMMITTED\r');
      await t.waitFor(/^COMMITTED/m);
      t.write('\x1d'); // ctrl-], the detach key
      expect(await t.exit).toBe(0);
    } finally {
      t.pty.kill();
    }

    // Git: the agent's commit arrives as a branch here; the host's branch goes there as host/main.
    const gitDown = await p.paude(['sync', id, '--git']);
    expect(gitDown.code, gitDown.stderr).toBe(0);
    expect(gitDown.stdout).toContain(`paude/${id}/main (new)`);
    expect(git('log', '-1', '--format=%s', `paude/${id}/main`).trim()).toBe('from the agent');
    expect(git('log', '-1', '--format=%s', 'main').trim()).toBe('first'); // nothing of the host's moved
    await writeFile(join(p.ws, 'host-note.txt'), 'note\n');
    git('add', 'host-note.txt');
    git('commit', '-qm', 'from the host');
    const gitUp = await p.paude(['sync', id, '--git', '--up']);
    expect(gitUp.code, gitUp.stderr).toBe(0);
    expect(gitUp.stdout).toMatch(/host\/main \(new\) [0-9a-f]{7}/);
    // (file sync below would show it too: the agent's repo now has host/main)
    await removeFile(join(p.ws, 'host-note.txt'));
    git('reset', '-q', '--hard', 'HEAD~1');
    if (process.getuid?.() === 0) execFileSync('chown', ['-R', '1000:1000', p.ws]);

    // Sync: the pod's change comes back; the host's goes in.
    const pull = await p.paude(['sync', id]);
    expect(pull.code, pull.stderr).toBe(0);
    expect(await readFile(join(p.ws, 'made-there.txt'), 'utf8')).toBe('from-the-pod\n');
    await writeFile(join(p.ws, 'hello.txt'), 'changed on the host\n');
    const push = await p.paude(['sync', id, '--push']);
    expect(push.code, push.stderr).toBe(0);
    const t2 = runInPty(['attach', id], { cwd: p.ws, env: p.env });
    try {
      t2.write('\rcat hello.txt; git log -1 --format=%s host/main\r');
      await t2.waitFor(/changed on the host[\s\S]*from the host/, 30_000);
      t2.write('\x1d');
      expect(await t2.exit).toBe(0);
    } finally {
      t2.pty.kill();
    }

    // Stop, then rm: nothing of the session is left, Secrets included.
    expect((await p.paude(['stop', id])).code).toBe(0);
    const stopped = JSON.parse((await p.paude(['sessions', '--all', '--json'])).stdout) as Array<{ id: string; status: string }>;
    expect(stopped.find((r) => r.id === id)?.status).toBe('stopped');
    const rm = await p.paude(['rm', id]);
    expect(rm.code, rm.stderr).toBe(0);
    await waitFor(async () => ((await objects(id)).length === 0 ? true : undefined), 30_000);
    expect(emulator?.unknown ?? []).toEqual([]);
  });

  it('runs a command without a terminal: stdout and stderr apart, its exit code, its changes back, nothing left', async () => {
    const p = await project();
    const r = await runPaude(['--shell', '--', 'sh', '-c', 'read line; echo "out:$line"; echo err >&2; echo made > result.txt; exit 3'], { cwd: p.ws, env: p.env, input: 'piped in\n' });
    expect(r.stderr).toContain('err');
    expect(r.stderr).not.toContain('out:');
    expect(r.stdout).toContain('out:piped in');
    expect(r.code).toBe(3);
    expect(await readFile(join(p.ws, 'result.txt'), 'utf8')).toBe('made\n');
    expect((await core.listNamespacedPod({ namespace, labelSelector: 'app.kubernetes.io/managed-by=paude' })).items.filter((x) => x.metadata?.annotations?.['paude.workspace'] === p.ws)).toEqual([]);
  });

  it('holds a request in ask mode until it is approved here, through the state bridge', async () => {
    const p = await project({ network: { mode: 'ask', hosts: { 'blocked.test': gateway }, allowlist: [] } });
    const start = await p.paude(['--detach', '--shell']);
    expect(start.code, start.stderr).toBe(0);
    const id = start.stdout.trim();
    // Someone is there to ask: paude approvals --watch (its heartbeat reaches the proxy pod).
    const watcher = spawn(process.execPath, [PAUDE_BIN, 'approvals', '--watch', '--json'], { cwd: p.ws, env: { ...process.env, ...p.env } });
    let lines = '';
    let said = '';
    watcher.stdout.on('data', (d: Buffer) => (lines += d.toString()));
    watcher.stderr.on('data', (d: Buffer) => (said += d.toString()));
    try {
      // It is present once it says so; its heartbeat then reaches the proxy pod with the keeper's
      // next push. A request refused before that (403, nobody to ask) is made again.
      await waitFor(() => Promise.resolve(said.includes('watching') ? true : undefined), 60_000);
      const kc = new k8s.KubeConfig();
      kc.loadFromFile(kubeconfig);
      let out = '';
      let finished: Promise<void> = Promise.resolve();
      const request = async (): Promise<void> => {
        out = '';
        const sink = new Writable({
          write(chunk: Buffer, _e, cb) {
            out += chunk.toString();
            cb();
          },
        });
        let done!: () => void;
        finished = new Promise<void>((r) => (done = r));
        const ws = await new k8s.Exec(kc).exec(namespace, id, 'agent', ['curl', '-s', '-o', '/dev/null', '-w', 'HELD%{http_code}', '--max-time', '60', '-x', 'http://127.0.0.1:3128', `http://blocked.test:${up.port}/held`], sink, null, null, false, () => done());
        ws.on('close', () => done());
      };
      await request();
      const held = await waitFor(async () => {
        const line = lines.split('\n').find((l) => l.includes('blocked.test'));
        if (line) return (JSON.parse(line) as { id: string }).id;
        if (out === 'HELD403') await request();
        return undefined;
      }, 60_000);
      const ok = await p.paude(['approve', held]);
      expect(ok.code, ok.stderr).toBe(0);
      await finished;
      expect(out).toBe('HELD200');
      expect(up.seen).toContain(`blocked.test:${up.port} /held`);
    } finally {
      watcher.kill('SIGINT');
    }
    expect((await p.paude(['rm', '--force', id])).code).toBe(0);
  });

  it('says in one sentence that the API server does not answer', async () => {
    const dead = join((await project()).dir, 'dead-kubeconfig');
    // A port nothing listens on (fetch refuses some well-known ones outright, such as 9).
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    await writeFile(
      dead,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'c', cluster: { server: `http://127.0.0.1:${port}`, 'insecure-skip-tls-verify': true } }],
        users: [{ name: 'u', user: { token: 't' } }],
        contexts: [{ name: 'gone', context: { cluster: 'c', user: 'u', namespace: 'default' } }],
        'current-context': 'gone',
      }),
    );
    const p = await project({}, { kubeconfig: dead });
    const r = await p.paude(['--shell', '--', 'true']);
    expect(r.code).toBe(5);
    expect(r.stderr.trim()).toBe(`paude: the Kubernetes API server http://127.0.0.1:${port} (context gone) does not answer: ECONNREFUSED; check the cluster is up and your kubeconfig points at it`);
  });

  it('names a missing context and the ones there are', async () => {
    const p = await project({}, { context: 'nope' });
    const r = await p.paude(['--shell', '--', 'true']);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/the kubeconfig has no context "nope" \(it has: .+\); use one of those with --context/);
  });

  it('says the image cannot be pulled, and why a pod stays Pending', async () => {
    const p = await project({}, { agentImage: 'localhost/paude-no-such-image:never' });
    const r = await p.paude(['--shell', '--', 'true']);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/the cluster cannot pull the image localhost\/paude-no-such-image:never for pod paude-[a-z0-9]{6}: (ErrImagePull|ImagePullBackOff)/);

    const q = await project({}, { nodeSelector: { 'paude.test/pool': 'nowhere' } });
    // Long enough for the proxy pod (which may be scheduled) to run on a busy machine.
    q.env.PAUDE_KUBE_PENDING_SECONDS = '12';
    const s = await q.paude(['--shell', '--', 'true']);
    expect(s.code).toBe(5);
    expect(s.stderr).toMatch(/pod paude-[a-z0-9]{6} is still Pending after 12 s \(Unschedulable: .*\); events: FailedScheduling: /);
  });
  // Last: the emulator keeps refusing from here on.
  it.skipIf(REAL)('says which permission RBAC refused, and when the quota is exceeded', async () => {
    const e = emulator as KubeEmulator;
    // Quota: the second pod of a session is one too many.
    e.quota('pods', 1);
    const q = await project();
    const s = await q.paude(['--shell', '--', 'true']);
    expect(s.code).toBe(5);
    expect(s.stderr).toMatch(/the namespace \S+ is out of quota: .*exceeded quota.*; free some \(paude gc\) or ask for more/);
    e.quota('pods', 1000);
    const before = (await core.listNamespacedSecret({ namespace, labelSelector: 'app.kubernetes.io/managed-by=paude' })).items.length;
    e.deny('create', 'networkpolicies');
    const p = await project();
    Object.assign(p.env, { ANTHROPIC_API_KEY: 'sk-ant-test-key-k8s' });
    const r = await p.paude(['--shell', '--', 'true']);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/paude may not create networkpolicies in namespace \S+ \(context \S+\): .*forbidden.*; ask your cluster admin for "create" on "networkpolicies"/);
    // Nothing of the failed start is left behind: the Secret it had created is gone.
    expect((await core.listNamespacedSecret({ namespace, labelSelector: 'app.kubernetes.io/managed-by=paude' })).items).toHaveLength(before);
  });
});
