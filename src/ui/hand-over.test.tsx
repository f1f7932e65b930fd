import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DashboardServices } from './services.js';
import { renderApp, type Rendered } from './test-render.js';

/** Fake follows that count what is open: a subscription is open from its call until its stop. */
function counted(): { open: () => number; follow: () => () => void } {
  let open = 0;
  return {
    open: () => open,
    follow: () => {
      open++;
      let closed = false;
      return () => {
        if (!closed) open--;
        closed = true;
      };
    },
  };
}

const LIST_EVERY_MS = 20;

describe('attach from the dashboard (k9s: the dashboard pauses while the terminal is handed over)', () => {
  let app: Rendered | undefined;
  afterEach(() => app?.unmount());

  it('stops listing, following events and held requests, the preview and the policy while attached, and starts them again after', async () => {
    const events = counted();
    const approvals = counted();
    const previews = counted();
    let detach: (line: string) => void = () => undefined;
    const services: Partial<DashboardServices> = {
      followEvents: vi.fn(events.follow),
      followApprovals: vi.fn(approvals.follow),
      preview: vi.fn((_session: string, onLines: (lines: string[]) => void) => {
        onLines(['$ ']);
        const close = previews.follow();
        return Promise.resolve(() => Promise.resolve(close()));
      }),
      attach: vi.fn(() => new Promise<string>((resolve) => (detach = resolve))),
    };
    app = renderApp({ services, listEveryMs: LIST_EVERY_MS, handOver: true });
    const calls = (name: keyof DashboardServices): number => app?.calls(name).length ?? 0;
    await app.press('3'); // the allowlist: its policy is loaded while shown
    await app.press('1');
    await app.press('j'); // paude-aaaaaa: attachable, so it has a preview
    await vi.waitFor(() => expect(previews.open()).toBe(1));
    await vi.waitFor(() => expect(calls('listSessions')).toBeGreaterThan(1));
    expect([events.open(), approvals.open()]).toEqual([1, 1]);

    await app.press('3');
    await app.press('\r');
    expect(app.calls('attach')).toEqual([['paude-aaaaaa']]);
    const listed = calls('listSessions');
    const policies = calls('policy');
    expect({ events: events.open(), approvals: approvals.open(), previews: previews.open() }).toEqual({ events: 0, approvals: 0, previews: 0 });
    // Five list periods attached: nothing is listed, followed or loaded.
    await new Promise((r) => setTimeout(r, 5 * LIST_EVERY_MS));
    expect(calls('listSessions')).toBe(listed);
    expect(calls('policy')).toBe(policies);
    expect(calls('followEvents') + calls('followApprovals')).toBe(2);

    detach(`detached from paude-aaaaaa`);
    await vi.waitFor(() => expect({ events: events.open(), approvals: approvals.open(), previews: previews.open() }).toEqual({ events: 1, approvals: 1, previews: 1 }));
    await vi.waitFor(() => expect(calls('listSessions')).toBeGreaterThan(listed));
    // Back on the allowlist: its policy is loaded again (it may have changed meanwhile).
    expect(calls('policy')).toBeGreaterThan(policies);
    expect(app.frame()).toContain('detached from paude-aaaaaa');
  });
});
