/**
 * What paude's pods, their images and the backend that execs into them agree on: container
 * names, the proxy's ports, the directories mounted for them, and the hardening every
 * container gets.
 */
import type { V1SecurityContext } from '@kubernetes/client-node';

/** Ports of the proxy pod (its socat listeners in front of squid on loopback). */
export const KUBE_PORTS = { proxy: 13128, provider: 13129, otel: 14318 } as const;
/** Where the proxy's first configuration is mounted; paude-proxy-start copies it into its state dir. */
export const PROXY_INIT_DIR = '/etc/paude-init';
export const PROXY_KEY_DIR = '/etc/paude-key';
/** Shared by the agent's two containers: the start signal and the command's exit code. */
export const CONTROL_DIR = '/run/paude-control';
export const AGENT_CONTAINER = 'agent';
export const FILES_CONTAINER = 'files';

/** Every container: non-root, no privilege escalation, no capabilities, read-only root file system. */
export const lockedContainer = (): V1SecurityContext => ({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true, runAsNonRoot: true });
