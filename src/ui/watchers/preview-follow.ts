/**
 * The selected session's screen, live: the preview follows the selection (a session that can be
 * attached has one), and redraws reach the store at most every 100 ms.
 */
import type { DashboardServices } from '../services.js';
import type { DashboardStore } from '../store.js';
import type { Watcher } from './watcher.js';

type Close = () => Promise<void>;

export function previewFollow(store: DashboardStore, services: DashboardServices): Watcher {
  let preview: { session: string; close: Promise<Close> } | undefined;
  let pending: string[] | undefined;
  let flush: NodeJS.Timeout | undefined;
  let unsubscribe: (() => void) | undefined;

  const close = async (): Promise<void> => {
    const p = preview;
    preview = undefined;
    if (flush) clearTimeout(flush);
    flush = undefined;
    if (p) await (await p.close.catch((): Close => () => Promise.resolve()))();
  };
  const open = (session: string): void => {
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
  const sync = (): void => {
    const s = store.getState();
    const row = s.sessions.find((r) => r.id === s.selected);
    const want = row?.attachable ? row.id : undefined;
    if (preview?.session === want) return;
    void close();
    if (want) open(want);
    else if (s.preview) s.setPreview(undefined);
  };

  return {
    start() {
      unsubscribe ??= store.subscribe((now, before) => {
        if (now.selected !== before.selected || now.sessions !== before.sessions) sync();
      });
      sync();
    },
    async stop() {
      unsubscribe?.();
      unsubscribe = undefined;
      await close();
    },
  };
}
