/**
 * Starts and removes one session's sandbox on a local (or remote) engine: the session link,
 * the proxy and the agent. Proxy and agent are created and started at the same time; the
 * agent's forwarder connects to the proxy on demand, so the caller decides whether to wait.
 */
import { join } from 'node:path';
import { renderPolicyRules } from '../../policy/policy-rules.js';
import { DEFAULT_BLOCKED_DESTINATIONS, renderSquidConfig } from '../../policy/squid-config.js';
import { PROXY_PORT } from '../../policy/proxy-env.js';
import { PROXY_STATE_MOUNT, ProxyStateDir } from '../../policy/proxy-state.js';
import type { EffectivePolicy } from '../../policy/effective-policy.js';
import { isHttpStatus, type Engine } from '../engine/engine.js';
import { createAgentContainer, type AgentContainerSpec } from './agent-container.js';
import { LABEL, sessionLabels } from './labels.js';
import { createProxyContainer, waitForProxy } from './proxy-container.js';
import { createSessionLink, removeVolume } from './session-link.js';

export interface SandboxSpec {
  sessionId: string;
  /** Host directory holding this session's state (the proxy's part goes in proxy/). */
  sessionDir: string;
  proxyImage: string;
  agent: Omit<AgentContainerSpec, 'name' | 'link' | 'labels'>;
  policy: EffectivePolicy;
  extraHosts?: Record<string, string>;
  egressNetwork?: string;
  /** Added to every resource (tests use it to find their leftovers). */
  labels?: Record<string, string>;
  waitForProxy?: boolean;
  /** Start the agent too (default); false leaves it created for the caller to attach and start. */
  startAgent?: boolean;
}

export interface Sandbox {
  sessionId: string;
  link: string;
  proxyId: string;
  agentId: string;
  state: ProxyStateDir;
}

export const PROXY_HELPER_PATH = '/usr/lib/paude/policy-helper';
export const PROXY_ERROR_DIR = '/etc/paude/squid-errors';

export async function startSandbox(engine: Engine, spec: SandboxSpec): Promise<Sandbox> {
  const state = new ProxyStateDir(join(spec.sessionDir, 'proxy'));
  const extra = spec.labels ?? {};
  const linkPromise = createSessionLink(engine, `${spec.sessionId}-link`, sessionLabels(spec.sessionId, 'link', extra));
  await state.prepare();
  await Promise.all([
    state.writeRules(renderPolicyRules(spec.policy)),
    state.writeSquidConf(
      renderSquidConfig({
        sessionId: spec.sessionId,
        agentAddress: '127.0.0.1',
        listenPort: PROXY_PORT,
        stateDir: PROXY_STATE_MOUNT,
        helperPath: PROXY_HELPER_PATH,
        errorDirectory: PROXY_ERROR_DIR,
        blockedDestinations: DEFAULT_BLOCKED_DESTINATIONS,
      }),
    ),
  ]);
  const link = await linkPromise;
  // Container-local volumes get the session's labels (so gc finds them) before the agent uses them.
  await Promise.all(
    (spec.agent.volumes ?? []).map((v) => engine.docker.createVolume({ Name: `${spec.sessionId}-${v.suffix}`, Labels: sessionLabels(spec.sessionId, 'volume', extra) })),
  );
  const [proxyId, agentId] = await Promise.all([
    createProxyContainer(engine, {
      name: `${spec.sessionId}-proxy`,
      image: spec.proxyImage,
      link,
      state,
      extraHosts: spec.extraHosts,
      egressNetwork: spec.egressNetwork,
      labels: sessionLabels(spec.sessionId, 'proxy', extra),
    }),
    createAgentContainer(engine, { ...spec.agent, name: spec.sessionId, link, labels: sessionLabels(spec.sessionId, 'agent', extra) }),
  ]);
  await Promise.all([engine.docker.getContainer(proxyId).start(), spec.startAgent === false ? undefined : engine.docker.getContainer(agentId).start()]);
  if (spec.waitForProxy ?? true) await waitForProxy(engine, proxyId, state);
  return { sessionId: spec.sessionId, link, proxyId, agentId, state };
}

/** Removes every container and volume labelled with the session, whatever state they are in. */
export async function removeSandbox(engine: Engine, sessionId: string): Promise<void> {
  const filters = JSON.stringify({ label: [`${LABEL.session}=${sessionId}`] });
  const containers = await engine.docker.listContainers({ all: true, filters });
  await Promise.all(
    containers.map(async (c) => {
      const container = engine.docker.getContainer(c.Id);
      try {
        // A forced remove makes Podman wait 10 s for a shell that ignores SIGTERM, and squid
        // takes over a second to stop: both are killed outright. (The access log is written
        // line by line by squid's log daemon; the session's log goes with the session.)
        if (c.State === 'running') await container.kill();
      } catch (error) {
        if (!isHttpStatus(error, 304, 404, 409, 500)) throw error;
      }
      try {
        await container.remove({ force: true, v: true });
      } catch (error) {
        if (!isHttpStatus(error, 404, 409)) throw error;
      }
    }),
  );
  const { Volumes } = await engine.docker.listVolumes({ filters });
  await Promise.all((Volumes ?? []).map((v) => removeVolume(engine, v.Name)));
}
