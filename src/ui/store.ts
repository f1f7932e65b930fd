/**
 * The dashboard's state: one zustand vanilla store per dashboard, made by a factory and handed
 * to the components (so every test gets its own). Services push facts in through the actions;
 * components read with selectors. The event feed is a bounded ring: memory stays flat however
 * long the dashboard runs.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';

export type ViewName = 'sessions' | 'network' | 'allowlist' | 'tokens';
export const VIEWS: readonly ViewName[] = ['sessions', 'network', 'allowlist', 'tokens'];

export interface SessionRow {
  id: string;
  status: string;
  backend: string;
  workspace?: string;
  started?: string;
  network?: string;
  blocked: number;
  /** Whether it runs in tmux (can be attached and previewed). */
  attachable: boolean;
  /** From the agent's telemetry (paude's relay), when any arrived. */
  tokens?: { input: number; output: number; cacheRead: number; cacheCreation: number; costUsd: number };
}

export interface FeedEvent {
  key: string;
  time: number;
  session: string;
  host: string;
  port: number;
  method: string;
  decision: 'allow' | 'deny' | 'pending';
  rule: string;
}

export interface HeldApproval {
  session: string;
  id: string;
  host: string;
  port: number;
  method: string;
  since: number;
}

export interface PolicyLine {
  effect: 'allow' | 'deny';
  text: string;
  source: string;
}

export type Scope = 'once' | 'session' | 'project' | 'global';

export type Prompt =
  | { kind: 'add-entry'; effect: 'allow' | 'deny'; scope: Exclude<Scope, 'once'>; text: string; error?: string }
  /** A new session: its workspace (typed), what runs in it and where (tab cycles). */
  | { kind: 'new-session'; text: string; what: 'shell' | 'claude'; backend: 'auto' | 'podman' | 'docker'; error?: string };

export interface Confirm {
  message: string;
  action: 'stop' | 'remove';
  target: string;
}

export const FEED_LIMIT = 2000;
export const HOST_LIMIT = 2000;
const total = (c: { allow: number; deny: number } | undefined): number => (c ? c.allow + c.deny : 0);

export interface DashboardState {
  view: ViewName;
  sessions: SessionRow[];
  /** Why the list could not be had (an engine that did not answer), if so. */
  sessionsNote?: string;
  selected?: string;
  filter: string;
  filtering: boolean;
  sort: SortKey;
  events: FeedEvent[];
  hostCounts: Record<string, { allow: number; deny: number }>;
  paused: boolean;
  /** Events that arrived while paused (shown on resume). */
  held: FeedEvent[];
  feedScope: 'selected' | 'all';
  approvals: HeldApproval[];
  preview?: { session: string; lines: string[] };
  policy?: { session: string; lines: PolicyLine[] };
  policyCursor: number;
  prompt?: Prompt;
  confirm?: Confirm;
  notice?: string;
  help: boolean;

  setView(view: ViewName): void;
  setSessions(rows: SessionRow[], note?: string): void;
  select(id: string | undefined): void;
  move(delta: number): void;
  setFilter(text: string, filtering: boolean): void;
  cycleSort(): void;
  addEvents(events: FeedEvent[]): void;
  togglePause(): void;
  toggleFeedScope(): void;
  setApprovals(list: HeldApproval[]): void;
  setPreview(preview: DashboardState['preview']): void;
  setPolicy(policy: DashboardState['policy']): void;
  movePolicy(delta: number): void;
  setPrompt(prompt: Prompt | undefined): void;
  setConfirm(confirm: Confirm | undefined): void;
  say(notice: string | undefined): void;
  toggleHelp(): void;
}

export type DashboardStore = StoreApi<DashboardState>;

export const SORT_KEYS = ['started', 'status', 'workspace', 'blocked'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

const STATUS_ORDER = ['attached', 'detached', 'running', 'starting', 'degraded', 'error', 'stopped'];
const byKey: Record<SortKey, (a: SessionRow, b: SessionRow) => number> = {
  started: (a, b) => (b.started ?? '').localeCompare(a.started ?? ''),
  status: (a, b) => STATUS_ORDER.indexOf(a.status.split(' ')[0] ?? '') - STATUS_ORDER.indexOf(b.status.split(' ')[0] ?? ''),
  workspace: (a, b) => (a.workspace ?? '').localeCompare(b.workspace ?? ''),
  blocked: (a, b) => b.blocked - a.blocked,
};

/** The sessions the list shows: the filter applied, in the chosen order (ties: newest first). */
export function visibleSessions(s: Pick<DashboardState, 'sessions' | 'filter' | 'sort'>): SessionRow[] {
  const f = s.filter.trim().toLowerCase();
  const rows = f ? s.sessions.filter((r) => [r.id, r.status, r.backend, r.workspace ?? '', r.network ?? ''].some((v) => v.toLowerCase().includes(f))) : [...s.sessions];
  return rows.sort((a, b) => byKey[s.sort](a, b) || byKey.started(a, b));
}

export function createDashboardStore(initial: Partial<Pick<DashboardState, 'view' | 'sessions' | 'selected'>> = {}): DashboardStore {
  return createStore<DashboardState>()((set, get) => ({
    view: initial.view ?? 'sessions',
    sessions: initial.sessions ?? [],
    selected: initial.selected ?? (initial.sessions ? visibleSessions({ sessions: initial.sessions, filter: '', sort: 'started' })[0]?.id : undefined),
    filter: '',
    filtering: false,
    sort: 'started',
    events: [],
    hostCounts: {},
    paused: false,
    held: [],
    feedScope: 'all',
    approvals: [],
    policyCursor: 0,
    help: false,

    setView: (view) => set({ view }),
    setSessions: (rows, note) => {
      const selected = get().selected;
      set({ sessions: rows, sessionsNote: note, selected: selected && rows.some((r) => r.id === selected) ? selected : visibleSessions({ ...get(), sessions: rows })[0]?.id });
    },
    select: (id) => set({ selected: id }),
    move: (delta) => {
      const rows = visibleSessions(get());
      if (rows.length === 0) return;
      const at = Math.max(0, rows.findIndex((r) => r.id === get().selected));
      const next = rows[Math.min(rows.length - 1, Math.max(0, at + delta))];
      set({ selected: next?.id });
    },
    setFilter: (text, filtering) => set({ filter: text, filtering }),
    cycleSort: () => set({ sort: SORT_KEYS[(SORT_KEYS.indexOf(get().sort) + 1) % SORT_KEYS.length] ?? 'started' }),
    addEvents: (events) => {
      if (events.length === 0) return;
      const s = get();
      const counts = { ...s.hostCounts };
      for (const e of events) {
        if (e.decision === 'pending') continue;
        const c = counts[e.host] ?? { allow: 0, deny: 0 };
        counts[e.host] = { ...c, [e.decision]: c[e.decision] + 1 };
      }
      // Bounded too: past HOST_LIMIT hosts, the least used are forgotten.
      const hosts = Object.keys(counts);
      if (hosts.length > HOST_LIMIT) {
        const keep = hosts.sort((a, b) => total(counts[b]) - total(counts[a])).slice(0, HOST_LIMIT / 2);
        const kept: typeof counts = {};
        for (const h of keep) kept[h] = counts[h] ?? { allow: 0, deny: 0 };
        return set(s.paused ? { hostCounts: kept, held: [...s.held, ...events].slice(-FEED_LIMIT) } : { hostCounts: kept, events: [...s.events, ...events].slice(-FEED_LIMIT) });
      }
      if (s.paused) {
        set({ hostCounts: counts, held: [...s.held, ...events].slice(-FEED_LIMIT) });
        return;
      }
      set({ hostCounts: counts, events: [...s.events, ...events].slice(-FEED_LIMIT) });
    },
    togglePause: () => {
      const s = get();
      if (s.paused) set({ paused: false, events: [...s.events, ...s.held].slice(-FEED_LIMIT), held: [] });
      else set({ paused: true });
    },
    toggleFeedScope: () => set({ feedScope: get().feedScope === 'all' ? 'selected' : 'all' }),
    setApprovals: (list) => set({ approvals: list }),
    setPreview: (preview) => set({ preview }),
    setPolicy: (policy) => set({ policy, policyCursor: Math.min(get().policyCursor, Math.max(0, (policy?.lines.length ?? 1) - 1)) }),
    movePolicy: (delta) => set({ policyCursor: Math.min(Math.max(0, (get().policy?.lines.length ?? 1) - 1), Math.max(0, get().policyCursor + delta)) }),
    setPrompt: (prompt) => set({ prompt }),
    setConfirm: (confirm) => set({ confirm }),
    say: (notice) => set({ notice }),
    toggleHelp: () => set({ help: !get().help }),
  }));
}
