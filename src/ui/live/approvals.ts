/**
 * Held requests: followed through an ApprovalBroker per session, whose presence (a watcher
 * heartbeat) is what makes the proxy hold requests in ask mode instead of refusing them; and
 * answered through the application's answerHeld, as `paude approve` does.
 */
import { answerHeld } from '../../app/network-policy.js';
import { ApprovalBroker } from '../../policy/approval-broker.js';
import type { DashboardServices, HeldApproval } from '../services.js';
import type { LiveContext } from './context.js';

export function liveApprovals(ctx: LiveContext): Pick<DashboardServices, 'followApprovals' | 'decide'> {
  return {
    followApprovals(sessions, onChange) {
      const brokers = new Map<string, { broker: ApprovalBroker; leave: Promise<() => Promise<void>> }>();
      let last = '';
      const tick = async (): Promise<void> => {
        const wanted = new Set(sessions());
        for (const [id, b] of brokers) {
          if (wanted.has(id)) continue;
          brokers.delete(id);
          void b.leave.then((leave) => leave()).catch(() => undefined);
        }
        for (const id of wanted) {
          if (brokers.has(id)) continue;
          const broker = new ApprovalBroker(ctx.stateOf(id), id);
          // Being a watcher is what makes the proxy hold requests (ask mode) instead of denying.
          brokers.set(id, { broker, leave: broker.present() });
        }
        const held: HeldApproval[] = [];
        for (const { broker } of brokers.values()) held.push(...(await broker.pending().catch(() => [])));
        held.sort((a, b) => a.since - b.since);
        const key = held.map((h) => `${h.session}/${h.id}`).join(',');
        if (key !== last) {
          last = key;
          onChange(held.map((h) => ({ session: h.session, id: h.id, host: h.host, port: h.port, method: h.method, since: h.since })));
        }
      };
      const timer = setInterval(() => void tick().catch(() => undefined), 250);
      void tick().catch(() => undefined);
      return () => {
        clearInterval(timer);
        for (const b of brokers.values()) void b.leave.then((leave) => leave()).catch(() => undefined);
      };
    },

    async decide(held, scope) {
      const record = ctx.view(held.session).record;
      if (!record) throw new Error(`${held.session} has no record; answer it with paude approve ${held.id}`);
      const answer = scope === 'deny' ? { effect: 'deny' as const, scope: 'once' as const } : { effect: 'allow' as const, scope };
      const done = await answerHeld(ctx.policyDeps, record, held, answer);
      if (scope === 'deny') return `denied ${held.host}:${held.port} once in ${held.session}`;
      const what = done.entry ?? `${held.host}:${held.port}`;
      return `allowed ${what} ${scope === 'once' ? 'once' : `for the ${scope}`}${scope === 'global' ? '' : ` (${held.session})`}`;
    },
  };
}
