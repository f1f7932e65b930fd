import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../errors.js';
import { kubeError } from './kube-client.js';

const conn = { server: 'https://k8s.example.com:6443', context: 'prod', namespace: 'team-a' };
const status = (code: number, message: string, reason = ''): object => ({ code, body: JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message, reason, code }) });

describe('kubeError', () => {
  it('names the verb and the resource RBAC refused, and what to ask for', () => {
    const e = kubeError(conn, status(403, 'pods is forbidden: User "ada" cannot create resource "pods" in API group "" in the namespace "team-a"', 'Forbidden'), { verb: 'create', resource: 'pods', name: 'paude-abc123' });
    expect(e.message).toBe(
      'paude may not create pods in namespace team-a (context prod): pods is forbidden: User "ada" cannot create resource "pods" in API group "" in the namespace "team-a"; ask your cluster admin for "create" on "pods" (a Role and RoleBinding)',
    );
    expect(e.exitCode).toBe(ExitCode.engine);
  });

  it('tells quota, credentials, invalid objects and unreachable servers apart', () => {
    expect(kubeError(conn, status(403, 'pods "x" is forbidden: exceeded quota: team-quota, requested: pods=1, used: pods=10, limited: pods=10'), { verb: 'create', resource: 'pods' }).message).toMatch(/^the namespace team-a is out of quota: .*; free some \(paude gc\) or ask for more$/);
    expect(kubeError(conn, status(401, 'Unauthorized'), { verb: 'get', resource: 'version' }).message).toMatch(/^the cluster https:\/\/k8s\.example\.com:6443 \(context prod\) did not accept your credentials: Unauthorized; log in again/);
    expect(kubeError(conn, status(422, 'Pod "x" is invalid: spec.containers[0].image: Required value'), { verb: 'create', resource: 'pods', name: 'x' }).message).toBe('the cluster refused pods "x" as invalid: Pod "x" is invalid: spec.containers[0].image: Required value');
    const refused = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:6443'), { code: 'ECONNREFUSED' }) });
    expect(kubeError(conn, refused, { verb: 'get', resource: 'version' }).message).toBe(
      'the Kubernetes API server https://k8s.example.com:6443 (context prod) does not answer: ECONNREFUSED; check the cluster is up and your kubeconfig points at it',
    );
  });
});
