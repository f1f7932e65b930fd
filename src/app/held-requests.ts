/**
 * Watching held requests, written once for `paude approvals --watch` and the dashboard: for each
 * session being watched, this process is present as a watcher (which is what makes the proxy
 * hold a request in ask mode instead of refusing it), and the held requests of all of them are
 * reported as one list, oldest first, whenever it changes. The set of sessions may change while
 * watching (the dashboard's running sessions). Answering is app/network-policy.ts's answerHeld.
 */
import { join } from 'node:path';
import { ApprovalBroker, presentEverywhere, type HeldRequest } from '../policy/approval-broker.js';
import { ProxyStateDir } from '../policy/proxy-state.js';
import { sessionDir } from '../sessions/session-record.js';

export type { HeldRequest } from '../policy/approval-broker.js';

interface Watched {
  held: HeldRequest[];
  stopWatch: () => void;
  leave: Promise<() => Promise<void>>;
}

export interface HeldWatch {
  /** Resolves once this process is present for the sessions named at the start. */
  ready: Promise<void>;
  /** Stops watching; resolves once this process is no longer present for any session. */
  stop(): Promise<void>;
}

/**
 * Watches the sessions `sessions()` names (asked again every `everyMs`). With `everywhere` (the
 * data directory's watchers/), this process is also present for sessions that start while it
 * watches, from their first request on: they hold it until `sessions()` names them.
 */
export function watchHeldRequests(
  sessionsDir: string,
  sessions: () => readonly string[],
  onChange: (held: HeldRequest[]) => void,
  options: { everyMs?: number; everywhere?: string } = {},
): HeldWatch {
  const everywhere = options.everywhere ? presentEverywhere(options.everywhere) : undefined;
  everywhere?.catch(() => undefined);
  const watched = new Map<string, Watched>();
  let last = '';
  let stopped = false;
  const leaving: Array<Promise<void>> = [];
  const report = (): void => {
    if (stopped) return;
    const held = [...watched.values()].flatMap((w) => w.held).sort((a, b) => a.since - b.since);
    const key = held.map((h) => `${h.session}/${h.id}`).join(',');
    if (key === last) return;
    last = key;
    onChange(held);
  };
  const drop = (id: string, w: Watched): void => {
    watched.delete(id);
    w.stopWatch();
    leaving.push(w.leave.then((leave) => leave()).catch(() => undefined));
  };
  const sync = (): void => {
    const wanted = new Set(sessions());
    for (const [id, w] of watched) if (!wanted.has(id)) drop(id, w);
    for (const id of wanted) {
      if (watched.has(id)) continue;
      const broker = new ApprovalBroker(new ProxyStateDir(join(sessionDir(sessionsDir, id), 'proxy')), id);
      const w: Watched = { held: [], stopWatch: () => undefined, leave: broker.present() };
      // A session whose state is gone (removed meanwhile) is simply not present.
      w.leave.catch(() => undefined);
      watched.set(id, w);
      w.stopWatch = broker.watch((held) => {
        w.held = held;
        report();
      });
    }
    report();
  };
  sync();
  const ready = Promise.all([...[...watched.values()].map((w) => w.leave), ...(everywhere ? [everywhere] : [])].map((p) => p.then(() => undefined, () => undefined))).then(() => undefined);
  const timer = setInterval(sync, options.everyMs ?? 250);
  timer.unref();
  return {
    ready,
    async stop() {
      stopped = true;
      clearInterval(timer);
      for (const [id, w] of watched) drop(id, w);
      if (everywhere) leaving.push(everywhere.then((leave) => leave()).catch(() => undefined));
      await Promise.all(leaving);
    },
  };
}
