/**
 * A real session sandbox for network tests: the proxy image built from assets/proxy on the
 * local base image, a normal network whose host gateway serves the made-up upstream hosts,
 * and the session network, proxy and agent from src/backends/local.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectEngine, type Engine } from '../../src/backends/engine/engine.js';
import { removeSandbox, startSandbox, type Sandbox } from '../../src/backends/local/local-sandbox.js';
import type { NetworkMode } from '../../src/config/schema.js';
import type { EffectivePolicy, PolicyEntry } from '../../src/policy/effective-policy.js';
import { parseNetworkEntry, formatNetworkRule } from '../../src/config/network-entry.js';
import { PROXY_PORT, proxyEnvironment } from '../../src/policy/proxy-env.js';
import { agentLinkCommand } from '../../src/backends/local/session-link.js';
import type { EngineHandle } from './engine-test.js';
import { execIn, type ExecResult } from './exec.js';
import { startUpstream, type Upstream } from './upstream.js';
import { gatewayOf } from './workspace.js';

export const TEST_HOSTS = ['allowed.test', 'sub.allowed.test', 'blocked.test', 'wild.test', 'a.wild.test', 'apex.test', 'x.apex.test', 'bad.apex.test', 'events.apex.test', 'ports.test', 'held.test', 'held2.test', 'held3.test'];

export function policyOf(p: { mode?: NetworkMode; allow?: string[]; deny?: string[]; timeout?: number }): EffectivePolicy {
  const entries = (texts: string[] = []): PolicyEntry[] =>
    texts.map((t) => {
      const parsed = parseNetworkEntry(t);
      if (!parsed.ok) throw new Error(`bad test entry ${t}: ${parsed.problem}`);
      return { rule: parsed.rule, text: formatNetworkRule(parsed.rule), source: 'session' as const };
    });
  return { mode: p.mode ?? 'restricted', allow: entries(p.allow), deny: entries(p.deny), approvalTimeoutSeconds: p.timeout ?? 30 };
}

export interface SandboxFixture {
  engine: Engine;
  sandbox: Sandbox;
  upstream: Upstream;
  egressNetwork: string;
  sessionDir: string;
  proxyImage: string;
  /** curl inside the agent; returns the HTTP status ('000' when no response) and the output. */
  curl(args: string[]): Promise<ExecResult & { status: string }>;
  exec(cmd: string[]): Promise<ExecResult>;
}

export async function startSandboxFixture(handle: EngineHandle, policy: EffectivePolicy): Promise<SandboxFixture> {
  const engine = await connectEngine(`unix://${handle.socketPath}`);
  const image = { ref: handle.images.proxy };

  const egress = await handle.docker.createNetwork({ Name: handle.uniqueName('egress'), Labels: handle.labels });
  handle.defer(() => egress.remove());
  const egressInfo = (await egress.inspect()) as { Name: string; IPAM: { Config: Array<{ Gateway?: string }> } };
  // A rootless engine's networks are in the user's network namespace: the host is reached at
  // one of its own addresses there (gatewayOf), not at the network's gateway.
  const gateway = handle.rootless ? await gatewayOf(handle) : egressInfo.IPAM.Config[0]?.Gateway;
  if (!gateway) throw new Error('the test egress network has no gateway');

  const sessionDir = await mkdtemp(join(tmpdir(), 'paude-session-'));
  handle.defer(() => rm(sessionDir, { recursive: true, force: true }));
  const sessionId = `paude-t${randomBytes(5).toString('hex')}`;
  handle.defer(() => removeSandbox(engine, sessionId));
  const sandbox = await startSandbox(engine, {
    sessionId,
    sessionDir,
    proxyImage: image.ref,
    policy,
    agent: {
      image: handle.baseImage,
      // What the agent image's init does: offer the session link as 127.0.0.1:3128, then run.
      command: ['sh', '-c', `${agentLinkCommand(PROXY_PORT).join(' ')} & exec sleep infinity`],
      env: proxyEnvironment(),
      user: '65534:65534',
    },
    extraHosts: Object.fromEntries(TEST_HOSTS.map((h) => [h, gateway])),
    egressNetwork: egressInfo.Name,
    labels: handle.labels,
  });
  // Podman creates a network's bridge (and the host's gateway address) only when a container
  // joins it, so the upstream servers can bind there only now that the proxy has.
  const upstream = await startUpstream(gateway);
  handle.defer(() => upstream.close());
  const exec = (cmd: string[]): Promise<ExecResult> => execIn(handle.docker, sandbox.agentId, cmd);
  return {
    engine,
    sandbox,
    upstream,
    egressNetwork: egressInfo.Name,
    sessionDir,
    proxyImage: image.ref,
    exec,
    curl: async (args) => {
      const r = await exec(['curl', '-sS', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '8', ...args]);
      return { ...r, status: r.stdout.trim() };
    },
  };
}
