/** The session list, listed at start and then every second; a failed listing keeps the rows and says why. */
import type { DashboardServices } from '../services.js';
import type { DashboardStore } from '../store.js';
import type { Watcher } from './watcher.js';

export function sessionPoll(store: DashboardStore, services: DashboardServices, everyMs: number): Watcher {
  let timer: NodeJS.Timeout | undefined;
  // A listing that answers after a stop (or a later start) is not this run's: it is dropped.
  let run = 0;
  const list = async (mine: number): Promise<void> => {
    try {
      const { rows, note } = await services.listSessions();
      if (mine === run) store.getState().setSessions(rows, note);
    } catch (error) {
      if (mine === run) store.getState().setSessions(store.getState().sessions, (error as Error).message);
    }
  };
  return {
    start() {
      const mine = ++run;
      void list(mine);
      timer = setInterval(() => void list(mine), everyMs);
    },
    stop() {
      run++;
      clearInterval(timer);
      timer = undefined;
      return Promise.resolve();
    },
  };
}
