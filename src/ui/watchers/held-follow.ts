/**
 * Held requests of the followed sessions into the held bar. Following them makes the dashboard
 * a watcher, for which the proxy holds requests in ask mode; it goes on while the terminal is
 * handed to a session (whose screen then announces new ones). Stopped (the dashboard quits), it
 * leaves, and the bar is emptied.
 */
import type { DashboardServices } from '../services.js';
import type { DashboardStore } from '../store.js';
import type { Watcher } from './watcher.js';

export function heldFollow(store: DashboardStore, services: DashboardServices, sessions: () => readonly string[]): Watcher {
  let unfollow: (() => void) | undefined;
  return {
    start() {
      unfollow ??= services.followApprovals(sessions, (held) => store.getState().setApprovals(held));
    },
    stop() {
      unfollow?.();
      unfollow = undefined;
      store.getState().setApprovals([]);
      return Promise.resolve();
    },
  };
}
