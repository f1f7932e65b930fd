/**
 * Held requests (ask mode) of every followed session, oldest first: what the controller last
 * heard, less the ones answered from here since.
 */
import { useStore } from 'zustand';
import type { StateCreator } from 'zustand/vanilla';
import { useDashboard } from '../context.js';
import type { HeldApproval } from '../services.js';
import type { DashboardState } from '../store.js';

export interface HeldSlice {
  approvals: HeldApproval[];
  setApprovals(list: HeldApproval[]): void;
  /** Takes an answered request off the bar (the next one shows at once). */
  answered(held: HeldApproval): void;
}

export const createHeldSlice: StateCreator<DashboardState, [], [], HeldSlice> = (set, get) => ({
  approvals: [],
  setApprovals: (list) => set({ approvals: list }),
  answered: (held) => set({ approvals: get().approvals.filter((h) => h.session !== held.session || h.id !== held.id) }),
});

export function useHeldState(): HeldApproval[] {
  const { store } = useDashboard();
  return useStore(store, (s) => s.approvals);
}
