/**
 * The session list: the rows the controller last listed, the selection (which every view acts
 * on), the filter and the sort, and the selected session's screen preview.
 */
import { useMemo } from 'react';
import { useStore } from 'zustand';
import { useShallow } from 'zustand/react/shallow';
import type { StateCreator } from 'zustand/vanilla';
import { useDashboard } from '../context.js';
import type { SessionRow } from '../services.js';
import type { DashboardState } from '../store.js';
import { STATUS_ORDER, statusText } from './status.js';

export const SORT_KEYS = ['started', 'status', 'workspace', 'blocked'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

const byKey: Record<SortKey, (a: SessionRow, b: SessionRow) => number> = {
  started: (a, b) => (b.started ?? '').localeCompare(a.started ?? ''),
  status: (a, b) => STATUS_ORDER[a.status] - STATUS_ORDER[b.status],
  workspace: (a, b) => (a.workspace ?? '').localeCompare(b.workspace ?? ''),
  blocked: (a, b) => b.blocked - a.blocked,
};

/** The sessions the list shows: the filter (on what the row shows) applied, in the chosen order (ties: newest first). */
export function visibleSessions(s: Pick<DashboardState, 'sessions' | 'filter' | 'sort'>): SessionRow[] {
  const f = s.filter.trim().toLowerCase();
  const rows = f ? s.sessions.filter((r) => [r.id, statusText(r), r.backend, r.workspace ?? '', r.network ?? ''].some((v) => v.toLowerCase().includes(f))) : [...s.sessions];
  return rows.sort((a, b) => byKey[s.sort](a, b) || byKey.started(a, b));
}

export interface SessionsSlice {
  sessions: SessionRow[];
  /** Why the list could not be had (an engine that did not answer), if so. */
  sessionsNote?: string;
  selected?: string;
  filter: string;
  filtering: boolean;
  sort: SortKey;
  preview?: { session: string; lines: string[] };
  setSessions(rows: SessionRow[], note?: string): void;
  select(id: string | undefined): void;
  move(delta: number): void;
  startFilter(): void;
  editFilter(text: string): void;
  /** Enter keeps the filter, escape clears it; either way typing ends. */
  endFilter(keep: boolean): void;
  cycleSort(): void;
  setPreview(preview: SessionsSlice['preview']): void;
}

export const createSessionsSlice: StateCreator<DashboardState, [], [], SessionsSlice> = (set, get) => ({
  sessions: [],
  filter: '',
  filtering: false,
  sort: 'started',
  setSessions: (rows, note) => {
    const selected = get().selected;
    set({ sessions: rows, sessionsNote: note, selected: selected && rows.some((r) => r.id === selected) ? selected : visibleSessions({ ...get(), sessions: rows })[0]?.id });
  },
  select: (id) => set({ selected: id }),
  move: (delta) => {
    const rows = visibleSessions(get());
    if (rows.length === 0) return;
    const at = Math.max(0, rows.findIndex((r) => r.id === get().selected));
    set({ selected: rows[Math.min(rows.length - 1, Math.max(0, at + delta))]?.id });
  },
  startFilter: () => set({ filtering: true }),
  editFilter: (text) => set({ filter: text }),
  endFilter: (keep) => set({ filtering: false, filter: keep ? get().filter : '' }),
  cycleSort: () => set({ sort: SORT_KEYS[(SORT_KEYS.indexOf(get().sort) + 1) % SORT_KEYS.length] ?? 'started' }),
  setPreview: (preview) => set({ preview }),
});

export interface SessionsView {
  rows: SessionRow[];
  selected?: string;
  filter: string;
  filtering: boolean;
  note?: string;
  /** The selected session's screen, when the preview has one. */
  preview?: string[];
}

export function useSessionsState(): SessionsView {
  const { store } = useDashboard();
  const s = useStore(store, useShallow((d) => ({ sessions: d.sessions, filter: d.filter, sort: d.sort, selected: d.selected, filtering: d.filtering, note: d.sessionsNote, preview: d.preview })));
  const { sessions, filter, sort } = s;
  const rows = useMemo(() => visibleSessions({ sessions, filter, sort }), [sessions, filter, sort]);
  return { rows, selected: s.selected, filter: s.filter, filtering: s.filtering, note: s.note, preview: s.preview && s.preview.session === s.selected ? s.preview.lines : undefined };
}
