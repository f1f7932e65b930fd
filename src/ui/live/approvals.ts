/**
 * Held requests: watched through the application's watchHeldRequests (its presence, a watcher
 * heartbeat, is what makes the proxy hold requests in ask mode instead of refusing them), as
 * `paude approvals --watch` does; answered through answerHeld, as `paude approve` does.
 */
import { answerHeld } from '../../app/network-policy.js';
import { watchHeldRequests } from '../../app/held-requests.js';
import type { DashboardServices } from '../services.js';
import type { LiveContext } from './context.js';

export function liveApprovals(ctx: LiveContext): Pick<DashboardServices, 'followApprovals' | 'decide'> {
  return {
    followApprovals(sessions, onChange) {
      // Present everywhere: a session started while the dashboard is open holds its first
      // request until the dashboard lists it (within a second), instead of refusing it.
      const watch = watchHeldRequests(
        ctx.resolved.paths.sessionsDir,
        sessions,
        (held) => onChange(held.map((h) => ({ session: h.session, id: h.id, host: h.host, port: h.port, method: h.method, since: h.since }))),
        { everywhere: ctx.resolved.paths.watchersDir },
      );
      return () => void watch.stop();
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
