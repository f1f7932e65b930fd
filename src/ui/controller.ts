/**
 * Wires the services to the store: the session list every second, the proxy events and held
 * requests of every running session, a live preview of the selected session's screen, and the
 * selected session's policy when the allowlist is on screen. Rendering is the components'
 * business; updates are batched here (a preview redraw at most every 100 ms).
 */
import type { DashboardServices } from './services.js';
import type { DashboardStore, FeedEvent } from './store.js';

export interface Controller {
  refreshPolicy(): Promise<void>;
  /** Stops the preview (before the terminal is handed to a session) and starts it again. */
  suspend(): Promise<void>;
  resume(): void;
  stop(): Promise<void>;
}

const ACTIVE = new Set(['attached', 'detached', 'running', 'degraded', 'starting']);

export function startController(store: DashboardStore, services: DashboardServices, options: { listEveryMs?: number } = {}): Controller {
  const active = (): string[] => store.getState().sessions.filter((s) => ACTIVE.has(s.status)).map((s) => s.id);
  let stopped = false;

  const list = async (): Promise<void> => {
    try {
      const { rows, note } = await services.listSessions();
      if (!stopped) store.getState().setSessions(rows, note);
    } catch (error) {
      if (!stopped) store.getState().setSessions(store.getState().sessions, (error as Error).message);
    }
  };
  void list();
  const lister = setInterval(() => void list(), options.listEveryMs ?? 1000);
  // Events are handed to the store at most every 150 ms: a few renders a second however many
  // requests flow, and each arrives within the 250 ms the dashboard promises.
  let queued: FeedEvent[] = [];
  let eventFlush: NodeJS.Timeout | undefined;
  const stopEvents = services.followEvents(active, (events) => {
    queued.push(...events);
    eventFlush ??= setTimeout(() => {
      eventFlush = undefined;
      const batch = queued;
      queued = [];
      if (!stopped) store.getState().addEvents(batch);
    }, 150);
  });
  const stopApprovals = services.followApprovals(active, (held) => store.getState().setApprovals(held));

  // The preview follows the selection.
  let preview: { session: string; close: Promise<() => Promise<void>> } | undefined;
  let suspended = false;
  let pending: string[] | undefined;
  let flush: NodeJS.Timeout | undefined;
  const closePreview = async (): Promise<void> => {
    const p = preview;
    preview = undefined;
    if (flush) clearTimeout(flush);
    flush = undefined;
    if (p) await (await p.close.catch(() => () => Promise.resolve()))();
  };
  const syncPreview = (): void => {
    if (suspended || stopped) return;
    const s = store.getState();
    const row = s.sessions.find((r) => r.id === s.selected);
    const want = row?.attachable ? row.id : undefined;
    if (preview?.session === want) return;
    void closePreview();
    if (!want) {
      if (s.preview) s.setPreview(undefined);
      return;
    }
    const session = want;
    preview = {
      session,
      close: services.preview(session, (lines) => {
        pending = lines;
        flush ??= setTimeout(() => {
          flush = undefined;
          if (preview?.session === session && pending) store.getState().setPreview({ session, lines: pending });
        }, 100);
      }),
    };
    preview.close.catch((error: unknown) => {
      if (preview?.session === session) preview = undefined;
      store.getState().setPreview({ session, lines: [`(no preview: ${(error as Error).message})`] });
    });
  };

  const refreshPolicy = async (): Promise<void> => {
    const s = store.getState();
    if (!s.selected) return s.setPolicy(undefined);
    try {
      const lines = await services.policy(s.selected);
      store.getState().setPolicy({ session: s.selected, lines });
    } catch (error) {
      store.getState().say((error as Error).message);
    }
  };

  const unsubscribe = store.subscribe((now, before) => {
    if (now.selected !== before.selected || now.sessions !== before.sessions) syncPreview();
    if (now.view === 'allowlist' && (now.view !== before.view || now.selected !== before.selected)) void refreshPolicy();
  });
  syncPreview();

  return {
    refreshPolicy,
    suspend: async () => {
      suspended = true;
      await closePreview();
    },
    resume: () => {
      suspended = false;
      syncPreview();
    },
    stop: async () => {
      stopped = true;
      clearInterval(lister);
      if (eventFlush) clearTimeout(eventFlush);
      unsubscribe();
      stopEvents();
      stopApprovals();
      await closePreview();
    },
  };
}
