/**
 * A Kubernetes API server emulator for tests: a small part of the real API, on the real wire
 * protocol (JSON over HTTP, chunked watch streams, WebSocket exec/attach), with pods run as
 * real containers of a Docker-API engine (Podman or Docker). It is meant for testing clients
 * such as @kubernetes/client-node without a cluster, and fails loudly on what it does not
 * emulate: such a request gets 501 (a Status saying what, reason NotImplemented) and is recorded
 * in `unknown`, as is any internal failure (method "-" when it happened in the pod runtime), so
 * a test can assert `expect(emulator.unknown).toEqual([])`.
 *
 * Served
 *   discovery   GET /api, /api/v1, /apis, /apis/networking.k8s.io[/v1], /version, /healthz
 *   core/v1     namespaces (cluster-scoped; default, kube-system and kube-public exist, and the
 *               options' namespace), nodes (one, "emulator-node", read-only), and in namespaces:
 *               pods, services, secrets, configmaps, persistentvolumeclaims, events (the
 *               emulator emits the scheduler's and the kubelet's events for pods: Scheduled,
 *               FailedScheduling, Pulling, Pulled, Failed, BackOff, Created, Started, Killing,
 *               FailedMount)
 *   networking.k8s.io/v1  networkpolicies: validated and stored, NOT ENFORCED (pods on the
 *               emulator's network reach each other whatever the policies say)
 *   verbs       create, get, list (labelSelector with =, ==, !=, exists, !exists, in, notin;
 *               fieldSelector with metadata.name/namespace and the server's per-resource fields,
 *               e.g. status.phase, involvedObject.name, reason; limit/continue; list items carry
 *               no apiVersion/kind, as on a real server), watch (?watch=true or /watch/ paths;
 *               resourceVersion, a 410 Expired ERROR event when older than the kept history or
 *               than the emulator, timeoutSeconds, allowWatchBookmarks, sendInitialEvents),
 *               update (409 Conflict on a stale resourceVersion; none means unconditional),
 *               patch (JSON patch; merge patch; strategic merge patch applied as a merge patch,
 *               its $directives refused), delete (gracePeriodSeconds, propagationPolicy,
 *               preconditions, finalizers; answers the object for pods, services, PVCs and
 *               namespaces, a Success Status for the others, as the real server),
 *               deletecollection, dryRun=All; pods/status, pods/log (container, follow,
 *               tailLines, timestamps, sinceSeconds, sinceTime, limitBytes), pods/exec and
 *               pods/attach over WebSocket (v5.channel.k8s.io, v4.channel.k8s.io).
 *   objects     uid, creationTimestamp, resourceVersion (one global counter), generateName, the
 *               server's defaults (restartPolicy Always, imagePullPolicy, service clusterIP and
 *               targetPort, secret type and stringData folded into data...). Unknown top-level
 *               fields are dropped with a Warning header (the server's fieldValidation=Warn).
 *   errors      Status objects with the real server's reasons and messages: NotFound,
 *               AlreadyExists, Conflict, Invalid (422, field causes), BadRequest (e.g. a
 *               namespace or kind that does not match the URL, bad base64 in a secret),
 *               Forbidden (deny(), quota(); as the real authorizer words it, a request without
 *               a name in its URL, such as a create, names no object), Unauthorized (a missing or
 *               wrong bearer token), Expired (watch).
 *
 * Pods (see runtime.ts): each container is an engine container named
 * <namePrefix>-<namespace>-<pod>-<container>, on one bridge network per emulator; the pod's
 * other containers share the first one's network namespace. Images are never pulled: a missing
 * image gives ErrImagePull, then ImagePullBackOff, and a "Failed to pull image" event. A
 * nodeSelector other than kubernetes.io/os=linux, kubernetes.io/arch=<the engine's arch> or
 * kubernetes.io/hostname=emulator-node leaves the pod Pending (PodScheduled=False,
 * Unschedulable) with a FailedScheduling event: that is how a test gets a pod that never
 * starts. Deleting a pod kills its containers at once (no grace period is waited for); with a
 * grace period (the default) the pod shows deletionTimestamp until its containers are gone and
 * only then is DELETED, so re-creating a pod of the same name is a 409 until then, as on a
 * cluster. Pod features the emulator does not run (probes, init containers, lifecycle hooks,
 * affinity, host namespaces, volume types other than emptyDir/PVC/secret/configMap/hostPath,
 * activeDeadlineSeconds...) are refused with 501 rather than ignored.
 *
 * Services: ClusterIP (and headless) services only. A service makes its name resolvable from
 * pods: the first container of every pod its selector matches carries the network aliases
 * <svc>, <svc>.<ns>, <svc>.<ns>.svc and <svc>.<ns>.svc.cluster.local, resolving to the pod's own
 * IP (several matching pods resolve round-robin, like a headless service). Ports are not
 * remapped: clients reach the pod's own ports, so a service port whose targetPort differs is
 * refused (501). spec.clusterIP is allocated but not routable. Aliases are set when the pod's
 * container joins the network; a service created (or changed) after its pods started makes the
 * emulator reconnect them with the new aliases, which may change the pod's IP on Podman
 * (status.podIP follows). Create services before their pods to avoid that. Short names are not
 * isolated per namespace (one network): <svc>.<ns> is the unambiguous name.
 *
 * Not emulated (beyond the 501s): service accounts and their tokens (automountServiceAccountToken
 * is accepted, nothing is mounted; serviceAccountName is not checked), service environment
 * variables (enableServiceLinks), Endpoints, port-forward, SPDY streams, server-side apply, Table
 * output, the previous container's logs, updates of secrets/config maps reaching volumes already
 * mounted, emptyDir sizeLimit (except on Docker for medium Memory), resource requests (limits
 * become engine limits), NetworkPolicy enforcement, managedFields. On Podman a volume's root
 * cannot be given to fsGroup: PVC roots are made writable by everyone there instead (Docker gets
 * root:<fsGroup> 2775 as on a cluster). The kubeconfig sets insecure-skip-tls-verify because the
 * server is plain HTTP, which client-node 2.x refuses otherwise.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { stringify as stringifyYaml } from 'yaml';
import { resourceByKind } from './resources.js';
import { PodRuntime } from './runtime.js';
import { KubeServer, USER, type Denial } from './server.js';
import { Store } from './store.js';
import { timestamp } from './types.js';

export interface KubeEmulatorOptions {
  /** A dockerode connection (Podman or Docker) where pods run as real containers. */
  docker: Docker;
  /** Added to every container, volume and network the emulator creates. */
  labels: Record<string, string>;
  /** A unique prefix for the engine resources it creates, e.g. 'paude-test-k8s-ab12cd'. */
  namePrefix: string;
  /** The kubeconfig context's namespace (default "default"); created if it is not default. */
  namespace?: string;
}

export interface KubeEmulator {
  /** http://127.0.0.1:PORT */
  url: string;
  /**
   * A kubeconfig (in a temp dir the emulator owns): cluster "emulator" (server: url, with
   * insecure-skip-tls-verify, which client-node requires for http), user "emulator" (token),
   * context "emulator" (with the namespace), current-context emulator.
   */
  kubeconfigPath: string;
  /** The bearer token; requests without it get 401. */
  token: string;
  requests: Array<{ method: string; path: string }>;
  /** What the emulator did not understand (answered 501): a test asserts this stays empty. */
  unknown: Array<{ method: string; path: string; reason: string }>;
  /** RBAC: later requests with this verb on this resource (and subresource) get 403 Forbidden. */
  deny(verb: string, resource: string, subresource?: string): void;
  /** A ResourceQuota: creating more than `max` objects of the resource in a namespace gets 403. */
  quota(resource: string, max: number): void;
  /** Stops the server and removes every container, volume and network it created. */
  close(): Promise<void>;
}

const NAMESPACES = resourceByKind('Namespace');

export async function startKubeEmulator(options: KubeEmulatorOptions): Promise<KubeEmulator> {
  const namespace = options.namespace ?? 'default';
  const token = randomBytes(24).toString('hex');
  const requests: KubeEmulator['requests'] = [];
  const unknown: KubeEmulator['unknown'] = [];
  const denials: Denial[] = [];
  const quotas = new Map<string, number>();
  const store = new Store();
  const runtime = new PodRuntime({
    docker: options.docker,
    labels: options.labels,
    namePrefix: options.namePrefix,
    store,
    onUnknown: (reason) => unknown.push({ method: '-', path: '-', reason }),
  });
  for (const name of new Set(['default', 'kube-system', 'kube-public', namespace])) {
    store.create(NAMESPACES, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name, uid: randomUUID(), creationTimestamp: timestamp(), labels: { 'kubernetes.io/metadata.name': name } },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    });
  }
  await runtime.start();
  const server = new KubeServer({ store, runtime, docker: options.docker, token, requests, unknown, denials, quotas });
  let dir: string | undefined;
  try {
    await server.listen();
    dir = await mkdtemp(join(tmpdir(), 'kube-emulator-'));
    const kubeconfigPath = join(dir, 'kubeconfig');
    const kubeconfig = {
      apiVersion: 'v1',
      kind: 'Config',
      // client-node 2.x refuses a plain-http server unless TLS verification is (nominally) skipped.
      clusters: [{ name: 'emulator', cluster: { server: server.url, 'insecure-skip-tls-verify': true } }],
      users: [{ name: USER, user: { token } }],
      contexts: [{ name: 'emulator', context: { cluster: 'emulator', user: USER, namespace } }],
      'current-context': 'emulator',
      preferences: {},
    };
    await writeFile(kubeconfigPath, stringifyYaml(kubeconfig), { mode: 0o600 });
    let closing: Promise<void> | undefined;
    const tempDir = dir;
    return {
      url: server.url,
      kubeconfigPath,
      token,
      requests,
      unknown,
      deny: (verb, resource, subresource) => {
        // "pods/exec" is accepted for ("pods", "exec").
        const [res = resource, sub = subresource] = subresource === undefined && resource.includes('/') ? resource.split('/', 2) : [resource, subresource];
        denials.push({ verb, resource: res, ...(sub ? { subresource: sub } : {}) });
      },
      // "count/pods" (a ResourceQuota's object-count name) is accepted for "pods".
      quota: (resource, max) => void quotas.set(resource.replace(/^count\//, ''), max),
      close: () =>
        (closing ??= (async () => {
          await server.close();
          await runtime.close();
          await rm(tempDir, { recursive: true, force: true });
        })()),
    };
  } catch (error) {
    await server.close().catch(() => undefined);
    await runtime.close().catch(() => undefined);
    if (dir) await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
