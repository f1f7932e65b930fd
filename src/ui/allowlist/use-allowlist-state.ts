/**
 * The allowlist view: the selected session's effective policy (loaded by the controller while
 * the view is shown) and the cursor on its lines.
 */
import { useStore } from 'zustand';
import { useShallow } from 'zustand/react/shallow';
import type { StateCreator } from 'zustand/vanilla';
import { useDashboard } from '../context.js';
import type { PolicyLine } from '../services.js';
import type { DashboardState } from '../store.js';

export interface AllowlistSlice {
  policy?: { session: string; lines: PolicyLine[] };
  policyCursor: number;
  setPolicy(policy: AllowlistSlice['policy']): void;
  movePolicy(delta: number): void;
}

const lastLine = (policy: AllowlistSlice['policy']): number => Math.max(0, (policy?.lines.length ?? 1) - 1);

export const createAllowlistSlice: StateCreator<DashboardState, [], [], AllowlistSlice> = (set, get) => ({
  policyCursor: 0,
  setPolicy: (policy) => set({ policy, policyCursor: Math.min(get().policyCursor, lastLine(policy)) }),
  movePolicy: (delta) => set({ policyCursor: Math.min(lastLine(get().policy), Math.max(0, get().policyCursor + delta)) }),
});

/** The policy on screen: the selected session's (undefined while it loads), and the cursor. */
export function useAllowlistState(): { selected?: string; lines?: PolicyLine[]; cursor: number } {
  const { store } = useDashboard();
  const s = useStore(store, useShallow((d) => ({ selected: d.selected, policy: d.policy, cursor: d.policyCursor })));
  return { selected: s.selected, lines: s.policy && s.policy.session === s.selected ? s.policy.lines : undefined, cursor: s.cursor };
}
