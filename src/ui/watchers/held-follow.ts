/**
 * Held requests of the followed sessions into the held bar. Following them makes the dashboard
 * a watcher, for which the proxy holds requests in ask mode; stopped (the terminal handed to a
 * session, where no one sees the bar), it leaves, and the bar is emptied: what is still held is
 * listed again when it follows again.
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
