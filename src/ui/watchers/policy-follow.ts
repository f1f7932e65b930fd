/**
 * The selected session's policy, loaded while the allowlist is on screen: when it is shown, when
 * the selection changes, on start (it may have changed while the dashboard was paused), and
 * after a change made from here (refresh).
 */
import type { DashboardServices } from '../services.js';
import type { DashboardStore } from '../store.js';
import type { Watcher } from './watcher.js';

export function policyFollow(store: DashboardStore, services: DashboardServices): Watcher & { refresh(): Promise<void> } {
  let unsubscribe: (() => void) | undefined;
  const refresh = async (): Promise<void> => {
    const session = store.getState().selected;
    if (!session) return store.getState().setPolicy(undefined);
    try {
      const lines = await services.policy(session);
      store.getState().setPolicy({ session, lines });
    } catch (error) {
      store.getState().say((error as Error).message);
    }
  };
  return {
    refresh,
    start() {
      unsubscribe ??= store.subscribe((now, before) => {
        if (now.view === 'allowlist' && (now.view !== before.view || now.selected !== before.selected)) void refresh();
      });
      if (store.getState().view === 'allowlist') void refresh();
    },
    stop() {
      unsubscribe?.();
      unsubscribe = undefined;
      return Promise.resolve();
    },
  };
}
