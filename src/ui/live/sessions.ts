/** The session list in the dashboard's rows (the status stays the service's union), stop and remove. */
import { removeSession, stopSession } from '../../app/session-end.js';
import type { SessionView } from '../../sessions/session-service.js';
import type { DashboardServices, SessionRow } from '../services.js';
import { isAttachableStatus } from '../sessions/status.js';
import type { LiveContext } from './context.js';

function row(s: SessionView): SessionRow {
  return {
    id: s.id,
    status: s.status,
    ...(s.detail ? { detail: s.detail } : {}),
    backend: s.backend,
    blocked: s.blocked,
    attachable: s.record?.tmux === true && isAttachableStatus(s.status),
    ...(s.workspace ? { workspace: s.workspace } : {}),
    ...(s.started ? { started: s.started } : {}),
    ...(s.network ? { network: s.network } : {}),
    ...(s.tokens ? { tokens: s.tokens } : {}),
  };
}

export function liveSessions(ctx: LiveContext): Pick<DashboardServices, 'listSessions' | 'stop' | 'remove'> {
  return {
    async listSessions() {
      const list = await ctx.service.list({ clients: false });
      ctx.views.clear();
      for (const s of list.sessions) ctx.views.set(s.id, s);
      return { rows: list.sessions.map(row), ...(list.unreachable.length ? { note: list.unreachable.join('; ') } : {}) };
    },

    async stop(session) {
      const moved = await stopSession(ctx.endDeps, ctx.view(session));
      return `stopped ${session}${moved.length ? `; it had created ${moved.join(', ')} (protected), moved to the quarantine` : ''}`;
    },

    async remove(session) {
      // As paude rm --force: a remote session's copy of the workspace is brought back first.
      await removeSession(ctx.endDeps, ctx.view(session));
      return `removed ${session}`;
    },
  };
}
