/**
 * Wires the services to the store through watchers (watchers/): the session list every second,
 * the proxy events and held requests of every active session, a live preview of the selected
 * session's screen, and the selected session's policy while the allowlist is shown. Rendering is
 * the components' business. While the terminal is handed to a session the controller is
 * suspended: every watcher stops (the dashboard lists nothing, follows nothing, and is no watcher
 * of held requests), and all start again on resume.
 */
import type { DashboardServices } from './services.js';
import { isActive } from './sessions/status.js';
import type { DashboardStore } from './store.js';
import { eventFeed } from './watchers/event-feed.js';
import { heldFollow } from './watchers/held-follow.js';
import { policyFollow } from './watchers/policy-follow.js';
import { previewFollow } from './watchers/preview-follow.js';
import { sessionPoll } from './watchers/session-poll.js';

export interface Controller {
  refreshPolicy(): Promise<void>;
  /** Stops every watcher but the held-request watch (before the terminal is handed to a session); resolves when they let go. */
  suspend(): Promise<void>;
  /** Starts them again (the terminal is back). */
  resume(): void;
  stop(): Promise<void>;
}

export function startController(store: DashboardStore, services: DashboardServices, options: { listEveryMs?: number } = {}): Controller {
  const active = (): string[] => store.getState().sessions.flatMap((s) => (isActive(s.status) ? [s.id] : []));
  const policy = policyFollow(store, services);
  const held = heldFollow(store, services, active);
  const paused = [sessionPoll(store, services, options.listEveryMs ?? 1000), eventFeed(store, services, active), previewFollow(store, services), policy];
  let running = false;
  let stopped = false;
  const start = (): void => {
    if (running || stopped) return;
    running = true;
    held.start();
    for (const w of paused) w.start();
  };
  const pause = async (): Promise<void> => {
    if (!running) return;
    running = false;
    await Promise.all(paused.map((w) => w.stop()));
  };
  start();
  return {
    refreshPolicy: () => policy.refresh(),
    suspend: pause,
    resume: start,
    stop: async () => {
      stopped = true;
      await Promise.all([pause(), held.stop()]);
    },
  };
}
