/**
 * A session proxy's first state in the session directory: squid.conf, the policy rules and the
 * provider route's key. Local engines mount the directory; remote engines and clusters get a
 * copy (the state bridge keeps it in step afterwards).
 */
import { join } from 'node:path';
import { writeFileAtomic } from '../fs/atomic-write.js';
import type { EffectivePolicy } from './effective-policy.js';
import { renderPolicyRules } from './policy-rules.js';
import { PROVIDER_PORT, PROXY_PORT } from './proxy-env.js';
import { PROXY_STATE_MOUNT, ProxyStateDir } from './proxy-state.js';
import { DEFAULT_BLOCKED_DESTINATIONS, providerKeyConf, renderSquidConfig } from './squid-config.js';

export const PROXY_HELPER_PATH = '/usr/lib/paude/policy-helper';
export const PROXY_ERROR_DIR = '/etc/paude/squid-errors';

export interface ProxySetup {
  sessionId: string;
  sessionDir: string;
  policy: EffectivePolicy;
  /** The model provider route whose key the proxy adds (squid-config.ts). */
  provider?: { host: string; port: number; tls: boolean; key: string };
}

export async function prepareProxyState(spec: ProxySetup): Promise<{ state: ProxyStateDir; squidConf: string; rules: string; providerConf?: string }> {
  const state = new ProxyStateDir(join(spec.sessionDir, 'proxy'));
  await state.prepare();
  const rules = renderPolicyRules(spec.policy);
  const squidConf = renderSquidConfig({
    sessionId: spec.sessionId,
    agentAddress: '127.0.0.1',
    listenPort: PROXY_PORT,
    stateDir: PROXY_STATE_MOUNT,
    helperPath: PROXY_HELPER_PATH,
    errorDirectory: PROXY_ERROR_DIR,
    blockedDestinations: DEFAULT_BLOCKED_DESTINATIONS,
    ...(spec.provider
      ? { provider: { listenPort: PROVIDER_PORT, host: spec.provider.host, port: spec.provider.port, tls: spec.provider.tls, keyFile: `${PROXY_STATE_MOUNT}/provider.conf` } }
      : {}),
  });
  const providerConf = spec.provider ? providerKeyConf(spec.provider.key) : undefined;
  await Promise.all([state.writeRules(rules), state.writeSquidConf(squidConf), ...(providerConf !== undefined ? [writeFileAtomic(state.providerConf, providerConf, 0o644)] : [])]);
  return { state, squidConf, rules, ...(providerConf !== undefined ? { providerConf } : {}) };
}

