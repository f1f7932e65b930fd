/**
 * A session's two NetworkPolicies: the agent reaches only DNS and its proxy; the proxy accepts
 * only its agent and goes out to anything but link-local addresses (squid enforces the
 * allowlist by name, which a NetworkPolicy cannot).
 */
import type { V1NetworkPolicy } from '@kubernetes/client-node';
import { LABELS, type SessionMeta } from './labels.js';
import { KUBE_PORTS } from './pod-layout.js';

export function networkPolicies(id: string, meta: SessionMeta): V1NetworkPolicy[] {
  const agentSelector = { matchLabels: { [LABELS.session]: id, [LABELS.role]: 'agent' } };
  const proxySelector = { matchLabels: { [LABELS.session]: id, [LABELS.role]: 'proxy' } };
  const dns = { to: [{ namespaceSelector: {}, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }], ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }] };
  const proxyPorts = [KUBE_PORTS.proxy, KUBE_PORTS.provider, KUBE_PORTS.otel].map((port) => ({ protocol: 'TCP', port }));
  return [
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: meta(`${id}-agent`, 'agent'),
      spec: {
        podSelector: agentSelector,
        policyTypes: ['Ingress', 'Egress'],
        ingress: [],
        egress: [{ to: [{ podSelector: proxySelector }], ports: proxyPorts }, dns],
      },
    },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: meta(`${id}-proxy`, 'proxy'),
      spec: {
        podSelector: proxySelector,
        policyTypes: ['Ingress', 'Egress'],
        // client-node's name for `from` (its serializer writes `from` on the wire).
        ingress: [{ _from: [{ podSelector: agentSelector }], ports: proxyPorts }],
        egress: [dns, { to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['169.254.0.0/16'] } }, { ipBlock: { cidr: '::/0', except: ['fe80::/10'] } }] }],
      },
    },
  ];
}
