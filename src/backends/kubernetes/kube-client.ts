/**
 * The cluster connection: kubeconfig (the current context by default, or --context), the
 * namespace (--namespace, backend.kubernetes.namespace, the context's own, "default"), and
 * the API calls paude makes, each named by verb and resource so that a refusal says exactly
 * which permission is missing. client-node is loaded only here, and only for this backend.
 */
import type * as K8s from '@kubernetes/client-node';
import { ExitCode, PaudeError } from '../../errors.js';
import { quote } from '../../errors.js';

export interface KubeTarget {
  /** A kubeconfig file; default: KUBECONFIG, then ~/.kube/config (client-node's rules). */
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

export interface KubeConnection {
  k8s: typeof K8s;
  config: K8s.KubeConfig;
  core: K8s.CoreV1Api;
  networking: K8s.NetworkingV1Api;
  context: string;
  namespace: string;
  server: string;
}

/** Loads the kubeconfig and checks that the API server answers (GET /version, 10 s). */
export async function connectKubernetes(target: KubeTarget, env: NodeJS.ProcessEnv = process.env): Promise<KubeConnection> {
  const k8s = await import('@kubernetes/client-node');
  const config = new k8s.KubeConfig();
  try {
    if (target.kubeconfig) config.loadFromFile(target.kubeconfig);
    else if (env.KUBECONFIG) config.loadFromFile(env.KUBECONFIG.split(':')[0] ?? '');
    else config.loadFromDefault();
  } catch (error) {
    throw new PaudeError(`the kubeconfig ${target.kubeconfig ?? env.KUBECONFIG ?? '~/.kube/config'} could not be read: ${(error as Error).message}`, ExitCode.engine);
  }
  if (target.context) {
    if (!config.getContexts().some((c) => c.name === target.context)) {
      throw new PaudeError(`the kubeconfig has no context ${quote(target.context)} (it has: ${config.getContexts().map((c) => c.name).join(', ') || 'none'}); use one of those with --context`, ExitCode.engine);
    }
    config.setCurrentContext(target.context);
  }
  const context = config.getCurrentContext();
  const cluster = config.getCurrentCluster();
  if (!context || !cluster) throw new PaudeError('the kubeconfig has no current context: name one with --context, or set one with kubectl config use-context');
  const namespace = target.namespace ?? config.getContextObject(context)?.namespace ?? 'default';
  const conn: KubeConnection = { k8s, config, core: config.makeApiClient(k8s.CoreV1Api), networking: config.makeApiClient(k8s.NetworkingV1Api), context, namespace, server: cluster.server };
  const version = config.makeApiClient(k8s.VersionApi);
  try {
    await Promise.race([version.getCode(), new Promise((_, reject) => setTimeout(() => reject(new Error('no answer within 10 s')), 10_000).unref())]);
  } catch (error) {
    throw kubeError(conn, error, { verb: 'get', resource: 'version' });
  }
  return conn;
}

export interface CallSite {
  verb: string;
  resource: string;
  name?: string;
}

interface StatusBody {
  message?: string;
  reason?: string;
  details?: { causes?: Array<{ message?: string }> };
}

function statusOf(error: unknown): { code: number; body: StatusBody } | undefined {
  const e = error as { code?: unknown; body?: unknown };
  if (typeof e.code !== 'number') return undefined;
  let body: StatusBody = {};
  if (typeof e.body === 'string') {
    try {
      body = JSON.parse(e.body) as StatusBody;
    } catch {
      body = { message: e.body };
    }
  } else if (e.body && typeof e.body === 'object') body = e.body;
  return { code: e.code, body };
}

/** One sentence for what went wrong talking to the cluster: unreachable, unauthorized, RBAC, quota, invalid. */
export function kubeError(conn: Pick<KubeConnection, 'server' | 'context' | 'namespace'>, error: unknown, at: CallSite): PaudeError {
  const status = statusOf(error);
  const what = `${at.resource}${at.name ? ` "${at.name}"` : ''}`;
  if (!status) {
    const why = systemCode(error) ?? (error as Error).message;
    return new PaudeError(`the Kubernetes API server ${conn.server} (context ${conn.context}) does not answer: ${why}; check the cluster is up and your kubeconfig points at it`, ExitCode.engine);
  }
  const message = status.body.message ?? `HTTP ${status.code}`;
  switch (status.code) {
    case 401:
      return new PaudeError(`the cluster ${conn.server} (context ${conn.context}) did not accept your credentials: ${message}; log in again (your kubeconfig's user) and retry`, ExitCode.engine);
    case 403:
      if (/exceeded quota/i.test(message)) return new PaudeError(`the namespace ${conn.namespace} is out of quota: ${message}; free some (paude gc) or ask for more`, ExitCode.engine);
      return new PaudeError(`paude may not ${at.verb} ${at.resource} in namespace ${conn.namespace} (context ${conn.context}): ${message}; ask your cluster admin for "${at.verb}" on "${at.resource}" (a Role and RoleBinding)`, ExitCode.engine);
    case 404:
      return new PaudeError(`${what} was not found in namespace ${conn.namespace} (context ${conn.context}): ${message}`, ExitCode.engine);
    case 409:
      return new PaudeError(`${what} already exists in namespace ${conn.namespace}: ${message}`, ExitCode.engine);
    case 422:
      return new PaudeError(`the cluster refused ${what} as invalid: ${message}`, ExitCode.engine);
    default:
      return new PaudeError(`the cluster answered ${status.code} to ${at.verb} ${what}: ${message}`, ExitCode.engine);
  }
}

/** An API call whose failure becomes kubeError's sentence for it. */
export async function kubeCall<T>(conn: Pick<KubeConnection, 'server' | 'context' | 'namespace'>, at: CallSite, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw kubeError(conn, error, at);
  }
}

/** ECONNREFUSED, ENOTFOUND, ETIMEDOUT... from an error or its causes (fetch wraps them). */
function systemCode(error: unknown): string | undefined {
  let e: unknown = error;
  for (let i = 0; i < 4 && e && typeof e === 'object'; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) return code;
    const errors = (e as { errors?: unknown[] }).errors;
    e = Array.isArray(errors) && errors.length ? errors[0] : (e as { cause?: unknown }).cause;
  }
  return undefined;
}

export const isNotFound = (error: unknown): boolean => statusOf(error)?.code === 404;
