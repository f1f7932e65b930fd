import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { agentLinkCommand } from '../backends/local/session-link.js';

const script = (path: string): string => readFileSync(new URL(`../../assets/${path}`, import.meta.url), 'utf8');

/** Every socat listener (its listen address and options) in a shell script. */
const listeners = (text: string): string[] => [...text.matchAll(/socat [^\n]*?"?((?:TCP|UNIX)-LISTEN:[^\s"]+)/g)].map((m) => m[1] ?? '');

describe('the session link forwarders (socat in the agent and proxy entry points)', () => {
  const all = [...listeners(script('agent/paude-agent-init')), ...listeners(script('proxy/paude-proxy-start')), agentLinkCommand(3128).find((a) => a.startsWith('TCP-LISTEN:')) ?? ''];

  it('are all found', () => {
    expect(all.length).toBeGreaterThanOrEqual(10);
  });

  // socat listens with a queue of 5 unless told: connections an agent opens together while socat
  // forks for the earlier ones are dropped, and a client whose connection was dropped after its
  // handshake hangs until its own timeout (found at 1,000 requests/s in test/integration/load).
  it.each(all)('%s queues a burst of connections', (listener) => {
    expect(listener).toMatch(/,fork(,|$)/);
    expect(Number(/,backlog=([0-9]+)/.exec(listener)?.[1] ?? 0)).toBeGreaterThanOrEqual(1024);
  });
});
