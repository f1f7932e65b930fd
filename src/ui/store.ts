/**
 * The dashboard's state: one zustand vanilla store per dashboard, made by a factory and handed
 * to the components (so every test gets its own). It is the slices of the views and the frame,
 * each with its named actions in its folder; services push facts in through them (controller.ts)
 * and components read with their folder's state hook.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import { createAllowlistSlice, type AllowlistSlice } from './allowlist/use-allowlist-state.js';
import { createFrameSlice, type FrameSlice } from './frame/use-frame-state.js';
import { createHeldSlice, type HeldSlice } from './held/use-held-state.js';
import { createNetworkSlice, type NetworkSlice } from './network/use-network-state.js';
import { createPromptsSlice, type PromptsSlice } from './prompts/use-prompts-state.js';
import { createSessionsSlice, visibleSessions, type SessionsSlice } from './sessions/use-sessions-state.js';

export type { FeedEvent, HeldApproval, PolicyLine, Scope, SessionRow } from './services.js';
export { VIEWS, type ViewName } from './frame/use-frame-state.js';
export { FEED_LIMIT, HOST_LIMIT } from './network/use-network-state.js';
export type { Confirm, Prompt } from './prompts/use-prompts-state.js';
export { SORT_KEYS, visibleSessions, type SortKey } from './sessions/use-sessions-state.js';

export type DashboardState = FrameSlice & SessionsSlice & NetworkSlice & AllowlistSlice & HeldSlice & PromptsSlice;

export type DashboardStore = StoreApi<DashboardState>;

export function createDashboardStore(initial: Partial<Pick<DashboardState, 'view' | 'sessions' | 'selected'>> = {}): DashboardStore {
  const store = createStore<DashboardState>()((...a) => ({
    ...createFrameSlice(...a),
    ...createSessionsSlice(...a),
    ...createNetworkSlice(...a),
    ...createAllowlistSlice(...a),
    ...createHeldSlice(...a),
    ...createPromptsSlice(...a),
  }));
  const sessions = initial.sessions ?? [];
  store.setState({
    ...(initial.view ? { view: initial.view } : {}),
    sessions,
    selected: initial.selected ?? visibleSessions({ sessions, filter: '', sort: 'started' })[0]?.id,
  });
  return store;
}
