import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DashboardServices, HeldApproval } from './services.js';
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

  it('stops listing, following events, the preview and the policy while attached (the held-request watch goes on), and starts them again after', async () => {
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
    // The held-request watch stays: it is what has the proxy hold a request for the user.
    expect({ events: events.open(), approvals: approvals.open(), previews: previews.open() }).toEqual({ events: 0, approvals: 1, previews: 0 });
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

  it("announces each request held while attached on the session's own screen, once, and not those held before", async () => {
    let onHeld: (held: HeldApproval[]) => void = () => undefined;
    let detach: (line: string) => void = () => undefined;
    const before: HeldApproval = { session: 'paude-bbbbbb', id: '1-1-1', host: 'old.test', port: 443, method: 'CONNECT', since: 1 };
    const services: Partial<DashboardServices> = {
      followApprovals: vi.fn((_sessions: () => readonly string[], onChange: (held: HeldApproval[]) => void) => {
        onHeld = onChange;
        onChange([before]);
        return () => undefined;
      }),
      attach: vi.fn(() => new Promise<string>((resolve) => (detach = resolve))),
    };
    app = renderApp({ services, handOver: true });
    await app.press('j');
    await app.press('\r');
    expect(app.calls('attach')).toEqual([['paude-aaaaaa']]);
    const fresh: HeldApproval = { session: 'paude-bbbbbb', id: '2-2-2', host: 'new.test', port: 8443, method: 'CONNECT', since: 2 };
    onHeld([before, fresh]);
    onHeld([before, fresh]);
    await vi.waitFor(() => expect(app?.calls('notify')).toHaveLength(1));
    expect(app.calls('notify')).toEqual([['paude-aaaaaa', 'paude: CONNECT new.test:8443 from paude-bbbbbb is waiting for approval - ctrl-] to answer']]);
    detach('detached from paude-aaaaaa');
    await vi.waitFor(() => expect(app?.frame()).toContain('detached from paude-aaaaaa'));
    // Back in the dashboard: the bar shows it, and nothing more is announced.
    onHeld([before, fresh, { ...fresh, id: '3-3-3', host: 'later.test' }]);
    await new Promise((r) => setTimeout(r, 50));
    expect(app.calls('notify')).toHaveLength(1);
  });
});
