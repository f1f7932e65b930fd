/**
 * The node: pods run as real engine containers, and their status, events and IPs come from the
 * engine. One emulated node ("emulator-node") on one bridge network owned by the emulator.
 *
 *   scheduling   nodeSelector must match the node's labels (kubernetes.io/os=linux,
 *                kubernetes.io/arch=<engine arch>, kubernetes.io/hostname=emulator-node); else
 *                the pod stays Pending, PodScheduled=False Unschedulable, event FailedScheduling.
 *                A missing PVC also leaves the pod unschedulable until the PVC exists.
 *   images       never pulled: an image missing in the engine gives ErrImagePull, then
 *                ImagePullBackOff, with the kubelet's events; re-checked every few seconds.
 *   config       env from secrets/config maps (CreateContainerConfigError while missing),
 *                runAsNonRoot checked against the image's user, secret/configMap volumes
 *                (FailedMount while missing).
 *   containers   one engine container per pod container; the first joins the network (with the
 *                service aliases), the others share its network namespace (container:<first>),
 *                so the containers of a pod reach each other on localhost as in Kubernetes.
 *   volumes      emptyDir = an engine volume (0777, fsGroup-owned on Docker), Memory emptyDir =
 *                a tmpfs engine volume shared by the pod's containers, PVC = the PVC's engine
 *                volume, secret/configMap = an engine volume filled before the containers start
 *                (read-only mounts), hostPath = a bind mount; subPath = a bind mount of the
 *                volume's directory on the engine host.
 *   status       polled from the engine every 300 ms: phase, conditions, containerStatuses,
 *                podIP, restarts (restartPolicy Always/OnFailure restart with a short back-off).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type Docker from 'dockerode';
import type { IContainer, IContainerState, IContainerStateWaiting, IContainerStatus, IEnvVar, IPodCondition, IPodSpec, IVolume, IVolumeMount } from 'kubernetes-models/v1';
import { Demuxer, errorMessage, ignoreNotFound, isNotFound, sleep, statusCodeOf, tarball, type TarEntry } from './engine.js';
import { resourceByKind } from './resources.js';
import { fromLabelSelectorObject, matchesLabels } from './selectors.js';
import type { Store } from './store.js';
import { deepEqual, engineTime, isRecord, timestamp, type KubeObject } from './types.js';
import { parseQuantity } from './validation-rules.js';

export const NODE_NAME = 'emulator-node';
const INSTANCE_LABEL = 'paude.kube-emulator.instance';
export const PVC_PROTECTION = 'kubernetes.io/pvc-protection';

const PODS = resourceByKind('Pod');
const EVENTS = resourceByKind('Event');
const SECRETS = resourceByKind('Secret');
const CONFIGMAPS = resourceByKind('ConfigMap');
const SERVICES = resourceByKind('Service');
const PVCS = resourceByKind('PersistentVolumeClaim');
const NODES = resourceByKind('Node');

export interface RuntimeOptions {
  docker: Docker;
  labels: Record<string, string>;
  namePrefix: string;
  store: Store;
  /** Records something the runtime met but does not emulate (shown in emulator.unknown). */
  onUnknown: (reason: string) => void;
}

interface Waiting {
  reason: string;
  message?: string;
}

interface Terminated {
  exitCode: number;
  reason: string;
  message?: string;
  startedAt?: string;
  finishedAt?: string;
  containerID?: string;
}

interface RunContainer {
  spec: IContainer;
  engineName: string;
  id?: string;
  /** The engine's State in the last listing (running, exited, created...). */
  engineState?: string;
  info?: Docker.ContainerInspectInfo;
  /** Re-inspect at the next poll (after a start, a restart, a reconnect). */
  dirty: boolean;
  waiting?: Waiting;
  startError?: Terminated;
  restartCount: number;
  lastTerminated?: Terminated;
  backoffUntil?: number;
  backoffMs: number;
  /** Being started again after a back-off. */
  restarting: boolean;
  vanished: boolean;
}

interface PodRun {
  uid: string;
  namespace: string;
  name: string;
  containers: RunContainer[];
  /** Engine volumes owned by this pod (emptyDir, secret, configMap). */
  volumes: string[];
  scheduled: boolean;
  unschedulable?: string;
  sandboxReady: boolean;
  startTime?: string;
  aliases: string[];
  abort: AbortController;
  task?: Promise<void>;
  deleting: boolean;
  /** The removal of its containers and volumes, once terminating. */
  removal?: Promise<void>;
  /** Event dedupe: key -> event name (a repeated event bumps count, as the kubelet's do). */
  events: Map<string, string>;
}

/** What exec, attach and logs need to know about one container of a pod. */
export interface ContainerTarget {
  pod: KubeObject;
  spec: IContainer;
  id?: string;
  running: boolean;
  waiting?: IContainerStateWaiting;
}

/** Why a pod's containers cannot be configured yet (the kubelet retries). */
class ConfigError extends Error {
  /** The container concerned (CreateContainerConfigError). */
  container?: string;
  constructor(
    readonly reason: 'CreateContainerConfigError' | 'FailedMount',
    message: string,
    readonly volume?: string,
  ) {
    super(message);
  }
}

export class PodRuntime {
  private readonly runs = new Map<string, PodRun>();
  private readonly pvcVolumes = new Map<string, { name: string; ready: Promise<void> }>();
  /** Engine container names still being removed (a pod re-created under the same name waits). */
  private readonly removals = new Map<string, Promise<void>>();
  private readonly tasks = new Set<Promise<unknown>>();
  private pollTimer?: NodeJS.Timeout;
  private pollFailures = 0;
  private closed = false;
  private isPodman = false;
  private arch = 'amd64';
  private gateway = '';
  readonly networkName: string;
  readonly instanceId = randomBytes(6).toString('hex');

  constructor(private readonly o: RuntimeOptions) {
    this.networkName = `${o.namePrefix}-net`;
  }

  /** Labels of everything the emulator creates in the engine. */
  labels(extra: Record<string, string> = {}): Record<string, string> {
    return { ...this.o.labels, [INSTANCE_LABEL]: this.instanceId, ...extra };
  }

  async start(): Promise<void> {
    const [version, info] = await Promise.all([this.o.docker.version(), this.o.docker.info() as Promise<{ Architecture?: string }>]);
    this.isPodman = (version.Components ?? []).some((c) => /podman/i.test(c.Name));
    this.arch = ({ x86_64: 'amd64', aarch64: 'arm64', arm64: 'arm64', amd64: 'amd64' } as Record<string, string>)[info.Architecture ?? ''] ?? info.Architecture ?? 'amd64';
    const net = await this.o.docker.createNetwork({ Name: this.networkName, Driver: 'bridge', Labels: this.labels(), CheckDuplicate: true });
    const netInfo = (await net.inspect()) as { IPAM?: { Config?: Array<{ Gateway?: string }> } };
    this.gateway = netInfo.IPAM?.Config?.[0]?.Gateway ?? '';
    this.o.store.create(NODES, this.nodeObject(version.Version));
    this.schedulePoll();
  }

  private nodeObject(engineVersion: string): KubeObject {
    return {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: NODE_NAME, uid: randomUUID(), creationTimestamp: timestamp(), labels: this.nodeLabels() },
      spec: {},
      status: {
        conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: timestamp(), lastTransitionTime: timestamp() }],
        addresses: [
          { type: 'InternalIP', address: this.gateway },
          { type: 'Hostname', address: NODE_NAME },
        ],
        nodeInfo: {
          architecture: this.arch,
          operatingSystem: 'linux',
          kubeletVersion: 'v1.31.0-emulator',
          containerRuntimeVersion: `${this.isPodman ? 'podman' : 'docker'}://${engineVersion}`,
        },
        capacity: { cpu: '4', memory: '8Gi', pods: '110' },
        allocatable: { cpu: '4', memory: '8Gi', pods: '110' },
      },
    };
  }

  nodeLabels(): Record<string, string> {
    return {
      'kubernetes.io/os': 'linux',
      'kubernetes.io/arch': this.arch,
      'kubernetes.io/hostname': NODE_NAME,
      'beta.kubernetes.io/os': 'linux',
      'beta.kubernetes.io/arch': this.arch,
    };
  }

  /** Runs something in the background, tracked so close() can wait for it. */
  private track<T>(p: Promise<T>): Promise<T> {
    this.tasks.add(p);
    void p.finally(() => this.tasks.delete(p)).catch(() => undefined);
    return p;
  }

  // -------------------------------------------------------------------------------------------
  // Pod lifecycle

  podCreated(pod: KubeObject): void {
    const spec = pod.spec as IPodSpec;
    const uid = pod.metadata.uid ?? '';
    const run: PodRun = {
      uid,
      namespace: pod.metadata.namespace ?? 'default',
      name: pod.metadata.name,
      containers: spec.containers.map((c) => ({
        spec: c,
        engineName: `${this.o.namePrefix}-${pod.metadata.namespace ?? 'default'}-${pod.metadata.name}-${c.name}`,
        dirty: false,
        restartCount: 0,
        backoffMs: 1000,
        restarting: false,
        vanished: false,
      })),
      volumes: [],
      scheduled: false,
      sandboxReady: false,
      aliases: [],
      abort: new AbortController(),
      deleting: false,
      events: new Map(),
    };
    this.runs.set(uid, run);
    run.task = this.track(
      this.startPod(run).catch((error: unknown) => {
        if (!run.deleting && !this.closed) this.o.onUnknown(`starting pod ${run.namespace}/${run.name} failed inside the emulator: ${errorMessage(error)}`);
      }),
    );
  }

  /** Whether the pod was bound to the node (a pod never bound is deleted at once, as by the server). */
  isScheduled(uid: string): boolean {
    return this.runs.get(uid)?.scheduled ?? false;
  }

  /**
   * Kills and removes the pod's containers and volumes (no grace period: the emulator kills).
   * With `removeObject`, the pod object goes when its containers are gone (a graceful delete).
   */
  terminate(pod: KubeObject, removeObject: boolean): Promise<void> {
    const uid = pod.metadata.uid ?? '';
    const run = this.runs.get(uid);
    const finish = (): void => {
      if (removeObject) {
        // Gone once its containers are, unless finalizers hold it (then the update removing the last one does).
        const current = this.o.store.get(PODS, pod.metadata.namespace, pod.metadata.name);
        if (current && current.metadata.uid === uid && (current.metadata.finalizers ?? []).length === 0) this.o.store.remove(PODS, pod.metadata.namespace, pod.metadata.name);
      }
      this.afterPodGone(pod);
    };
    if (!run) {
      finish();
      return Promise.resolve();
    }
    if (run.removal) return run.removal;
    run.deleting = true;
    run.abort.abort();
    for (const c of run.containers) if (c.id && c.info?.State.Running) this.event(run, 'Normal', 'Killing', `Stopping container ${c.spec.name}`, { fieldPath: `spec.containers{${c.spec.name}}` });
    const removal = (async () => {
      await run.task;
      // The containers sharing the first one's network go first (Podman insists).
      for (const c of [...run.containers].reverse()) {
        const p = this.removeContainer(c.engineName);
        this.removals.set(c.engineName, p);
        await p;
        if (this.removals.get(c.engineName) === p) this.removals.delete(c.engineName);
      }
      for (const v of run.volumes) await this.removeVolume(v);
      this.runs.delete(uid);
      finish();
    })();
    run.removal = this.track(removal);
    return run.removal;
  }

  private async removeContainer(name: string): Promise<void> {
    try {
      await this.o.docker.getContainer(name).remove({ force: true });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  private async removeVolume(name: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.o.docker.getVolume(name).remove();
        return;
      } catch (error) {
        if (isNotFound(error)) return;
        // In use by a container still being removed: try again shortly.
        if (attempt >= 20) throw error;
        await sleep(250);
      }
    }
  }

  /** A pod went away: a PVC it kept (pvc-protection) may now be deleted. */
  private afterPodGone(pod: KubeObject): void {
    const spec = pod.spec as IPodSpec | undefined;
    for (const v of spec?.volumes ?? []) {
      if (!v.persistentVolumeClaim) continue;
      const pvc = this.o.store.get(PVCS, pod.metadata.namespace, v.persistentVolumeClaim.claimName);
      if (pvc) this.releasePvc(pvc);
    }
  }

  // -------------------------------------------------------------------------------------------
  // PVCs: one engine volume each, for the PVC's lifetime.

  pvcVolumeName(pvc: KubeObject): string {
    return `${this.o.namePrefix}-pvc-${pvc.metadata.namespace ?? ''}-${pvc.metadata.name}-${(pvc.metadata.uid ?? '').slice(0, 8)}`;
  }

  pvcCreated(pvc: KubeObject): void {
    const name = this.pvcVolumeName(pvc);
    const ready = this.track(
      this.o.docker
        .createVolume({ Name: name, Labels: this.labels({ 'paude.kube-emulator.pvc': `${pvc.metadata.namespace ?? ''}.${pvc.metadata.name}` }) })
        .then(() => undefined),
    );
    this.pvcVolumes.set(pvc.metadata.uid ?? '', { name, ready });
  }

  pvcInUse(pvc: KubeObject): boolean {
    return this.o.store.list(PODS, pvc.metadata.namespace).some((p) => ((p.spec as IPodSpec).volumes ?? []).some((v) => v.persistentVolumeClaim?.claimName === pvc.metadata.name));
  }

  /**
   * The pvc-protection controller: a PVC being deleted loses its finalizer once no pod uses it,
   * and then goes (with its engine volume) unless other finalizers hold it.
   */
  releasePvc(pvc: KubeObject): void {
    if (!pvc.metadata.deletionTimestamp || this.pvcInUse(pvc)) return;
    const before = pvc.metadata.finalizers ?? [];
    const after = before.filter((f) => f !== PVC_PROTECTION);
    let current = pvc;
    if (after.length !== before.length) {
      current.metadata.finalizers = after;
      current = this.o.store.update(PVCS, current);
    }
    if (after.length === 0) this.finishPvcDeletion(current);
  }

  /** The PVC object goes and its volume with it (its pods are gone). */
  finishPvcDeletion(pvc: KubeObject): void {
    const current = this.o.store.get(PVCS, pvc.metadata.namespace, pvc.metadata.name);
    if (current && current.metadata.uid === pvc.metadata.uid) this.o.store.remove(PVCS, pvc.metadata.namespace, pvc.metadata.name);
    const vol = this.pvcVolumes.get(pvc.metadata.uid ?? '');
    this.pvcVolumes.delete(pvc.metadata.uid ?? '');
    if (vol) void this.track(vol.ready.then(() => this.removeVolume(vol.name))).catch((e: unknown) => this.o.onUnknown(`removing the volume of PVC ${pvc.metadata.name}: ${errorMessage(e)}`));
  }

  // -------------------------------------------------------------------------------------------
  // Starting a pod

  private currentPod(run: PodRun): KubeObject | undefined {
    const pod = this.o.store.get(PODS, run.namespace, run.name);
    return pod && pod.metadata.uid === run.uid ? pod : undefined;
  }

  private stopped(run: PodRun): boolean {
    return run.deleting || this.closed || !this.currentPod(run);
  }

  private async startPod(run: PodRun): Promise<void> {
    const signal = run.abort.signal;
    // 1. Scheduling.
    for (;;) {
      const pod = this.currentPod(run);
      if (!pod || run.deleting) return;
      const spec = pod.spec as IPodSpec;
      if (spec.nodeName && spec.nodeName !== NODE_NAME) return; // bound to a node that does not exist: never runs
      const why = this.unschedulable(pod);
      if (!why) break;
      if (run.unschedulable !== why.message) {
        run.unschedulable = why.message;
        this.refreshStatus(run);
        this.event(run, 'Warning', 'FailedScheduling', why.message, { component: 'default-scheduler' });
      }
      if (why.permanent) return;
      await sleep(1000, signal);
    }
    run.unschedulable = undefined;
    run.scheduled = true;
    run.startTime = timestamp();
    this.bind(run);
    this.event(run, 'Normal', 'Scheduled', `Successfully assigned ${run.namespace}/${run.name} to ${NODE_NAME}`, { component: 'default-scheduler' });

    // 2. Images (never pulled).
    const images = await this.waitForImages(run);
    if (!images) return;

    // 3. Configuration: env, volume sources, runAsNonRoot.
    let config: PodConfig | undefined;
    for (;;) {
      if (this.stopped(run)) return;
      const pod = this.currentPod(run);
      if (!pod) return;
      try {
        config = this.resolveConfig(pod, images);
        for (const c of run.containers) c.waiting = undefined;
        break;
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        if (error.reason === 'FailedMount') {
          for (const c of run.containers) c.waiting = { reason: 'ContainerCreating' };
          this.event(run, 'Warning', 'FailedMount', `MountVolume.SetUp failed for volume "${error.volume ?? ''}" : ${error.message}`);
        } else {
          const c = run.containers.find((x) => x.spec.name === error.container) ?? run.containers[0];
          if (c) c.waiting = { reason: 'CreateContainerConfigError', message: error.message };
          this.event(run, 'Warning', 'Failed', `Error: ${error.message}`, c ? { fieldPath: `spec.containers{${c.spec.name}}` } : {});
        }
        this.refreshStatus(run);
        await sleep(1000, signal);
      }
    }

    // 4. Volumes and containers.
    if (this.stopped(run)) return;
    const pod = this.currentPod(run);
    if (!pod) return;
    const mounts = await this.prepareVolumes(run, pod, config, images);
    if (this.stopped(run)) return;
    for (const c of run.containers) {
      const pending = this.removals.get(c.engineName);
      if (pending) await pending.catch(() => undefined);
    }
    await this.createContainers(run, pod, config, mounts, images);
  }

  /** Why the pod cannot be scheduled now (permanent: nothing will change that), or undefined. */
  private unschedulable(pod: KubeObject): { message: string; permanent: boolean } | undefined {
    const spec = pod.spec as IPodSpec;
    const labels = this.nodeLabels();
    const selector = spec.nodeSelector ?? {};
    if (!Object.entries(selector).every(([k, v]) => labels[k] === v)) {
      return {
        message: "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.",
        permanent: true,
      };
    }
    for (const v of spec.volumes ?? []) {
      if (!v.persistentVolumeClaim) continue;
      const pvc = this.o.store.get(PVCS, pod.metadata.namespace, v.persistentVolumeClaim.claimName);
      if (!pvc) return { message: `0/1 nodes are available: persistentvolumeclaim "${v.persistentVolumeClaim.claimName}" not found. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.`, permanent: false };
      if (pvc.metadata.deletionTimestamp) return { message: `0/1 nodes are available: persistentvolumeclaim "${v.persistentVolumeClaim.claimName}" is being deleted. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.`, permanent: false };
    }
    return undefined;
  }

  /** The scheduler's binding: spec.nodeName set (a MODIFIED event), PodScheduled True. */
  private bind(run: PodRun): void {
    const pod = this.currentPod(run);
    if (!pod) return;
    (pod.spec as IPodSpec).nodeName = NODE_NAME;
    pod.status = this.computeStatus(pod, run);
    this.o.store.update(PODS, pod);
  }

  /** Image inspections by reference, once all are present; undefined when the pod went away. */
  private async waitForImages(run: PodRun): Promise<Map<string, Docker.ImageInspectInfo> | undefined> {
    const signal = run.abort.signal;
    let reported = false;
    for (;;) {
      if (this.stopped(run)) return undefined;
      const found = new Map<string, Docker.ImageInspectInfo>();
      const missing: RunContainer[] = [];
      for (const c of run.containers) {
        const image = c.spec.image ?? '';
        if (found.has(image)) continue;
        try {
          found.set(image, await this.o.docker.getImage(image).inspect());
        } catch (error) {
          if (!isNotFound(error) && statusCodeOf(error) !== 400) throw error;
          missing.push(c);
        }
      }
      for (const c of run.containers) if (found.has(c.spec.image ?? '') && c.waiting?.reason?.includes('Image')) c.waiting = undefined;
      if (missing.length === 0) {
        for (const c of run.containers) this.event(run, 'Normal', 'Pulled', `Container image "${c.spec.image ?? ''}" already present on machine`, { fieldPath: `spec.containers{${c.spec.name}}` });
        this.refreshStatus(run);
        return found;
      }
      if (!reported) {
        reported = true;
        for (const c of missing) {
          const image = c.spec.image ?? '';
          const fieldPath = `spec.containers{${c.spec.name}}`;
          const why = `rpc error: code = NotFound desc = failed to pull and unpack image "${image}": the Kubernetes emulator never pulls, and the image is not in the engine`;
          c.waiting = { reason: 'ErrImagePull', message: why };
          this.event(run, 'Normal', 'Pulling', `Pulling image "${image}"`, { fieldPath });
          this.event(run, 'Warning', 'Failed', `Failed to pull image "${image}": ${why}`, { fieldPath });
          this.event(run, 'Warning', 'Failed', 'Error: ErrImagePull', { fieldPath });
        }
        this.refreshStatus(run);
        await sleep(1000, signal);
        if (this.stopped(run)) return undefined;
      }
      for (const c of missing) {
        const image = c.spec.image ?? '';
        const fieldPath = `spec.containers{${c.spec.name}}`;
        c.waiting = { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"` };
        this.event(run, 'Normal', 'BackOff', `Back-off pulling image "${image}"`, { fieldPath });
        this.event(run, 'Warning', 'Failed', 'Error: ImagePullBackOff', { fieldPath });
      }
      this.refreshStatus(run);
      await sleep(3000, signal);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Configuration

  private resolveConfig(pod: KubeObject, images: Map<string, Docker.ImageInspectInfo>): PodConfig {
    const spec = pod.spec as IPodSpec;
    const ns = pod.metadata.namespace ?? 'default';
    const containers = new Map<string, ContainerConfig>();
    for (const c of spec.containers) {
      try {
        const env = this.resolveEnv(pod, c);
        const user = this.resolveUser(pod, c, images.get(c.image ?? ''));
        containers.set(c.name, { env, user });
      } catch (error) {
        if (error instanceof ConfigError) error.container = c.name;
        throw error;
      }
    }
    const files = new Map<string, TarEntry[]>();
    const fsGroup = spec.securityContext?.fsGroup;
    for (const v of spec.volumes ?? []) {
      const source = v.secret ? { kind: 'Secret', name: v.secret.secretName ?? '', items: v.secret.items, mode: v.secret.defaultMode, optional: v.secret.optional } : v.configMap ? { kind: 'ConfigMap', name: v.configMap.name ?? '', items: v.configMap.items, mode: v.configMap.defaultMode, optional: v.configMap.optional } : undefined;
      if (!source) continue;
      const data = this.configData(source.kind, ns, source.name);
      if (!data) {
        if (source.optional) {
          files.set(v.name, []);
          continue;
        }
        throw new ConfigError('FailedMount', `${source.kind === 'Secret' ? 'secret' : 'configmap'} "${source.name}" not found`, v.name);
      }
      const entries: TarEntry[] = [];
      const dirs = new Set<string>();
      const add = (path: string, content: Buffer, mode: number): void => {
        const parts = path.split('/');
        for (let i = 1; i < parts.length; i++) {
          const d = `${parts.slice(0, i).join('/')}/`;
          if (!dirs.has(d)) entries.push({ name: d, mode: 0o755, gid: fsGroup ?? 0 });
          dirs.add(d);
        }
        // With fsGroup the kubelet makes the files group-readable by it.
        entries.push({ name: path, mode: fsGroup !== undefined ? mode | 0o440 : mode, gid: fsGroup ?? 0, data: content });
      };
      const defaultMode = source.mode ?? 0o644;
      if (source.items?.length) {
        for (const it of source.items) {
          const content = data.get(it.key);
          if (content === undefined) {
            if (source.optional) continue;
            throw new ConfigError('FailedMount', `configmap references non-existent config key: ${it.key}`.replace('configmap', source.kind === 'Secret' ? 'secret' : 'configmap'), v.name);
          }
          add(it.path, content, it.mode ?? defaultMode);
        }
      } else for (const [k, content] of data) add(k, content, defaultMode);
      files.set(v.name, entries);
    }
    return { containers, files };
  }

  /** A secret's (decoded) or config map's data by key; undefined when the object is missing. */
  private configData(kind: string, ns: string, name: string): Map<string, Buffer> | undefined {
    const obj = this.o.store.get(kind === 'Secret' ? SECRETS : CONFIGMAPS, ns, name);
    if (!obj) return undefined;
    const out = new Map<string, Buffer>();
    if (isRecord(obj.data)) for (const [k, v] of Object.entries(obj.data)) out.set(k, kind === 'Secret' ? Buffer.from(String(v), 'base64') : Buffer.from(String(v)));
    if (isRecord(obj.binaryData)) for (const [k, v] of Object.entries(obj.binaryData)) out.set(k, Buffer.from(String(v), 'base64'));
    return out;
  }

  /** The container's environment: envFrom, then env (with $(VAR) references expanded). */
  private resolveEnv(pod: KubeObject, c: IContainer): Map<string, string> {
    const ns = pod.metadata.namespace ?? 'default';
    const env = new Map<string, string>();
    for (const from of c.envFrom ?? []) {
      const ref = from.secretRef ?? from.configMapRef;
      const kind = from.secretRef ? 'Secret' : 'ConfigMap';
      const data = this.configData(kind, ns, ref?.name ?? '');
      if (!data) {
        if (ref?.optional) continue;
        throw new ConfigError('CreateContainerConfigError', `${kind === 'Secret' ? 'secret' : 'configmap'} "${ref?.name ?? ''}" not found`);
      }
      for (const [k, v] of data) env.set(`${from.prefix ?? ''}${k}`, v.toString('utf8'));
    }
    for (const e of c.env ?? []) {
      const value = this.envValue(pod, e, env);
      if (value !== undefined) env.set(e.name, value);
    }
    return env;
  }

  private envValue(pod: KubeObject, e: IEnvVar, env: Map<string, string>): string | undefined {
    const ns = pod.metadata.namespace ?? 'default';
    if (!e.valueFrom) return expand(e.value ?? '', env);
    const ref = e.valueFrom.secretKeyRef ?? e.valueFrom.configMapKeyRef;
    if (ref) {
      const kind = e.valueFrom.secretKeyRef ? 'Secret' : 'ConfigMap';
      const data = this.configData(kind, ns, ref.name ?? '');
      if (!data) {
        if (ref.optional) return undefined;
        throw new ConfigError('CreateContainerConfigError', `${kind === 'Secret' ? 'secret' : 'configmap'} "${ref.name ?? ''}" not found`);
      }
      const v = data.get(ref.key);
      if (v === undefined) {
        if (ref.optional) return undefined;
        throw new ConfigError('CreateContainerConfigError', `couldn't find key ${ref.key} in ${kind} ${ns}/${ref.name ?? ''}`);
      }
      return v.toString('utf8');
    }
    const path = e.valueFrom.fieldRef?.fieldPath ?? '';
    const m = /^metadata\.(labels|annotations)\['([^']+)'\]$/.exec(path);
    if (m) return (m[1] === 'labels' ? pod.metadata.labels : pod.metadata.annotations)?.[m[2] ?? ''] ?? '';
    const spec = pod.spec as IPodSpec;
    const fields: Record<string, string | undefined> = {
      'metadata.name': pod.metadata.name,
      'metadata.namespace': ns,
      'metadata.uid': pod.metadata.uid,
      'spec.nodeName': NODE_NAME,
      'spec.serviceAccountName': spec.serviceAccountName,
    };
    return fields[path] ?? '';
  }

  /** The engine's User ("uid:gid") and the kubelet's runAsNonRoot check against the image. */
  private resolveUser(pod: KubeObject, c: IContainer, image: Docker.ImageInspectInfo | undefined): string | undefined {
    const psc = (pod.spec as IPodSpec).securityContext ?? {};
    const sc = c.securityContext ?? {};
    const uid = sc.runAsUser ?? psc.runAsUser;
    const gid = sc.runAsGroup ?? psc.runAsGroup;
    const imageUser = image?.Config.User ?? '';
    const where = `(pod: "${pod.metadata.name}_${pod.metadata.namespace ?? ''}(${pod.metadata.uid ?? ''})", container: ${c.name})`;
    if (sc.runAsNonRoot ?? psc.runAsNonRoot) {
      if (uid === 0) throw new ConfigError('CreateContainerConfigError', `container's runAsUser breaks non-root policy ${where}`);
      if (uid === undefined) {
        const u = imageUser.split(':')[0] ?? '';
        if (u === '' || u === '0' || u === 'root') throw new ConfigError('CreateContainerConfigError', `container has runAsNonRoot and image will run as root ${where}`);
        if (!/^\d+$/.test(u)) throw new ConfigError('CreateContainerConfigError', `container has runAsNonRoot and image has non-numeric user (${u}), cannot verify user is non-root ${where}`);
      }
    }
    if (uid !== undefined) return gid !== undefined ? `${uid}:${gid}` : String(uid);
    if (gid !== undefined) return `${imageUser.split(':')[0] || '0'}:${gid}`;
    return undefined;
  }

  // -------------------------------------------------------------------------------------------
  // Volumes

  /** Creates and fills the pod's volumes; returns, per volume name, how to mount it. */
  private async prepareVolumes(run: PodRun, pod: KubeObject, config: PodConfig, images: Map<string, Docker.ImageInspectInfo>): Promise<Map<string, VolumeSource>> {
    const spec = pod.spec as IPodSpec;
    const fsGroup = spec.securityContext?.fsGroup;
    const base = `${this.o.namePrefix}-${run.namespace}-${run.name}-${run.uid.slice(0, 8)}`;
    const out = new Map<string, VolumeSource>();
    const fill: Array<{ volume: IVolume; engineName: string; entries: TarEntry[]; rootMode?: number; rootModePodman?: number }> = [];
    for (const v of spec.volumes ?? []) {
      const engineName = `${base}-${v.name}`;
      if (v.emptyDir && v.emptyDir.medium === 'Memory') {
        // A tmpfs engine volume: mounted once and shared by the pod's containers.
        const size = parseQuantity(v.emptyDir.sizeLimit);
        const opts = [...(!this.isPodman && size ? [`size=${Math.ceil(size)}`] : []), 'mode=1777'];
        await this.o.docker.createVolume({ Name: engineName, Labels: this.labels(), Driver: 'local', DriverOpts: { type: 'tmpfs', device: 'tmpfs', o: opts.join(',') } });
        run.volumes.push(engineName);
        out.set(v.name, { kind: 'volume', name: engineName, tmpfs: true });
      } else if (v.emptyDir) {
        await this.o.docker.createVolume({ Name: engineName, Labels: this.labels() });
        run.volumes.push(engineName);
        out.set(v.name, { kind: 'volume', name: engineName });
        fill.push({ volume: v, engineName, entries: [], rootMode: fsGroup !== undefined ? 0o2777 : 0o777 });
      } else if (v.persistentVolumeClaim) {
        const pvc = this.o.store.get(PVCS, run.namespace, v.persistentVolumeClaim.claimName);
        const vol = pvc ? this.pvcVolumes.get(pvc.metadata.uid ?? '') : undefined;
        if (!vol) throw new Error(`the engine volume of PVC ${v.persistentVolumeClaim.claimName} is missing`);
        await vol.ready;
        out.set(v.name, { kind: 'volume', name: vol.name, readOnly: v.persistentVolumeClaim.readOnly === true });
        // Docker applies owner and mode to the volume root; Podman only the mode (so: writable by all).
        fill.push({ volume: v, engineName: vol.name, entries: [], rootMode: fsGroup !== undefined ? 0o2775 : 0o777, rootModePodman: 0o777 });
      } else if (v.secret || v.configMap) {
        await this.o.docker.createVolume({ Name: engineName, Labels: this.labels() });
        run.volumes.push(engineName);
        out.set(v.name, { kind: 'volume', name: engineName, readOnly: true });
        fill.push({ volume: v, engineName, entries: config.files.get(v.name) ?? [], rootMode: 0o755 });
      } else if (v.hostPath) {
        out.set(v.name, { kind: 'host', path: v.hostPath.path });
      }
    }
    // subPaths: created as directories when missing (as the kubelet does); bind-mounted from the host.
    const subPaths = new Map<string, Set<string>>();
    for (const c of spec.containers) {
      for (const m of c.volumeMounts ?? []) {
        if (!m.subPath) continue;
        const set = subPaths.get(m.name) ?? new Set<string>();
        set.add(m.subPath);
        subPaths.set(m.name, set);
      }
    }
    if (fill.length === 0 && subPaths.size === 0) return out;

    // A helper container (created, never started) mounts the volumes so files can be put in them.
    const image = spec.containers[0]?.image ?? '';
    const helperMounts = fill.map((f, i) => ({ Type: 'volume' as const, Source: f.engineName, Target: `/kv/v${i}` }));
    const helper = await this.o.docker.createContainer({
      name: `${base}-volumes`,
      Image: images.get(image)?.Id ?? image,
      Entrypoint: ['/kube-emulator-helper-never-started'],
      Cmd: [],
      Labels: this.labels(),
      NetworkDisabled: true,
      HostConfig: { Mounts: helperMounts, NetworkMode: 'none' },
    });
    try {
      for (const [i, f] of fill.entries()) {
        const gid = fsGroup ?? 0;
        if (f.rootMode !== undefined) {
          // Podman applies "./" to the mount point; Docker applies the entry named after it in its parent.
          await helper.putArchive(tarball([{ name: './', mode: this.isPodman ? (f.rootModePodman ?? f.rootMode) : f.rootMode, gid }]), { path: `/kv/v${i}` });
          if (!this.isPodman) await helper.putArchive(tarball([{ name: `v${i}/`, mode: f.rootMode, gid }]), { path: '/kv' });
        }
        if (f.entries.length) await helper.putArchive(tarball(f.entries), { path: `/kv/v${i}` });
        for (const sub of subPaths.get(f.volume.name) ?? []) {
          const exists = await helper.infoArchive({ path: `/kv/v${i}/${sub}` }).then(
            () => true,
            (e: unknown) => ignoreNotFound(e) ?? false,
          );
          if (!exists) {
            const parts = sub.split('/').filter(Boolean);
            await helper.putArchive(tarball(parts.map((_, j) => ({ name: `${parts.slice(0, j + 1).join('/')}/`, mode: 0o755, gid }))), { path: `/kv/v${i}` });
          }
        }
      }
    } finally {
      await helper.remove({ force: true }).catch(() => undefined);
    }
    for (const [name, src] of out) {
      if (src.kind === 'volume' && subPaths.has(name)) {
        const info = (await this.o.docker.getVolume(src.name).inspect()) as { Mountpoint: string };
        src.mountpoint = info.Mountpoint;
      }
    }
    return out;
  }

  // -------------------------------------------------------------------------------------------
  // Containers

  private aliasesFor(pod: KubeObject): string[] {
    const ns = pod.metadata.namespace ?? 'default';
    const out: string[] = [];
    for (const svc of this.o.store.list(SERVICES, ns)) {
      const selector = isRecord(svc.spec) && isRecord(svc.spec.selector) ? (svc.spec.selector as Record<string, string>) : undefined;
      if (!selector || Object.keys(selector).length === 0) continue;
      if (!matchesLabels(fromLabelSelectorObject({ matchLabels: selector }), pod.metadata.labels)) continue;
      const n = svc.metadata.name;
      out.push(n, `${n}.${ns}`, `${n}.${ns}.svc`, `${n}.${ns}.svc.cluster.local`);
    }
    return [...new Set(out)].sort();
  }

  private async createContainers(run: PodRun, pod: KubeObject, config: PodConfig, volumes: Map<string, VolumeSource>, images: Map<string, Docker.ImageInspectInfo>): Promise<void> {
    const spec = pod.spec as IPodSpec;
    const psc = spec.securityContext ?? {};
    run.aliases = this.aliasesFor(pod);
    let first: string | undefined;
    for (const [index, c] of run.containers.entries()) {
      if (this.stopped(run)) return;
      const cfg = config.containers.get(c.spec.name);
      const env = cfg?.env ?? new Map<string, string>();
      const sc = c.spec.securityContext ?? {};
      const limits = c.spec.resources?.limits ?? {};
      const memory = parseQuantity(limits.memory);
      const cpu = parseQuantity(limits.cpu);
      const securityOpt: string[] = [];
      if (sc.allowPrivilegeEscalation === false) securityOpt.push('no-new-privileges');
      const seccomp = sc.seccompProfile?.type ?? psc.seccompProfile?.type;
      if (seccomp === 'Unconfined') securityOpt.push('seccomp=unconfined');
      const apparmor = sc.appArmorProfile?.type ?? psc.appArmorProfile?.type;
      if (apparmor === 'Unconfined') securityOpt.push('apparmor=unconfined');
      const groups = [...(psc.fsGroup !== undefined ? [psc.fsGroup] : []), ...(psc.supplementalGroups ?? [])].map(String);
      const owner = index === 0;
      const options: Docker.ContainerCreateOptions = {
        name: c.engineName,
        Image: images.get(c.spec.image ?? '')?.Id ?? c.spec.image,
        Labels: this.labels({
          'paude.kube-emulator.namespace': run.namespace,
          'paude.kube-emulator.pod': run.name,
          'paude.kube-emulator.pod-uid': run.uid,
          'paude.kube-emulator.container': c.spec.name,
          'paude.kube-emulator.network-owner': String(owner),
        }),
        ...(c.spec.command ? { Entrypoint: c.spec.command.map((x) => expand(x, env)), Cmd: (c.spec.args ?? []).map((x) => expand(x, env)) } : c.spec.args ? { Cmd: c.spec.args.map((x) => expand(x, env)) } : {}),
        Env: [...env].map(([k, v]) => `${k}=${v}`),
        ...(c.spec.workingDir ? { WorkingDir: c.spec.workingDir } : {}),
        ...(cfg?.user ? { User: cfg.user } : {}),
        Tty: c.spec.tty === true,
        OpenStdin: c.spec.stdin === true,
        StdinOnce: c.spec.stdinOnce === true,
        // Docker shares the UTS namespace with container:<first>; Podman does not, so name each.
        ...(owner || this.isPodman ? { Hostname: (spec.hostname ?? run.name).slice(0, 63) } : {}),
        HostConfig: {
          NetworkMode: owner ? this.networkName : `container:${first ?? ''}`,
          Mounts: this.mountsFor(c.spec, volumes),
          ...(owner && spec.hostAliases?.length ? { ExtraHosts: spec.hostAliases.flatMap((h) => (h.hostnames ?? []).map((n) => `${n}:${h.ip ?? ''}`)) } : {}),
          ...(sc.capabilities?.drop?.length ? { CapDrop: sc.capabilities.drop } : {}),
          ...(sc.capabilities?.add?.length ? { CapAdd: sc.capabilities.add } : {}),
          ...(securityOpt.length ? { SecurityOpt: securityOpt } : {}),
          ...(sc.readOnlyRootFilesystem ? { ReadonlyRootfs: true } : {}),
          ...(memory ? { Memory: Math.max(6 * 1024 * 1024, Math.floor(memory)) } : {}),
          ...(cpu ? { NanoCpus: Math.round(cpu * 1e9) } : {}),
          ...(groups.length ? { GroupAdd: groups } : {}),
        },
        ...(owner ? { NetworkingConfig: { EndpointsConfig: { [this.networkName]: { Aliases: run.aliases } } } } : {}),
      };
      try {
        const created = await this.o.docker.createContainer(options);
        c.id = created.id;
        first ??= created.id;
        this.event(run, 'Normal', 'Created', `Created container ${c.spec.name}`, { fieldPath: `spec.containers{${c.spec.name}}` });
      } catch (error) {
        c.waiting = { reason: 'CreateContainerError', message: errorMessage(error) };
        this.event(run, 'Warning', 'Failed', `Error: ${errorMessage(error)}`, { fieldPath: `spec.containers{${c.spec.name}}` });
        this.refreshStatus(run);
        return;
      }
    }
    run.sandboxReady = true;
    for (const c of run.containers) {
      if (this.stopped(run)) return;
      await this.startContainer(run, c);
    }
    this.refreshStatus(run);
  }

  private mountsFor(c: IContainer, volumes: Map<string, VolumeSource>): Docker.MountSettings[] {
    const mounts: Docker.MountSettings[] = [];
    for (const m of c.volumeMounts ?? ([] as IVolumeMount[])) {
      const src = volumes.get(m.name);
      if (!src) continue;
      const readOnly = m.readOnly === true || src.readOnly === true;
      if (src.kind === 'host') mounts.push({ Type: 'bind', Source: m.subPath ? `${src.path}/${m.subPath}` : src.path, Target: m.mountPath, ReadOnly: readOnly });
      else if (m.subPath && src.mountpoint) mounts.push({ Type: 'bind', Source: `${src.mountpoint}/${m.subPath}`, Target: m.mountPath, ReadOnly: readOnly });
      // The kubelet never copies image content into a volume; Docker does on a volume's first
      // mount while it is empty, and takes the image directory's owner and mode with it (which
      // would undo fsGroup on the root of a PVC mounted at a path the image does not have).
      else mounts.push({ Type: 'volume', Source: src.name, Target: m.mountPath, ReadOnly: readOnly, ...(this.isPodman ? {} : { VolumeOptions: { NoCopy: true } as Docker.MountSettings['VolumeOptions'] }) });
    }
    return mounts;
  }

  private async startContainer(run: PodRun, c: RunContainer): Promise<void> {
    if (!c.id) return;
    try {
      await this.o.docker.getContainer(c.id).start();
      c.startError = undefined;
      this.event(run, 'Normal', 'Started', `Started container ${c.spec.name}`, { fieldPath: `spec.containers{${c.spec.name}}` });
    } catch (error) {
      const message = errorMessage(error);
      c.startError = { exitCode: 128, reason: 'StartError', message, finishedAt: timestamp(), containerID: `docker://${c.id}` };
      this.event(run, 'Warning', 'Failed', `Error: failed to create containerd task: failed to create shim task: ${message}`, { fieldPath: `spec.containers{${c.spec.name}}` });
    }
    c.dirty = true;
  }

  // -------------------------------------------------------------------------------------------
  // Service aliases: a pod's first container carries <svc>, <svc>.<ns>, <svc>.<ns>.svc and
  // <svc>.<ns>.svc.cluster.local for each service selecting it. When services change after the
  // pod started, the container is reconnected to the network with the new aliases (its IP may
  // change on Podman; the pod's status follows).

  syncAliases(namespace: string): void {
    for (const run of this.runs.values()) {
      if (run.namespace !== namespace || run.deleting) continue;
      const pod = this.currentPod(run);
      const owner = run.containers[0];
      if (!pod || !owner?.id || !run.sandboxReady) continue;
      const want = this.aliasesFor(pod);
      if (deepEqual(want, run.aliases)) continue;
      run.aliases = want;
      const id = owner.id;
      void this.track(
        (async () => {
          const net = this.o.docker.getNetwork(this.networkName);
          await net.disconnect({ Container: id, Force: true }).catch(ignoreNotFound);
          await net.connect({ Container: id, EndpointConfig: { Aliases: want } });
          owner.dirty = true;
        })().catch((e: unknown) => {
          if (!run.deleting && !this.closed) this.o.onUnknown(`reconnecting pod ${run.namespace}/${run.name} with service aliases failed: ${errorMessage(e)}`);
        }),
      );
    }
  }

  // -------------------------------------------------------------------------------------------
  // Status

  private schedulePoll(): void {
    if (this.closed) return;
    this.pollTimer = setTimeout(() => {
      void this.track(this.poll())
        .then(
          () => (this.pollFailures = 0),
          (e: unknown) => {
            // The engine may be briefly busy; only a failure that persists is worth reporting.
            if (!this.closed && ++this.pollFailures === 10) this.o.onUnknown(`polling the engine keeps failing: ${errorMessage(e)}`);
          },
        )
        .finally(() => this.schedulePoll());
    }, 300);
  }

  private async poll(): Promise<void> {
    const active = [...this.runs.values()].filter((r) => !r.deleting && r.containers.some((c) => c.id));
    if (active.length === 0) return;
    const listed = await this.o.docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${INSTANCE_LABEL}=${this.instanceId}`] }) });
    const byId = new Map(listed.map((c) => [c.Id, c]));
    for (const run of active) {
      let changed = false;
      for (const c of run.containers) {
        if (!c.id || run.deleting) continue;
        const entry = byId.get(c.id);
        if (!entry || entry.State !== c.engineState || c.dirty) {
          // Missing from the listing: created after it started, or really gone (inspect tells).
          try {
            c.info = await this.o.docker.getContainer(c.id).inspect();
            c.vanished = false;
          } catch (error) {
            if (run.deleting) break; // being removed meanwhile
            if (!isNotFound(error)) throw error;
            c.vanished = true;
          }
          c.dirty = false;
          c.engineState = entry?.State;
          changed = true;
        }
        if (this.restartDue(run, c)) changed = true;
      }
      if (changed && !run.deleting) this.refreshStatus(run);
    }
  }

  private exited(c: RunContainer): Terminated | undefined {
    if (c.vanished) return { exitCode: 137, reason: 'ContainerStatusUnknown', message: 'The container could not be located when the pod was terminated' };
    if (c.startError) return c.startError;
    const s = c.info?.State;
    if (!s || s.Running || !engineTime(s.StartedAt)) return undefined;
    return {
      exitCode: s.ExitCode,
      reason: s.OOMKilled ? 'OOMKilled' : s.ExitCode === 0 ? 'Completed' : 'Error',
      startedAt: engineTime(s.StartedAt),
      finishedAt: engineTime(s.FinishedAt),
      containerID: `docker://${c.id ?? ''}`,
    };
  }

  /** Restarts (restartPolicy Always, or OnFailure after a failure) after a back-off, as the kubelet does. */
  private restartDue(run: PodRun, c: RunContainer): boolean {
    const pod = this.currentPod(run);
    const policy = (pod?.spec as IPodSpec | undefined)?.restartPolicy ?? 'Always';
    if (c.restarting) return false;
    const done = this.exited(c);
    if (!done || c.vanished || policy === 'Never' || (policy === 'OnFailure' && done.exitCode === 0)) return false;
    const now = Date.now();
    if (c.backoffUntil === undefined) {
      c.backoffUntil = now + c.backoffMs;
      c.waiting = { reason: 'CrashLoopBackOff', message: `back-off ${Math.round(c.backoffMs / 1000)}s restarting failed container=${c.spec.name} pod=${run.name}_${run.namespace}(${run.uid})` };
      this.event(run, 'Warning', 'BackOff', `Back-off restarting failed container ${c.spec.name} in pod ${run.name}_${run.namespace}(${run.uid})`, { fieldPath: `spec.containers{${c.spec.name}}` });
      return true;
    }
    if (now < c.backoffUntil) return false;
    c.backoffUntil = undefined;
    c.backoffMs = Math.min(c.backoffMs * 2, 20_000);
    c.lastTerminated = done;
    c.restartCount++;
    c.restarting = true;
    void this.track(
      this.startContainer(run, c).finally(() => {
        c.restarting = false;
        c.waiting = undefined;
      }),
    );
    return true;
  }

  private containerState(c: RunContainer): { state: IContainerState; ready: boolean; started: boolean } {
    const done = this.exited(c);
    if ((c.backoffUntil !== undefined || c.restarting) && c.waiting) return { state: { waiting: c.waiting }, ready: false, started: false };
    if (done) return { state: { terminated: done }, ready: false, started: false };
    const s = c.info?.State;
    if (c.id && s?.Running) return { state: { running: { startedAt: engineTime(s.StartedAt) ?? timestamp() } }, ready: true, started: true };
    return { state: { waiting: c.waiting ?? { reason: 'ContainerCreating' } }, ready: false, started: false };
  }

  private computeStatus(pod: KubeObject, run: PodRun): Record<string, unknown> {
    const old = isRecord(pod.status) ? pod.status : {};
    const spec = pod.spec as IPodSpec;
    const policy = spec.restartPolicy ?? 'Always';
    const statuses: IContainerStatus[] = [];
    let allCreated = run.containers.length > 0;
    // Counted as the kubelet's getPhase counts: a container waiting to restart is "stopped".
    let running = 0;
    let waiting = 0;
    let stopped = 0;
    let failed = 0;
    for (const c of run.containers) {
      const { state, ready, started } = this.containerState(c);
      if (!c.id) allCreated = false;
      if (state.running) running++;
      else if (state.terminated) {
        stopped++;
        if (state.terminated.exitCode !== 0) failed++;
      } else if (c.lastTerminated) {
        stopped++;
        failed++;
      } else waiting++;
      const image = c.spec.image ?? '';
      statuses.push({
        name: c.spec.name,
        state,
        lastState: c.lastTerminated ? { terminated: c.lastTerminated } : {},
        ready,
        restartCount: c.restartCount,
        image,
        imageID: c.info?.Image ?? '',
        ...(c.id ? { containerID: `docker://${c.id}` } : {}),
        started,
      });
    }
    let phase = 'Pending';
    if (run.scheduled && allCreated && waiting === 0) {
      if (running > 0) phase = 'Running';
      else if (stopped > 0) {
        if (policy === 'Always') phase = 'Running';
        else if (policy === 'OnFailure') phase = failed > 0 ? 'Running' : 'Succeeded';
        else phase = failed > 0 ? 'Failed' : 'Succeeded';
      }
    }
    const allReady = statuses.length > 0 && statuses.every((s) => s.ready);
    const unready = statuses.filter((s) => !s.ready).map((s) => s.name);
    const oldConditions = Array.isArray(old.conditions) ? (old.conditions as Condition[]) : [];
    const cond = (type: string, ok: boolean, reason?: string, message?: string): Condition => {
      const status = ok ? 'True' : 'False';
      const prev = oldConditions.find((x) => x.type === type);
      return {
        type,
        status,
        lastProbeTime: null, // as the kubelet writes it
        lastTransitionTime: prev && prev.status === status ? prev.lastTransitionTime : timestamp(),
        ...(reason ? { reason } : {}),
        ...(message ? { message } : {}),
      };
    };
    const completed = phase === 'Succeeded' || phase === 'Failed';
    const conditions: Condition[] = [];
    if (run.scheduled) {
      conditions.push(cond('PodReadyToStartContainers', run.sandboxReady));
      conditions.push(cond('Initialized', true));
      conditions.push(cond('Ready', allReady, allReady ? undefined : completed ? 'PodCompleted' : 'ContainersNotReady', allReady || completed ? undefined : `containers with unready status: [${unready.join(' ')}]`));
      conditions.push(cond('ContainersReady', allReady, allReady ? undefined : completed ? 'PodCompleted' : 'ContainersNotReady', allReady || completed ? undefined : `containers with unready status: [${unready.join(' ')}]`));
      conditions.push(cond('PodScheduled', true));
    } else if (run.unschedulable) {
      conditions.push(cond('PodScheduled', false, 'Unschedulable', run.unschedulable));
    }
    const ownerInfo = run.containers[0]?.info;
    const podIP = ownerInfo?.NetworkSettings.Networks[this.networkName]?.IPAddress || (typeof old.podIP === 'string' ? old.podIP : undefined);
    return {
      phase,
      conditions,
      ...(run.scheduled ? { hostIP: this.gateway, hostIPs: [{ ip: this.gateway }] } : {}),
      ...(podIP ? { podIP, podIPs: [{ ip: podIP }] } : {}),
      ...(run.startTime ? { startTime: run.startTime } : {}),
      ...(run.scheduled ? { containerStatuses: statuses } : {}),
      qosClass: old.qosClass ?? 'BestEffort',
    };
  }

  /** Writes the pod's status if it changed (bumping resourceVersion, a MODIFIED event). */
  refreshStatus(run: PodRun): void {
    if (run.deleting) return;
    const pod = this.currentPod(run);
    if (!pod || pod.metadata.deletionTimestamp) return;
    const status = this.computeStatus(pod, run);
    if (deepEqual(status, pod.status)) return;
    pod.status = status;
    this.o.store.update(PODS, pod);
  }

  // -------------------------------------------------------------------------------------------
  // Events

  private event(run: PodRun, type: 'Normal' | 'Warning', reason: string, message: string, opts: { fieldPath?: string; component?: string } = {}): void {
    if (this.closed) return;
    const ns = run.namespace;
    const key = `${reason}\0${message}\0${opts.fieldPath ?? ''}`;
    const now = timestamp();
    const existing = run.events.get(key);
    if (existing) {
      const ev = this.o.store.get(EVENTS, ns, existing);
      if (ev) {
        ev.count = (typeof ev.count === 'number' ? ev.count : 1) + 1;
        ev.lastTimestamp = now;
        this.o.store.update(EVENTS, ev);
        return;
      }
    }
    const component = opts.component ?? 'kubelet';
    const pod = this.currentPod(run);
    const name = `${run.name}.${(BigInt(Date.now()) * 1_000_000n + BigInt(Math.floor(Math.random() * 1e6))).toString(16)}`;
    this.o.store.create(EVENTS, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace: ns, uid: randomUUID(), creationTimestamp: now },
      involvedObject: {
        kind: 'Pod',
        namespace: ns,
        name: run.name,
        uid: run.uid,
        apiVersion: 'v1',
        ...(pod?.metadata.resourceVersion ? { resourceVersion: pod.metadata.resourceVersion } : {}),
        ...(opts.fieldPath ? { fieldPath: opts.fieldPath } : {}),
      },
      reason,
      message,
      source: component === 'kubelet' ? { component, host: NODE_NAME } : { component },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      type,
      eventTime: null,
      reportingComponent: component,
      reportingInstance: component === 'kubelet' ? NODE_NAME : '',
    });
    run.events.set(key, name);
  }

  // -------------------------------------------------------------------------------------------
  // For exec, attach and logs

  target(pod: KubeObject, containerName: string): ContainerTarget | undefined {
    const spec = (pod.spec as IPodSpec).containers.find((c) => c.name === containerName);
    if (!spec) return undefined;
    const run = this.runs.get(pod.metadata.uid ?? '');
    const c = run?.containers.find((x) => x.spec.name === containerName);
    const state = c ? this.containerState(c) : undefined;
    return { pod, spec, id: c?.id, running: state?.state.running !== undefined, waiting: state?.state.waiting };
  }

  /** The container's output so far (and, with follow, until it ends), stdout and stderr merged. */
  async logs(id: string, tty: boolean, opts: { follow: boolean; tail?: number; timestamps: boolean; since?: number }, write: (chunk: Buffer) => void, signal: AbortSignal): Promise<void> {
    const container = this.o.docker.getContainer(id);
    const base = { stdout: true, stderr: true, timestamps: opts.timestamps, ...(opts.tail !== undefined ? { tail: opts.tail } : {}), ...(opts.since !== undefined ? { since: opts.since } : {}) };
    const demux = new Demuxer((_s, data) => write(data));
    const feed = (chunk: Buffer): void => (tty ? write(chunk) : demux.push(chunk));
    if (!opts.follow) {
      feed(await container.logs({ ...base, follow: false }));
      return;
    }
    const stream = await container.logs({ ...base, follow: true });
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        stream.removeAllListeners('data');
        (stream as unknown as { destroy?: () => void }).destroy?.();
        resolve();
      };
      signal.addEventListener('abort', stop, { once: true });
      stream.on('data', (chunk: Buffer) => feed(chunk));
      stream.on('end', stop);
      stream.on('error', stop);
    });
  }

  // -------------------------------------------------------------------------------------------

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.pollTimer);
    for (const run of this.runs.values()) run.abort.abort();
    while (this.tasks.size > 0) await Promise.allSettled([...this.tasks]);
    const filters = JSON.stringify({ label: [`${INSTANCE_LABEL}=${this.instanceId}`] });
    const containers = await this.o.docker.listContainers({ all: true, filters });
    // Containers sharing another's network namespace first (Podman refuses the other order).
    const shared = (c: Docker.ContainerInfo): boolean => c.Labels['paude.kube-emulator.network-owner'] === 'false';
    for (const c of [...containers.filter(shared), ...containers.filter((x) => !shared(x))]) await this.removeContainer(c.Id);
    for (const v of (await this.o.docker.listVolumes({ filters })).Volumes ?? []) await this.removeVolume(v.Name);
    for (const n of await this.o.docker.listNetworks({ filters })) {
      await this.o.docker
        .getNetwork(n.Id)
        .remove()
        .catch(ignoreNotFound);
    }
    this.runs.clear();
  }

  /** The node still runs (or is still removing) the pod. */
  has(uid: string): boolean {
    return this.runs.has(uid);
  }

}

/** A pod condition as written on the wire (lastProbeTime is null when there are no probes). */
type Condition = Omit<IPodCondition, 'lastProbeTime'> & { lastProbeTime: string | null };

interface ContainerConfig {
  env: Map<string, string>;
  user?: string;
}

interface PodConfig {
  containers: Map<string, ContainerConfig>;
  /** Files of secret and configMap volumes, by volume name. */
  files: Map<string, TarEntry[]>;
}

type VolumeSource = { kind: 'volume'; name: string; readOnly?: boolean; tmpfs?: boolean; mountpoint?: string } | { kind: 'host'; path: string; readOnly?: boolean };

/** Kubernetes' $(VAR) expansion ($$ escapes; unknown references stay as written). */
export function expand(s: string, env: Map<string, string>): string {
  return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name: string | undefined) => {
    if (m === '$$') return '$';
    return name !== undefined && env.has(name) ? (env.get(name) ?? '') : m;
  });
}
