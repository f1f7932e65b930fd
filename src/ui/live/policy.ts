/** The allowlist: a session's effective policy, entries checked as typed, changed and removed through the application layer. */
import { changePolicy } from '../../app/network-policy.js';
import { describeEntryProblem, parseNetworkEntry } from '../../config/network-entry.js';
import type { DashboardServices } from '../services.js';
import type { LiveContext } from './context.js';

export function livePolicy(ctx: LiveContext): Pick<DashboardServices, 'policy' | 'checkEntry' | 'changePolicy' | 'removeSessionEntry'> {
  return {
    async policy(session) {
      const record = ctx.view(session).record;
      if (!record) return [];
      const p = await ctx.policy.effectivePolicy(record);
      return [...p.allow.map((e) => ({ effect: 'allow' as const, text: e.text, source: e.source })), ...p.deny.map((e) => ({ effect: 'deny' as const, text: e.text, source: e.source }))];
    },

    checkEntry(text) {
      const parsed = parseNetworkEntry(text);
      return parsed.ok ? undefined : describeEntryProblem(text, parsed.problem);
    },

    async changePolicy(session, effect, entry, scope) {
      const record = ctx.view(session).record;
      const updated = await changePolicy(ctx.policyDeps, { effect, entry, scope, ...(record ? { session: record } : {}) });
      return `${effect === 'allow' ? 'allowed' : 'denied'} ${entry} for the ${scope}; in effect now in ${updated.join(', ') || 'no running session'}`;
    },

    async removeSessionEntry(session, effect, entry) {
      const record = ctx.view(session).record;
      if (!record) return `${session} has no record`;
      const removed = await ctx.policy.removeSessionEntry(record, effect, entry);
      return removed ? `removed ${entry} from ${session}'s ${effect} list` : `${entry} is not ${session}'s own entry (only session entries are removed here; others live in config)`;
    },
  };
}
