/**
 * The network feed: the proxy events of every followed session as a bounded ring (memory stays
 * flat however long the dashboard runs), counts per host (bounded too), pause and scope.
 */
import { useStore } from 'zustand';
import { useShallow } from 'zustand/react/shallow';
import type { StateCreator } from 'zustand/vanilla';
import { useDashboard } from '../context.js';
import type { FeedEvent } from '../services.js';
import type { DashboardState } from '../store.js';

export const FEED_LIMIT = 2000;
export const HOST_LIMIT = 2000;

type HostCounts = Record<string, { allow: number; deny: number }>;

const total = (c: { allow: number; deny: number } | undefined): number => (c ? c.allow + c.deny : 0);

/** The counts with the events added; past HOST_LIMIT hosts, the least used are forgotten. */
function counted(before: HostCounts, events: readonly FeedEvent[]): HostCounts {
  const counts = { ...before };
  for (const e of events) {
    if (e.decision === 'pending') continue;
    const c = counts[e.host] ?? { allow: 0, deny: 0 };
    counts[e.host] = { ...c, [e.decision]: c[e.decision] + 1 };
  }
  const hosts = Object.keys(counts);
  if (hosts.length <= HOST_LIMIT) return counts;
  const kept: HostCounts = {};
  for (const h of hosts.sort((a, b) => total(counts[b]) - total(counts[a])).slice(0, HOST_LIMIT / 2)) kept[h] = counts[h] ?? { allow: 0, deny: 0 };
  return kept;
}

export interface NetworkSlice {
  events: FeedEvent[];
  hostCounts: HostCounts;
  paused: boolean;
  /** Events that arrived while paused (shown on resume). */
  held: FeedEvent[];
  feedScope: 'selected' | 'all';
  addEvents(events: FeedEvent[]): void;
  togglePause(): void;
  toggleFeedScope(): void;
}

export const createNetworkSlice: StateCreator<DashboardState, [], [], NetworkSlice> = (set, get) => ({
  events: [],
  hostCounts: {},
  paused: false,
  held: [],
  feedScope: 'all',
  addEvents: (events) => {
    if (events.length === 0) return;
    const s = get();
    const hostCounts = counted(s.hostCounts, events);
    if (s.paused) set({ hostCounts, held: [...s.held, ...events].slice(-FEED_LIMIT) });
    else set({ hostCounts, events: [...s.events, ...events].slice(-FEED_LIMIT) });
  },
  togglePause: () => {
    const s = get();
    if (s.paused) set({ paused: false, events: [...s.events, ...s.held].slice(-FEED_LIMIT), held: [] });
    else set({ paused: true });
  },
  toggleFeedScope: () => set({ feedScope: get().feedScope === 'all' ? 'selected' : 'all' }),
});

export function useNetworkState(): Pick<DashboardState, 'events' | 'hostCounts' | 'paused' | 'held' | 'feedScope' | 'selected'> {
  const { store } = useDashboard();
  return useStore(store, useShallow((s) => ({ events: s.events, hostCounts: s.hostCounts, paused: s.paused, held: s.held, feedScope: s.feedScope, selected: s.selected })));
}
