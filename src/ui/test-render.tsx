/**
 * For component tests: the App with a fresh store, fake services that record what they were
 * asked, the user's key overrides (as ui.keys), and ink-testing-library's fixed-width terminal
 * (100 columns). Frames are plain text. With `handOver`, enter goes through the runner's attach
 * (the controller suspended around services.attach) instead of only being recorded.
 */
import { render } from 'ink-testing-library';
import { vi } from 'vitest';
import { App } from './app.js';
import { startController } from './controller.js';
import { attachFromDashboard } from './hand-over.js';
import { keyTable } from './keys.js';
import type { DashboardServices } from './services.js';
import { createDashboardStore, type DashboardStore, type HeldApproval, type Scope, type SessionRow } from './store.js';

export const ROWS: SessionRow[] = [
  {
    id: 'paude-aaaaaa',
    status: 'detached',
    backend: 'podman',
    workspace: '/src/alpha',
    network: 'restricted',
    blocked: 2,
    attachable: true,
    started: new Date(Date.now() - 90_000).toISOString(),
    tokens: { input: 1200, output: 340, cacheRead: 300, cacheCreation: 0, costUsd: 0.0123 },
  },
  { id: 'paude-bbbbbb', status: 'running', backend: 'docker', workspace: '/src/beta', network: 'ask', blocked: 0, attachable: false, started: new Date(Date.now() - 5_000).toISOString() },
];

export function fakeServices(overrides: Partial<DashboardServices> = {}): DashboardServices {
  return {
    listSessions: vi.fn(() => Promise.resolve({ rows: ROWS })),
    followEvents: vi.fn(() => () => undefined),
    followApprovals: vi.fn(() => () => undefined),
    decide: vi.fn((held: HeldApproval, scope: Scope | 'deny') => Promise.resolve(`decided ${held.host} ${scope}`)),
    policy: vi.fn(() => Promise.resolve([{ effect: 'allow' as const, text: 'api.anthropic.com', source: 'builtin' }])),
    checkEntry: vi.fn((text: string) => (/^[a-z0-9.-]+$/.test(text) ? undefined : `"${text}" is not a valid entry (expected host, *.host, .host, host:port, ip:ADDRESS or @group)`)),
    changePolicy: vi.fn((session: string, effect: string, entry: string, scope: string) => Promise.resolve(`${effect} ${entry} ${scope} ${session}`)),
    removeSessionEntry: vi.fn((_session: string, _effect: string, entry: string) => Promise.resolve(`removed ${entry}`)),
    preview: vi.fn(() => Promise.resolve(() => Promise.resolve())),
    attach: vi.fn(() => Promise.resolve('detached')),
    stop: vi.fn((session: string) => Promise.resolve(`stopped ${session}`)),
    notify: vi.fn(() => Promise.resolve()),
    remove: vi.fn((session: string) => Promise.resolve(`removed ${session}`)),
    newSession: vi.fn((workspace: string, what: string, backend: string) => Promise.resolve(`paude-new${what === 'shell' ? 'sh' : 'cl'}${backend.slice(0, 1)}`)),
    cwd: '/src/alpha',
    ...overrides,
  };
}

export interface Rendered {
  store: DashboardStore;
  services: DashboardServices;
  /** The recorded calls of the fake services. */
  calls(name: keyof DashboardServices): unknown[][];
  onAttach: ReturnType<typeof vi.fn>;
  onQuit: ReturnType<typeof vi.fn>;
  frame(): string;
  press(keys: string): Promise<void>;
  unmount(): void;
}

export interface RenderOptions {
  services?: Partial<DashboardServices>;
  rows?: SessionRow[];
  /** As ui.keys in paude.json. */
  keys?: Record<string, string | string[]>;
  listEveryMs?: number;
  handOver?: boolean;
}

export function renderApp(options: RenderOptions = {}): Rendered {
  const store = createDashboardStore({ sessions: options.rows ?? ROWS });
  const services = fakeServices(options.services);
  // The real controller over the fake services: what the dashboard does with them is under test too.
  const controller = startController(store, services, { listEveryMs: options.listEveryMs ?? 60_000 });
  const onAttach = vi.fn((session: string) => (options.handOver ? void attachFromDashboard(session, { controller, services, store, detachKey: 'ctrl-]' }) : undefined));
  const onQuit = vi.fn();
  const app = render(<App store={store} services={services} keys={keyTable(options.keys)} onAttach={onAttach} onQuit={onQuit} refreshPolicy={() => controller.refreshPolicy()} />);
  return {
    store,
    services,
    calls: (name) => (services[name] as unknown as { mock: { calls: unknown[][] } }).mock.calls,
    onAttach,
    onQuit,
    frame: () => app.lastFrame() ?? '',
    press: async (keys) => {
      app.stdin.write(keys);
      // Let the key handler (async) and React's render run.
      await new Promise((r) => setTimeout(r, 30));
    },
    unmount: () => {
      app.unmount();
      void controller.stop();
    },
  };
}
