/** A session's terminal: the read-only preview of its screen, the hand-over (attach), a message on its tmux line. */
import { attachSession, type Terminal } from '../../app/attach-session.js';
import { tellSession, watchScreen } from '../../app/session-screen.js';
import type { DashboardServices } from '../services.js';
import type { LiveContext } from './context.js';

export function liveTerminal(ctx: LiveContext, stdio: Terminal & { stdin: NodeJS.ReadStream }): Pick<DashboardServices, 'preview' | 'attach' | 'notify'> {
  const sessionsDir = ctx.resolved.paths.sessionsDir;
  return {
    preview: (session, onLines) => watchScreen(sessionsDir, ctx.view(session), onLines),

    async attach(session) {
      const outcome = await attachSession({ sessionsDir, env: ctx.env }, ctx.view(session), stdio);
      if (outcome.kind === 'detached') return `detached from ${session}`;
      const moved = outcome.quarantined.length ? `; it created ${outcome.quarantined.join(', ')} (protected), moved to the quarantine` : '';
      return `${session} has ended (exit ${outcome.code})${moved}`;
    },

    notify: (session, text) => tellSession(ctx.view(session), text),
  };
}
