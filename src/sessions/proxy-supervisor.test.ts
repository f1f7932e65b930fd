import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ComponentState, SessionBackend, SessionSummary } from '../backends/session-backend.js';
import { ProxySupervisor } from './proxy-supervisor.js';

/** A backend whose proxy and agent states the test sets; startProxy brings the proxy up. */
function fakeBackend(state: { proxy: ComponentState; agent: ComponentState; failStart?: boolean }): SessionBackend & { starts: number } {
  const fake = {
    starts: 0,
    proxyState: () => Promise.resolve(state.proxy),
    startProxy: () => {
      fake.starts++;
      if (state.failStart) return Promise.reject(new Error('no such image'));
      state.proxy = 'running';
      return Promise.resolve();
    },
    inspect: (id: string): Promise<SessionSummary> => Promise.resolve({ id, backend: 'podman', agent: state.agent, proxy: state.proxy }),
  };
  return fake as unknown as SessionBackend & { starts: number };
}

describe('ProxySupervisor', () => {
  afterEach(() => vi.useRealTimers());

  it('starts a proxy that died under a running agent again, and says so', async () => {
    const state = { proxy: 'exited' as ComponentState, agent: 'running' as ComponentState };
    const backend = fakeBackend(state);
    const lines: string[] = [];
    const s = new ProxySupervisor(backend, 'paude-abc123', { report: (l) => lines.push(l) });
    await s.check();
    expect(backend.starts).toBe(1);
    expect(s.restarts).toBe(1);
    expect(lines).toEqual(['paude-abc123: its proxy had stopped while the agent ran (the agent had no network meanwhile); started it again with the same policy']);
    await s.check();
    expect(backend.starts).toBe(1);
  });

  it('leaves the proxy of a session whose agent has ended (or is not there) alone', async () => {
    for (const agent of ['exited', 'created', 'missing'] as const) {
      const backend = fakeBackend({ proxy: 'exited', agent });
      await new ProxySupervisor(backend, 'paude-abc123').check();
      expect(backend.starts).toBe(0);
    }
  });

  it('waits longer each time a restarted proxy dies again soon, and reports a failed start', async () => {
    vi.useFakeTimers();
    const state: { proxy: ComponentState; agent: ComponentState; failStart?: boolean } = { proxy: 'exited', agent: 'running' };
    const backend = fakeBackend(state);
    const s = new ProxySupervisor(backend, 'paude-abc123');
    await s.check();
    expect(backend.starts).toBe(1);
    state.proxy = 'exited';
    await s.check();
    expect(backend.starts).toBe(1); // 1 s to wait
    vi.advanceTimersByTime(1000);
    await s.check();
    expect(backend.starts).toBe(2);
    state.proxy = 'exited';
    await s.check();
    vi.advanceTimersByTime(1500);
    await s.check();
    expect(backend.starts).toBe(2); // 2 s now
    vi.advanceTimersByTime(500);
    await s.check();
    expect(backend.starts).toBe(3);
    // Up for longer than 10 s: the next death is answered at once.
    state.proxy = 'exited';
    vi.advanceTimersByTime(11_000);
    await s.check();
    expect(backend.starts).toBe(4);

    state.proxy = 'exited';
    state.failStart = true;
    const lines: string[] = [];
    const failing = new ProxySupervisor(fakeBackend({ ...state }), 'paude-abc123', { report: (l) => lines.push(l) });
    await failing.check();
    expect(lines).toEqual(['paude-abc123: could not start its proxy again (no such image); the agent has no network']);
  });

  it('does nothing for a backend that cannot restart its proxy: no timer, no engine call, no report', async () => {
    const inspect = vi.fn(() => Promise.reject(new Error('not called')));
    const lines: string[] = [];
    const backend = { inspect } as unknown as SessionBackend;
    const s = new ProxySupervisor(backend, 'paude-abc123', { report: (l) => lines.push(l), intervalMs: 1 });
    s.start();
    await s.check();
    await new Promise((r) => setTimeout(r, 20));
    await s.stop();
    expect(inspect).not.toHaveBeenCalled();
    expect(s.restarts).toBe(0);
    expect(lines).toEqual([]);
    // The control: the same calls with a backend that can restart it do call the engine.
    const able = fakeBackend({ proxy: 'exited', agent: 'running' });
    const spy = vi.spyOn(able, 'inspect');
    await new ProxySupervisor(able, 'paude-abc123').check();
    expect(spy).toHaveBeenCalledTimes(1);
    expect(able.starts).toBe(1);
  });
});
