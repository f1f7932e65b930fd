/**
 * The frame's state: which view is shown, the notice line, whether help is open. Named actions
 * (a zustand slice of the dashboard's store); useFrameState reads it in a component.
 */
import { useStore } from 'zustand';
import { useShallow } from 'zustand/react/shallow';
import type { StateCreator } from 'zustand/vanilla';
import { useDashboard } from '../context.js';
import type { DashboardState } from '../store.js';

export type ViewName = 'sessions' | 'network' | 'allowlist' | 'tokens';
export const VIEWS: readonly ViewName[] = ['sessions', 'network', 'allowlist', 'tokens'];

export interface FrameSlice {
  view: ViewName;
  notice?: string;
  help: boolean;
  setView(view: ViewName): void;
  /** The next (or, with -1, the previous) view, round. */
  cycleView(step: 1 | -1): void;
  say(notice: string | undefined): void;
  toggleHelp(): void;
}

export const createFrameSlice: StateCreator<DashboardState, [], [], FrameSlice> = (set, get) => ({
  view: 'sessions',
  help: false,
  setView: (view) => set({ view }),
  cycleView: (step) => {
    const i = VIEWS.indexOf(get().view) + step;
    set({ view: VIEWS[(i + VIEWS.length) % VIEWS.length] ?? 'sessions' });
  },
  say: (notice) => set({ notice }),
  toggleHelp: () => set({ help: !get().help }),
});

export function useFrameState(): Pick<DashboardState, 'view' | 'help' | 'notice'> & { sessionCount: number } {
  const { store } = useDashboard();
  return useStore(store, useShallow((s) => ({ view: s.view, help: s.help, notice: s.notice, sessionCount: s.sessions.length })));
}
