/**
 * Sessions in a Kubernetes cluster (kubernetes://CONTEXT/NAMESPACE), reached with the
 * kubeconfig of backend.kubernetes or KUBECONFIG. The cluster pulls the images named in
 * backend.kubernetes. The client code is loaded only when a cluster is used.
 */
import { ExitCode, PaudeError } from '../../errors.js';
import type { BackendConfig, BackendContext, BackendStrategy, Discovered, RecordedEndpoint } from '../backend-strategy.js';
import { recordedFailure } from '../backend-strategy.js';
import type { SessionBackend } from '../session-backend.js';

const SCHEME = 'kubernetes://';

/** The cluster backend for the configured (or given) context and namespace. */
async function clusterBackend(config: Pick<BackendConfig, 'kubernetes'>, env: NodeJS.ProcessEnv, target: { context?: string; namespace?: string } = {}): Promise<SessionBackend> {
  const [{ connectKubernetes }, { KubernetesBackend }] = await Promise.all([import('./kube-client.js'), import('./kube-backend.js')]);
  const k = config.kubernetes ?? {};
  const context = target.context ?? k.context;
  const namespace = target.namespace ?? k.namespace;
  const conn = await connectKubernetes({ ...(k.kubeconfig ? { kubeconfig: k.kubeconfig } : {}), ...(context ? { context } : {}), ...(namespace ? { namespace } : {}) }, env);
  return new KubernetesBackend(conn, {
    ...(k.storageClass ? { storageClass: k.storageClass } : {}),
    ...(k.workspaceSize ? { workspaceSize: k.workspaceSize } : {}),
    ...(k.serviceAccount ? { serviceAccount: k.serviceAccount } : {}),
    ...(k.nodeSelector ? { nodeSelector: k.nodeSelector } : {}),
    ...(k.resources ? { resources: k.resources } : {}),
    ...(env.PAUDE_KUBE_PENDING_SECONDS ? { pendingTimeoutMs: Number(env.PAUDE_KUBE_PENDING_SECONDS) * 1000 } : {}),
  });
}

export function kubernetesStrategy(ctx: BackendContext): BackendStrategy {
  const { config, env } = ctx;
  // The configured cluster, connected once per registry (the dashboard lists every second).
  let configured: Promise<SessionBackend> | undefined;
  const theConfigured = (): Promise<SessionBackend> => {
    if (!configured) {
      configured = clusterBackend(config, env);
      configured.catch(() => (configured = undefined));
    }
    return configured;
  };
  const byEndpoint = new Map<string, SessionBackend>();
  const connect = async (endpoint: string): Promise<SessionBackend> => {
    const { parseKubeEndpoint } = await import('./kube-backend.js');
    const target = parseKubeEndpoint(endpoint);
    if (!target) throw new PaudeError(`${endpoint} is not a cluster address (expected kubernetes://CONTEXT/NAMESPACE)`, ExitCode.config);
    const known = byEndpoint.get(endpoint);
    if (known) return known;
    const backend = await clusterBackend(config, env, target);
    byEndpoint.set(endpoint, backend);
    return backend;
  };

  return {
    name: 'kubernetes',
    forStart: (c) => (c.type === 'kubernetes' ? { ok: true } : { ok: false, because: `backend.type is ${c.type}` }),
    forEndpoint: (endpoint) => (endpoint.startsWith(SCHEME) ? { ok: true } : { ok: false, because: `${endpoint} does not start with ${SCHEME}` }),
    needsConfig: () => true,
    connect,

    async discover(recorded: readonly RecordedEndpoint[]): Promise<Discovered> {
      const backends: SessionBackend[] = [];
      const unreachable: string[] = [];
      const rest = new Map(recorded.map((r) => [r.endpoint, r]));
      if (config.type === 'kubernetes') {
        try {
          const b = await theConfigured();
          backends.push(b);
          rest.delete(b.endpoint);
        } catch (error) {
          unreachable.push((error as Error).message.split('\n')[0] ?? '');
        }
      }
      for (const r of rest.values()) {
        try {
          backends.push(await connect(r.endpoint));
        } catch (error) {
          unreachable.push(recordedFailure(r, error));
        }
      }
      return { backends, unreachable };
    },

    async prepare() {
      const k = config.kubernetes ?? {};
      const missing = [!k.agentImage && 'agentImage', !k.proxyImage && 'proxyImage'].filter(Boolean);
      if (missing.length) {
        throw new PaudeError(`the kubernetes backend needs images the cluster can pull: set backend.kubernetes.${missing.join(' and backend.kubernetes.')} in your paude.json (docs/KUBERNETES.md says how to build and push them)`, ExitCode.config);
      }
      return { backend: await theConfigured(), images: { agent: k.agentImage ?? '', proxy: k.proxyImage ?? '', ...(k.otelCollectorImage ? { collector: k.otelCollectorImage } : {}) } };
    },
  };
}
