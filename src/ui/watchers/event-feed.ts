/**
 * The proxy events of the followed sessions into the feed, handed to the store at most every
 * 150 ms: a few renders a second however many requests flow, and each arrives within the 250 ms
 * the dashboard promises.
 */
import type { DashboardServices, FeedEvent } from '../services.js';
import type { DashboardStore } from '../store.js';
import type { Watcher } from './watcher.js';

export function eventFeed(store: DashboardStore, services: DashboardServices, sessions: () => readonly string[]): Watcher {
  let unfollow: (() => void) | undefined;
  let queued: FeedEvent[] = [];
  let flush: NodeJS.Timeout | undefined;
  const hand = (): void => {
    flush = undefined;
    const batch = queued;
    queued = [];
    store.getState().addEvents(batch);
  };
  return {
    start() {
      unfollow ??= services.followEvents(sessions, (events) => {
        queued.push(...events);
        flush ??= setTimeout(hand, 150);
      });
    },
    stop() {
      unfollow?.();
      unfollow = undefined;
      // What arrived before the stop is kept (the feed shows it on return).
      if (flush) clearTimeout(flush);
      hand();
      return Promise.resolve();
    },
  };
}
