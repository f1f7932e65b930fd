/**
 * Starts and removes one session's sandbox on a local (or remote) engine: the session link,
 * the proxy and the agent. Proxy and agent are created and started at the same time; the
 * agent's forwarder connects to the proxy on demand, so the caller decides whether to wait.
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { packTar, type ContextEntry } from '../../fs/tar.js';
import { prepareProxyState } from '../../policy/proxy-setup.js';
import { PROXY_STATE_MOUNT, type ProxyStateDir } from '../../policy/proxy-state.js';
import type { EffectivePolicy } from '../../policy/effective-policy.js';
import { isHttpStatus, type Engine } from '../engine/engine.js';
import { engineStep } from '../engine/engine-failure.js';
import { createAgentContainer, type AgentContainerSpec } from './agent-container.js';
import { LABEL, sessionLabels } from './labels.js';
import { createProxyContainer, waitForProxy } from './proxy-container.js';
import { createSessionLink, removeVolume } from './session-link.js';
import { faultPoint } from '../../faults.js';

export interface SandboxSpec {
  sessionId: string;
  /** Host directory holding this session's state (the proxy's part goes in proxy/). */
  sessionDir: string;
  proxyImage: string;
  agent: Omit<AgentContainerSpec, 'name' | 'link' | 'labels'>;
  /** The workspace's path in the agent: volumes below it are given to the agent's user. */
  workspace?: string;
  policy: EffectivePolicy;
  extraHosts?: Record<string, string>;
  /** The model provider route whose key the proxy adds (squid-config.ts). */
  provider?: { host: string; port: number; tls: boolean; key: string };
  egressNetwork?: string;
  /** Added to every resource (tests use it to find their leftovers). */
  labels?: Record<string, string>;
  waitForProxy?: boolean;
  /**
   * Start the agent too (default); false leaves it created for the caller to attach and start,
   * and the proxy still starting (Sandbox.proxyStarted; waitForProxy is then not done).
   */
  startAgent?: boolean;
}

export interface Sandbox {
  sessionId: string;
  link: string;
  proxyId: string;
  agentId: string;
  state: ProxyStateDir;
  /** The proxy's start: done when startSandbox returns, unless it left the agent to the caller. */
  proxyStarted: Promise<void>;
}


export async function startSandbox(engine: Engine, spec: SandboxSpec): Promise<Sandbox> {
  const extra = spec.labels ?? {};
  const [{ state }, link] = await allDone([prepareProxyState(spec).then((prepared) => (faultPoint('start.state-written'), prepared)), createSessionLink(engine, `${spec.sessionId}-link`, sessionLabels(spec.sessionId, 'link', extra))]);
  faultPoint('start.link-created');
  // An engine on another machine cannot mount this host's state directory: a volume holds it,
  // filled before the proxy starts and kept in step by the state bridge (sessions/state-bridge.ts).
  const stateVolume = engine.remote ? `${spec.sessionId}-state` : undefined;
  if (stateVolume) await engine.docker.createVolume({ Name: stateVolume, Labels: sessionLabels(spec.sessionId, 'volume', extra) });
  // Container-local volumes get the session's labels (so gc finds them) before the agent uses them.
  await allDone((spec.agent.volumes ?? []).map((v) => engine.docker.createVolume({ Name: `${spec.sessionId}-${v.suffix}`, Labels: sessionLabels(spec.sessionId, 'volume', extra) })));
  // On a remote engine the workspace is a fresh volume, owned by root: given to the agent's
  // user by a one-shot container that may only chown (Podman does this on copy-in, Docker not).
  if (engine.remote && spec.agent.volumes?.some((v) => v.suffix === 'workspace')) {
    await engineStep('helper', 'start', () => chownVolume(engine, spec.agent.image, `${spec.sessionId}-workspace`, spec.agent.user, sessionLabels(spec.sessionId, 'volume', extra)));
  }
  faultPoint('start.volumes-created');
  const [proxyId, agentId] = await allDone([
    engineStep('proxy', 'create', () => createProxyContainer(engine, {
      name: `${spec.sessionId}-proxy`,
      image: spec.proxyImage,
      link,
      state,
      ...(stateVolume ? { stateVolume } : {}),
      extraHosts: spec.extraHosts,
      egressNetwork: spec.egressNetwork,
      labels: sessionLabels(spec.sessionId, 'proxy', extra),
    })),
    engineStep('agent', 'create', () => createAgentContainer(engine, { ...spec.agent, name: spec.sessionId, link, labels: sessionLabels(spec.sessionId, 'agent', extra) })),
  ]);
  if (engine.flavor === 'docker') await engineStep('agent', 'copy files into', () => giveVolumesToAgent(engine, agentId, spec.agent, spec.workspace));
  faultPoint('start.containers-created');
  if (stateVolume) await engineStep('proxy', 'copy files into', async () => engine.docker.getContainer(proxyId).putArchive(packTar(await stateEntries(state)), { path: PROXY_STATE_MOUNT }), PROXY_STATE_MOUNT);
  const proxyStarted: Promise<void> = engineStep('proxy', 'start', async () => void (await engine.docker.getContainer(proxyId).start()));
  if (spec.startAgent === false) {
    // The caller starts the agent, and meanwhile the proxy starts (0.15–0.25 s, the longest
    // step of a start). Its failure is the caller's to take (Sandbox.proxyStarted).
    proxyStarted.catch(() => undefined);
    return { sessionId: spec.sessionId, link, proxyId, agentId, state, proxyStarted };
  }
  await allDone([proxyStarted, engineStep('agent', 'start', () => engine.docker.getContainer(agentId).start())]);
  faultPoint('start.proxy-started');
  if (spec.waitForProxy ?? true) await waitForProxy(engine, proxyId, state);
  return { sessionId: spec.sessionId, link, proxyId, agentId, state, proxyStarted };
}

/**
 * Promise.all that settles everything before it fails: a start that fails half way (a full
 * disk, an image missing) is removed by the session's labels, which must find everything it
 * made, also what was still being created when the first step failed.
 */
async function allDone<T extends readonly unknown[]>(steps: T): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const results = await Promise.allSettled(steps);
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as { -readonly [K in keyof T]: Awaited<T[K]> };
}

/**
 * Docker makes a fresh volume root's, so one that shadows a directory of the workspace (an
 * isolated directory, the project's .claude) would be closed to the agent: each is given to the
 * agent's user by a copy of its directory entry into the directory above it, which Docker unpacks
 * in the container's own mounts, i.e. onto the volume. Podman gives such a volume the owner of
 * the directory it covers, and unpacks a copy below a bind mount into the host's directory, not
 * the volume: this is never sent to Podman. (The agent's home is filled from the image, a
 * remote workspace volume given by chownVolume.)
 */
async function giveVolumesToAgent(engine: Engine, agentId: string, agent: SandboxSpec['agent'], root: string | undefined): Promise<void> {
  if (!root) return;
  const [uid, gid] = agent.user.split(':').map(Number);
  const mtime = Date.now() / 1000;
  await Promise.all(
    (agent.volumes ?? [])
      .filter((v) => v.target.startsWith(`${root}/`))
      .map((v) => engine.docker.getContainer(agentId).putArchive(packTar([{ path: basename(v.target), type: 'directory', mode: 0o755, content: Buffer.alloc(0), uid, gid, mtime }]), { path: dirname(v.target) })),
  );
}

async function chownVolume(engine: Engine, image: string, volume: string, owner: string, labels: Record<string, string>): Promise<void> {
  const container = await engine.docker.createContainer({
    Image: image,
    User: '0:0',
    Entrypoint: ['chown', owner, '/volume'],
    Cmd: [],
    Labels: labels,
    HostConfig: { Binds: [`${volume}:/volume:rw`], NetworkMode: 'none', CapDrop: ['ALL'], CapAdd: ['CHOWN'], SecurityOpt: ['no-new-privileges'], ReadonlyRootfs: true },
  });
  try {
    await container.start();
    const result = (await container.wait()) as { StatusCode: number };
    if (result.StatusCode !== 0) throw new Error(`could not give the workspace volume to ${owner} (chown exited ${result.StatusCode})`);
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}

/** The state directory as an archive for the proxy's state volume (modes as prepare() sets them). */
async function stateEntries(state: ProxyStateDir): Promise<ContextEntry[]> {
  const entries: ContextEntry[] = [{ path: '.', type: 'directory', mode: 0o755, content: Buffer.alloc(0) }];
  for (const dir of ['policy', 'log', 'pending', 'decisions', 'watchers']) entries.push({ path: dir, type: 'directory', mode: dir === 'policy' ? 0o755 : 0o777, content: Buffer.alloc(0) });
  entries.push({ path: 'squid.conf', type: 'file', mode: 0o644, content: await readFile(state.squidConf) });
  entries.push({ path: 'policy/rules', type: 'file', mode: 0o644, content: await readFile(state.rulesFile) });
  const provider = await readFile(state.providerConf).catch(() => undefined);
  if (provider) entries.push({ path: 'provider.conf', type: 'file', mode: 0o644, content: provider });
  return entries;
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
  faultPoint('rm.containers-removed');
  const { Volumes } = await engine.docker.listVolumes({ filters });
  await Promise.all((Volumes ?? []).map((v) => removeVolume(engine, v.Name)));
}
