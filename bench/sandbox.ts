/**
 * A real session sandbox for the network benchmarks, started with the product's startSandbox:
 * the proxy image of this run, an agent on the base image (curl, bash) offering the session
 * link as 127.0.0.1:3128 the way the agent image's init does, a network of the run's own whose
 * gateway address serves the made-up hosts, and beside the proxy on that network a "direct"
 * container: the same request without paude (the baseline).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeSandbox, startSandbox, type Sandbox } from '../dist/backends/local/local-sandbox.js';
import { agentLinkCommand } from '../dist/backends/local/session-link.js';
import type { EffectivePolicy, PolicyEntry } from '../dist/policy/effective-policy.js';
import { formatNetworkRule, parseNetworkEntry } from '../dist/config/network-entry.js';
import { renderPolicyRules } from '../dist/policy/policy-rules.js';
import { PROXY_PORT, proxyEnvironment } from '../dist/policy/proxy-env.js';
import { BASE_IMAGE, BENCH_LABELS, ignoreNotFound, type BenchEngine } from './engines.js';
import { execOk } from './exec.js';
import { startUpstream, type Upstream } from './upstream.js';

/** bench.test: latency and throughput; stream.test: the background traffic of P7; reload.test: the host P7 allows and denies. */
export const HOSTS = ['bench.test', 'stream.test', 'reload.test'] as const;
export const PROXY_URL = `http://127.0.0.1:${PROXY_PORT}`;

export interface BenchSandbox {
  sandbox: Sandbox;
  /** The container on the proxy's network making the same requests without paude. */
  directId: string;
  upstream: Upstream;
  /** The rules file text with or without reload.test allowed. */
  rules(allowReload: boolean): string;
}

const started = new WeakMap<BenchEngine, Promise<BenchSandbox>>();

/** One sandbox per engine per run, shared by the benchmarks that need one. */
export function benchSandbox(b: BenchEngine): Promise<BenchSandbox> {
  let s = started.get(b);
  if (!s) started.set(b, (s = startBenchSandbox(b)));
  return s;
}

async function startBenchSandbox(b: BenchEngine): Promise<BenchSandbox> {
  const { docker } = b.engine;
  const proxyImage = await b.proxyImage();
  const network = await docker.createNetwork({ Name: b.uniqueName('egress'), Labels: { ...BENCH_LABELS } });
  b.defer(() => network.remove().catch(ignoreNotFound));
  const info = (await network.inspect()) as { Name: string; IPAM: { Config: Array<{ Gateway?: string }> } };
  const gateway = info.IPAM.Config[0]?.Gateway;
  if (!gateway) throw new Error(`the benchmark network ${info.Name} has no gateway`);

  const sessionDir = await mkdtemp(join(tmpdir(), 'paude-bench-session-'));
  b.defer(() => rm(sessionDir, { recursive: true, force: true }));
  const sessionId = `paude-b${randomBytes(5).toString('hex')}`;
  b.defer(() => removeSandbox(b.engine, sessionId));
  const rules = (allowReload: boolean): string => renderPolicyRules(policyOf(allowReload ? [...HOSTS] : ['bench.test', 'stream.test']));
  const sandbox = await startSandbox(b.engine, {
    sessionId,
    sessionDir,
    proxyImage,
    policy: policyOf(['bench.test', 'stream.test']),
    agent: {
      image: BASE_IMAGE,
      command: ['sh', '-c', `${agentLinkCommand(PROXY_PORT).join(' ')} & exec sleep infinity`],
      env: proxyEnvironment(),
      user: '65534:65534',
    },
    extraHosts: Object.fromEntries(HOSTS.map((h) => [h, gateway])),
    egressNetwork: info.Name,
    labels: { ...BENCH_LABELS },
  });

  const direct = await docker.createContainer({
    name: b.uniqueName('direct'),
    Image: BASE_IMAGE,
    Cmd: ['sleep', 'infinity'],
    Labels: { ...BENCH_LABELS },
    HostConfig: { NetworkMode: info.Name, ExtraHosts: HOSTS.map((h) => `${h}:${gateway}`) },
  });
  // Killed first: a forced remove waits out the stop timeout of a PID 1 that ignores SIGTERM.
  b.defer(() => direct.remove({ force: true }).catch(ignoreNotFound));
  b.defer(() => direct.kill().catch(() => undefined));
  await direct.start();

  // Podman creates the bridge (and the gateway address) only once a container joins it.
  const upstream = await startUpstream(gateway);
  b.defer(() => upstream.close());

  // Both paths answer before anything is measured.
  await execOk(docker, sandbox.agentId, ['curl', '-sSf', '-o', '/dev/null', '--retry', '20', '--retry-delay', '0', '--retry-all-errors', '-x', PROXY_URL, 'http://bench.test/']);
  await execOk(docker, direct.id, ['curl', '-sSf', '-o', '/dev/null', '--noproxy', '*', 'http://bench.test/']);
  return { sandbox, directId: direct.id, upstream, rules };
}

function policyOf(allow: readonly string[]): EffectivePolicy {
  const entries: PolicyEntry[] = allow.map((text) => {
    const parsed = parseNetworkEntry(text);
    if (!parsed.ok) throw new Error(`bad benchmark entry ${text}: ${parsed.problem}`);
    return { rule: parsed.rule, text: formatNetworkRule(parsed.rule), source: 'session' };
  });
  return { mode: 'restricted', allow: entries, deny: [], approvalTimeoutSeconds: 30 };
}
