import { describe, expect, it } from 'vitest';
import { PaudeError } from '../errors.js';
import { BackendRegistry, recordedEndpoints, type BackendStrategy, type Discovered } from './registry.js';
import type { SessionBackend } from './session-backend.js';

const ctx = { config: { type: 'auto' as const }, env: {} };

/** A stand-in backend: only the fields the registry reads. */
const backend = (endpoint: string): SessionBackend => ({ endpoint, kind: 'podman', remote: false }) as unknown as SessionBackend;

function fake(name: string, scheme: string, options: { start?: boolean; found?: Discovered; connect?: (e: string) => Promise<SessionBackend> } = {}): BackendStrategy & { connects: string[] } {
  const connects: string[] = [];
  return {
    name,
    connects,
    forStart: () => (options.start ? { ok: true } : { ok: false, because: `${name} is not configured` }),
    forEndpoint: (e) => (e.startsWith(scheme) ? { ok: true } : { ok: false, because: `not ${scheme}` }),
    needsConfig: (e) => e.startsWith('ssh://'),
    connect: (e) => {
      connects.push(e);
      return options.connect ? options.connect(e) : Promise.resolve(backend(e));
    },
    discover: (recorded) => Promise.resolve(options.found ?? { backends: recorded.map((r) => backend(r.endpoint)), unreachable: [] }),
    prepare: () => Promise.resolve({ backend: backend(`${scheme}new`), images: { agent: 'a', proxy: 'p' } }),
  };
}

describe('the backend registry', () => {
  it('starts a session with the first strategy that fits, and says why none did', () => {
    const a = fake('first', 'a://');
    const b = fake('second', 'b://', { start: true });
    expect(new BackendRegistry(ctx, [a, b]).forStart(ctx.config)).toBe(b);
    const none = () => new BackendRegistry(ctx, [a, fake('other', 'c://')]).forStart(ctx.config);
    expect(none).toThrow(PaudeError);
    expect(none).toThrow('no backend can run a session with backend.type "auto" (first: first is not configured; other: other is not configured)');
  });

  it('sends a recorded endpoint to the strategy that owns it, connects once, and again after a failure', async () => {
    let fail = true;
    const a = fake('a', 'a://', { connect: (e) => (fail ? Promise.reject(new Error('down')) : Promise.resolve(backend(e))) });
    const b = fake('b', 'b://');
    const registry = new BackendRegistry(ctx, [a, b]);
    expect((await registry.connect('b://x')).endpoint).toBe('b://x');
    await registry.connect('b://x');
    expect(b.connects).toEqual(['b://x']);
    await expect(registry.connect('a://y')).rejects.toThrow('down');
    fail = false;
    expect((await registry.connect('a://y')).endpoint).toBe('a://y');
    expect(a.connects).toEqual(['a://y', 'a://y']);
    expect(() => registry.connect('z://w')).toThrow('no backend can reach z://w (a: not a://; b: not b://)');
  });

  it('lists what every strategy found, each engine once, and names recorded endpoints nobody owns', async () => {
    const a = fake('a', 'a://', { found: { backends: [backend('a://1'), backend('a://1')], unreachable: ['a://2 did not answer'] } });
    const b = fake('b', 'b://');
    const records = [
      { id: 'paude-1', endpoint: 'b://r', backend: 'docker' as const },
      { id: 'paude-2', endpoint: 'b://r', backend: 'docker' as const },
      { id: 'paude-3', endpoint: 'q://lost', backend: 'podman' as const },
    ];
    const found = await new BackendRegistry(ctx, [a, b]).discover(recordedEndpoints(records));
    expect(found.backends.map((x) => x.endpoint)).toEqual(['a://1', 'b://r']);
    expect(found.unreachable).toEqual(['a://2 did not answer', 'q://lost (recorded for paude-3) did not answer: no backend knows this kind of endpoint']);
  });

  it('knows the built-in kinds: engines on this host and over ssh, and clusters', () => {
    const registry = new BackendRegistry(ctx);
    expect(registry.strategies.map((s) => s.name)).toEqual(['kubernetes', 'container engine']);
    expect(registry.forStart({ type: 'kubernetes' }).name).toBe('kubernetes');
    expect(registry.forStart({ type: 'podman' }).name).toBe('container engine');
    // Only a local socket is reached without the user's configuration (a quick attach).
    expect(registry.selfContained('unix:///run/podman/podman.sock')).toBe(true);
    expect(registry.selfContained('ssh://me@box/run/podman/podman.sock')).toBe(false);
    expect(registry.selfContained('kubernetes://ctx/ns')).toBe(false);
  });

  it('refuses a cluster session without images the cluster can pull, in one sentence', async () => {
    const registry = new BackendRegistry({ config: { type: 'kubernetes', kubernetes: { agentImage: 'reg.test/agent:1' } }, env: {} });
    const options = { config: { backend: { type: 'kubernetes' } } } as unknown as Parameters<BackendRegistry['prepare']>[0];
    await expect(registry.prepare(options)).rejects.toThrow('the kubernetes backend needs images the cluster can pull: set backend.kubernetes.proxyImage in your paude.json');
  });
});
