/**
 * The network feed: a subscription per followed session to its proxy-event stream (shared with
 * the BLOCKED count), handed on every 200 ms as one batch in time order.
 */
import type { ProxyEvent } from '../../policy/proxy-event.js';
import type { ProxyEventSubscription } from '../../policy/proxy-event-stream.js';
import type { DashboardServices, FeedEvent } from '../services.js';
import type { LiveContext } from './context.js';

const feedEvent = (e: ProxyEvent): FeedEvent => ({ key: `${e.session}:${e.offset}`, time: e.time, session: e.session, host: e.host, port: e.port, method: e.method, decision: e.decision, rule: e.rule });

export function liveFeed(ctx: Pick<LiveContext, 'streams' | 'stateOf'>): Pick<DashboardServices, 'followEvents'> {
  // Where each session's feed has got to, across follows: the dashboard stops following while a
  // terminal is handed over and follows again after, asking for the history, and what it had
  // already shown is not shown twice.
  const delivered = new Map<string, number>();
  return {
    followEvents(sessions, onEvents) {
      // From the start of the log: a session listed before the feed knew it gets the history first.
      const subscribed = new Map<string, ProxyEventSubscription>();
      let batch: FeedEvent[] = [];
      const listen =
        (id: string) =>
        (events: readonly ProxyEvent[]): void => {
          for (const e of events) {
            if (e.offset <= (delivered.get(id) ?? -1)) continue;
            delivered.set(id, e.offset);
            batch.push(feedEvent(e));
          }
        };
      const tick = (): void => {
        const wanted = new Set(sessions());
        for (const [id, sub] of subscribed) {
          if (wanted.has(id)) continue;
          sub.unsubscribe();
          subscribed.delete(id);
        }
        for (const id of wanted) if (!subscribed.has(id)) subscribed.set(id, ctx.streams.subscribe({ session: id, accessLog: ctx.stateOf(id).accessLog }, listen(id), { history: true }));
        const out = batch;
        batch = [];
        if (out.length) onEvents(out.sort((a, b) => a.time - b.time));
      };
      const timer = setInterval(tick, 200);
      return () => {
        clearInterval(timer);
        for (const sub of subscribed.values()) sub.unsubscribe();
        subscribed.clear();
      };
    },
  };
}
