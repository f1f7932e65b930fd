/**
 * SessionBackend on a Kubernetes cluster (docs/KUBERNETES.md). A session is the objects of
 * manifests.ts; paude talks to them only through the API: exec and attach over WebSocket
 * (v5.channel.k8s.io), pod status, pod logs. Like a remote engine, nothing is mounted from this
 * host: the workspace is copied into the PVC and synced back, the proxy's state is bridged.
 *
 * The agent pod has two containers with the same volumes: "agent" runs the session's command,
 * "files" only waits, so that the workspace, the home and the hook spool stay readable after
 * the command ended (a terminated container cannot be exec'd into). Copies therefore go
 * through "files"; the agent's terminal and its commands through "agent".
 */
import { Readable } from 'node:stream';
import type { TarSource } from '../../fs/tar.js';
import { ExitCode, PaudeError } from '../../errors.js';
import { prepareProxyState } from '../../policy/proxy-setup.js';
import type { AgentIo, AgentTerminal, ComponentState, ExecResult, SessionBackend, SessionSpec, SessionSummary } from '../session-backend.js';
import { credentialFiles } from './credentials.js';
import { isNotFound, kubeCall, kubeError, type CallSite, type KubeConnection } from './kube-client.js';
import { attachTo, execIn, execTerminal, UNTAR, type ExecOutput } from './kube-exec.js';
import { ANNOTATIONS, LABELS } from './labels.js';
import { sessionObjects, type KubeSessionOptions } from './manifests.js';
import { AGENT_CONTAINER, CONTROL_DIR, FILES_CONTAINER } from './pod-layout.js';

/** How long a pod may stay Pending (scheduling, pulling) before the start is given up. */
const PENDING_TIMEOUT_MS = 180_000;

export interface KubeBackendOptions extends Omit<KubeSessionOptions, 'namespace'> {
  /** How long to wait for pods to run (tests shorten it). */
  pendingTimeoutMs?: number;
}

interface Exited {
  code: number;
}

export class KubernetesBackend implements SessionBackend {
  readonly kind = 'kubernetes' as const;
  readonly remote = true;
  readonly endpoint: string;

  constructor(
    private readonly conn: KubeConnection,
    private readonly options: KubeBackendOptions = {},
  ) {
    this.endpoint = kubeEndpoint(conn.context, conn.namespace);
  }

  get namespace(): string {
    return this.conn.namespace;
  }

  private call<T>(at: CallSite, fn: () => Promise<T>): Promise<T> {
    return kubeCall(this.conn, at, fn);
  }

  async create(spec: SessionSpec): Promise<void> {
    const ns = this.conn.namespace;
    const proxy = await prepareProxyState({ sessionId: spec.id, sessionDir: spec.stateDir, policy: spec.policy, ...(spec.proxy.provider ? { provider: spec.proxy.provider } : {}) });
    const credentials = await credentialFiles(spec.agent.mounts, spec.projectRoot);
    const o = sessionObjects(spec, { ...this.options, namespace: ns }, proxy, credentials);
    const core = this.conn.core;
    // Secrets, configuration, storage and policies first: the pods refer to them, and no pod
    // may run a moment without its NetworkPolicy.
    for (const body of o.secrets) await this.call({ verb: 'create', resource: 'secrets', name: body.metadata?.name }, () => core.createNamespacedSecret({ namespace: ns, body }));
    await this.call({ verb: 'create', resource: 'configmaps', name: o.configMap.metadata?.name }, () => core.createNamespacedConfigMap({ namespace: ns, body: o.configMap }));
    await this.call({ verb: 'create', resource: 'persistentvolumeclaims', name: o.pvc.metadata?.name }, () => core.createNamespacedPersistentVolumeClaim({ namespace: ns, body: o.pvc }));
    for (const body of o.policies) {
      await this.call({ verb: 'create', resource: 'networkpolicies', name: body.metadata?.name }, () => this.conn.networking.createNamespacedNetworkPolicy({ namespace: ns, body }));
    }
    await this.call({ verb: 'create', resource: 'services', name: o.service.metadata?.name }, () => core.createNamespacedService({ namespace: ns, body: o.service }));
    await this.call({ verb: 'create', resource: 'pods', name: o.proxyPod.metadata?.name }, () => core.createNamespacedPod({ namespace: ns, body: o.proxyPod }));
    await this.call({ verb: 'create', resource: 'pods', name: o.agentPod.metadata?.name }, () => core.createNamespacedPod({ namespace: ns, body: o.agentPod }));
    // Both pods running (the agent's command waits for startAgent), or a clear reason why not.
    await Promise.all([this.waitRunning(`${spec.id}-proxy`, ['proxy']), this.waitRunning(spec.id, [AGENT_CONTAINER, FILES_CONTAINER])]);
  }

  /** Waits until the containers run; an image that cannot be pulled or a pod that cannot be scheduled is an error with the cluster's reason. */
  private async waitRunning(name: string, containers: string[]): Promise<void> {
    const deadline = Date.now() + (this.options.pendingTimeoutMs ?? PENDING_TIMEOUT_MS);
    for (;;) {
      const pod = await this.call({ verb: 'get', resource: 'pods', name }, () => this.conn.core.readNamespacedPod({ namespace: this.conn.namespace, name }));
      const statuses = pod.status?.containerStatuses ?? [];
      if (containers.every((c) => statuses.find((s) => s.name === c)?.state?.running)) return;
      for (const s of statuses) {
        const waiting = s.state?.waiting;
        if (waiting && /ImagePull|ErrImage|InvalidImageName/.test(waiting.reason ?? '')) {
          throw kubeStartError(`the cluster cannot pull the image ${s.image} for pod ${name}: ${waiting.reason}${waiting.message ? ` (${waiting.message})` : ''}; push it to a registry the cluster can pull from and name it in backend.kubernetes`);
        }
        if (waiting && /CreateContainerConfigError|CreateContainerError/.test(waiting.reason ?? '')) throw kubeStartError(`pod ${name} could not start ${s.name}: ${waiting.message ?? waiting.reason}`);
        const terminated = s.state?.terminated;
        if (terminated && containers.includes(s.name)) throw kubeStartError(`pod ${name}: ${s.name} ended as it started (exit ${terminated.exitCode}${terminated.reason ? `, ${terminated.reason}` : ''})`);
      }
      if (Date.now() > deadline) {
        const why = await this.podEvents(name);
        const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
        const reason = scheduled?.status === 'False' ? `${scheduled.reason ?? 'not scheduled'}: ${scheduled.message ?? ''}` : (pod.status?.phase ?? 'Pending');
        throw kubeStartError(`pod ${name} is still ${pod.status?.phase ?? 'Pending'} after ${Math.round((this.options.pendingTimeoutMs ?? PENDING_TIMEOUT_MS) / 1000)} s (${reason.trim()})${why ? `; events: ${why}` : ''}`);
      }
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  private async podEvents(name: string): Promise<string> {
    try {
      const list = await this.conn.core.listNamespacedEvent({ namespace: this.conn.namespace, fieldSelector: `involvedObject.name=${name}` });
      return list.items
        .filter((e) => e.type === 'Warning')
        .map((e) => `${e.reason ?? ''}: ${e.message ?? ''}`)
        .slice(-3)
        .join('; ');
    } catch {
      return '';
    }
  }

  // --- exec plumbing -----------------------------------------------------------------------

  /** Runs a command in a container; stdin (if any) is sent and closed; output is collected. */
  private run(pod: string, container: string, command: string[], stdin?: Buffer | Readable): Promise<ExecOutput> {
    return execIn(this.conn, pod, container, command, stdin);
  }

  async copyIntoAgent(id: string, directory: string, archive: TarSource): Promise<void> {
    const r = await this.run(id, FILES_CONTAINER, UNTAR.concat(directory), archive);
    if (r.exitCode !== 0) {
      // Who wrote where: the usual cause is a volume the agent's user may not write.
      const who = await this.run(id, FILES_CONTAINER, ['sh', '-c', 'echo "$(id), $(ls -ld "$1")"', 'sh', directory]).catch(() => undefined);
      throw new Error(`copying into ${directory} of ${id} failed (tar exit ${r.exitCode}): ${r.stderr.toString().trim()}${who ? ` [${who.stdout.toString().trim()}]` : ''}`);
    }
  }

  async copyFromAgent(id: string, path: string): Promise<Readable> {
    const parent = path.replace(/\/[^/]*\/?$/, '') || '/';
    const base = path.replace(/\/+$/, '').split('/').pop() ?? '.';
    const r = await this.run(id, FILES_CONTAINER, ['tar', '-c', '-f', '-', '-C', parent, base]);
    if (r.exitCode !== 0) {
      const error = new Error(`${path} could not be read from ${id}: ${r.stderr.toString().trim()}`) as Error & { statusCode?: number };
      error.statusCode = 404;
      throw error;
    }
    // Collected first: the exit status (a missing path) is known only when tar has ended.
    return Readable.from([r.stdout]);
  }

  attachAgent(id: string): Promise<AgentIo> {
    return attachTo(this.conn, id, AGENT_CONTAINER);
  }

  async startAgent(id: string): Promise<void> {
    const r = await this.run(id, FILES_CONTAINER, ['touch', `${CONTROL_DIR}/start`]);
    if (r.exitCode !== 0) throw new Error(`the agent of ${id} could not be started: ${r.stderr.toString().trim()}`);
  }

  async writeAgentFile(id: string, path: string, content: string): Promise<void> {
    // The path is ours (a fixed directory and a fixed name); the content goes through stdin.
    const r = await this.run(id, FILES_CONTAINER, ['sh', '-c', 'umask 077 && cat > "$1"', 'sh', path], Buffer.from(content));
    if (r.exitCode !== 0) throw new Error(`${path} could not be written in ${id}: ${r.stderr.toString().trim()}`);
  }

  private async agentExit(id: string): Promise<Exited | 'running' | 'missing'> {
    try {
      const pod = await this.conn.core.readNamespacedPod({ namespace: this.conn.namespace, name: id });
      const t = pod.status?.containerStatuses?.find((s) => s.name === AGENT_CONTAINER)?.state?.terminated;
      return t ? { code: t.exitCode } : 'running';
    } catch (error) {
      if (isNotFound(error)) return 'missing';
      throw kubeError(this.conn, error, { verb: 'get', resource: 'pods', name: id });
    }
  }

  async waitAgent(id: string): Promise<number> {
    for (let delay = 200; ; delay = Math.min(delay * 1.5, 2000)) {
      const state = await this.agentExit(id);
      if (state === 'missing') return 137;
      if (state !== 'running') return state.code;
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  async killAgent(id: string): Promise<void> {
    await this.run(id, AGENT_CONTAINER, ['sh', '-c', 'tmux kill-server 2>/dev/null; kill -TERM 1']).catch(() => undefined);
  }

  async exec(id: string, command: string[]): Promise<ExecResult> {
    let r: ExecOutput;
    try {
      r = await this.run(id, AGENT_CONTAINER, command);
    } catch (error) {
      // A command that has ended leaves its container unreachable; the holder of its files runs on.
      if ((await this.agentExit(id)) === 'running') throw error;
      r = await this.run(id, FILES_CONTAINER, command);
    }
    return { exitCode: r.exitCode, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') };
  }

  async execProxy(id: string, command: string[]): Promise<ExecResult> {
    const r = await this.run(`${id}-proxy`, 'proxy', command);
    return { exitCode: r.exitCode, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') };
  }

  async copyIntoProxy(id: string, directory: string, archive: TarSource): Promise<void> {
    const r = await this.run(`${id}-proxy`, 'proxy', UNTAR.concat(directory), archive);
    if (r.exitCode !== 0) throw new Error(`copying into the proxy of ${id} failed (tar exit ${r.exitCode}): ${r.stderr.toString().trim()}`);
  }

  openTerminal(id: string, command: string[], size: { rows: number; cols: number }, env: Record<string, string> = {}): Promise<AgentTerminal> {
    return execTerminal(this.conn, id, AGENT_CONTAINER, command, size, env);
  }

  /** The proxy pod has nothing left to do; the agent pod stays, for its files. */
  agentEnded(id: string): Promise<void> {
    return this.stop(id, 0);
  }

  async stop(id: string, graceSeconds: number): Promise<void> {
    const state = await this.agentExit(id);
    if (state === 'running') {
      // SIGHUP to what runs in the session's tmux, as when a terminal closes; else the command gets TERM.
      await this.run(id, AGENT_CONTAINER, ['sh', '-c', 'tmux kill-server 2>/dev/null || kill -TERM 1']).catch(() => undefined);
      const deadline = Date.now() + graceSeconds * 1000;
      while (Date.now() < deadline && (await this.agentExit(id)) === 'running') await new Promise((r) => setTimeout(r, 200));
      if ((await this.agentExit(id)) === 'running') await this.run(id, AGENT_CONTAINER, ['kill', '-KILL', '-1']).catch(() => undefined);
    }
    // The proxy goes (its state is mirrored here); the agent pod stays for its files.
    await this.deletePod(`${id}-proxy`);
  }

  private async deletePod(name: string): Promise<void> {
    try {
      await this.conn.core.deleteNamespacedPod({ namespace: this.conn.namespace, name, gracePeriodSeconds: 0 });
    } catch (error) {
      if (!isNotFound(error)) throw kubeError(this.conn, error, { verb: 'delete', resource: 'pods', name });
    }
  }

  async agentOutput(id: string): Promise<string> {
    try {
      return await this.conn.core.readNamespacedPodLog({ namespace: this.conn.namespace, name: id, container: AGENT_CONTAINER });
    } catch (error) {
      if (isNotFound(error)) return '';
      throw kubeError(this.conn, error, { verb: 'get', resource: 'pods/log', name: id });
    }
  }

  async inspect(id: string): Promise<SessionSummary | undefined> {
    return (await this.list(id)).find((s) => s.id === id);
  }

  /** Deletes every object labelled with the session: pods, the Service, Secrets, ConfigMap, PVC, NetworkPolicies. */
  async remove(id: string): Promise<void> {
    const ns = this.conn.namespace;
    const labelSelector = `${LABELS.session}=${id}`;
    const core = this.conn.core;
    const each = async (resource: string, list: () => Promise<{ items: Array<{ metadata?: { name?: string } }> }>, del: (name: string) => Promise<unknown>): Promise<void> => {
      const items = (await this.call({ verb: 'list', resource }, list)).items;
      await Promise.all(
        items.map(async (item) => {
          const name = item.metadata?.name ?? '';
          try {
            await del(name);
          } catch (error) {
            if (!isNotFound(error)) throw kubeError(this.conn, error, { verb: 'delete', resource, name });
          }
        }),
      );
    };
    await each('pods', () => core.listNamespacedPod({ namespace: ns, labelSelector }), (name) => core.deleteNamespacedPod({ namespace: ns, name, gracePeriodSeconds: 0 }));
    await Promise.all([
      each('services', () => core.listNamespacedService({ namespace: ns, labelSelector }), (name) => core.deleteNamespacedService({ namespace: ns, name })),
      each('secrets', () => core.listNamespacedSecret({ namespace: ns, labelSelector }), (name) => core.deleteNamespacedSecret({ namespace: ns, name })),
      each('configmaps', () => core.listNamespacedConfigMap({ namespace: ns, labelSelector }), (name) => core.deleteNamespacedConfigMap({ namespace: ns, name })),
      each('persistentvolumeclaims', () => core.listNamespacedPersistentVolumeClaim({ namespace: ns, labelSelector }), (name) => core.deleteNamespacedPersistentVolumeClaim({ namespace: ns, name })),
      each('networkpolicies', () => this.conn.networking.listNamespacedNetworkPolicy({ namespace: ns, labelSelector }), (name) => this.conn.networking.deleteNamespacedNetworkPolicy({ namespace: ns, name })),
    ]);
  }

  /** Sessions by their labels: pods, and PVCs left without pods (for gc). */
  async list(only?: string): Promise<SessionSummary[]> {
    const ns = this.conn.namespace;
    const labelSelector = only ? `${LABELS.session}=${only}` : `${LABELS.managed}=paude`;
    const [pods, claims] = await Promise.all([
      this.call({ verb: 'list', resource: 'pods' }, () => this.conn.core.listNamespacedPod({ namespace: ns, labelSelector })),
      this.call({ verb: 'list', resource: 'persistentvolumeclaims' }, () => this.conn.core.listNamespacedPersistentVolumeClaim({ namespace: ns, labelSelector })),
    ]);
    const sessions = new Map<string, SessionSummary>();
    const entry = (id: string): SessionSummary => {
      const s = sessions.get(id) ?? { id, backend: 'kubernetes' as const, agent: 'missing' as ComponentState, proxy: 'missing' as ComponentState };
      sessions.set(id, s);
      return s;
    };
    for (const pod of pods.items) {
      const id = pod.metadata?.labels?.[LABELS.session];
      if (!id) continue;
      const s = entry(id);
      s.dataDir ??= pod.metadata?.annotations?.[ANNOTATIONS.dataDir];
      if (pod.metadata?.labels?.[LABELS.role] === 'agent') {
        const c = pod.status?.containerStatuses?.find((x) => x.name === AGENT_CONTAINER);
        s.agent = c?.state?.terminated ? 'exited' : c?.state?.running ? 'running' : 'created';
        if (c?.state?.terminated) s.exitCode = c.state.terminated.exitCode;
        const root = pod.metadata.annotations?.[ANNOTATIONS.workspace];
        if (root) s.projectRoot = root;
        const created = pod.metadata.creationTimestamp;
        if (created) s.createdAt = new Date(created).toISOString();
      } else if (pod.metadata?.labels?.[LABELS.role] === 'proxy') {
        const phase = pod.status?.phase;
        s.proxy = phase === 'Running' ? 'running' : phase === 'Pending' ? 'created' : 'exited';
      }
    }
    for (const c of claims.items) {
      const id = c.metadata?.labels?.[LABELS.session];
      if (id) entry(id).dataDir ??= c.metadata?.annotations?.[ANNOTATIONS.dataDir];
    }
    return [...sessions.values()];
  }
}

/** How a cluster session's endpoint is written in its record: the context and the namespace. */
export const kubeEndpoint = (context: string, namespace: string): string => `kubernetes://${encodeURIComponent(context)}/${namespace}`;

export function parseKubeEndpoint(endpoint: string): { context: string; namespace: string } | undefined {
  const m = /^kubernetes:\/\/([^/]+)\/([a-z0-9-]+)$/.exec(endpoint);
  return m ? { context: decodeURIComponent(m[1] ?? ''), namespace: m[2] ?? '' } : undefined;
}

const kubeStartError = (message: string): PaudeError => new PaudeError(message, ExitCode.engine);
