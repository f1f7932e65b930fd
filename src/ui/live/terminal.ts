/** A session's terminal: the read-only preview of its screen, the hand-over (attach), a message on its tmux line. */
import { attachSession, type Terminal } from '../../app/attach-session.js';
import { SessionScreen } from '../../sessions/screen.js';
import { sessionDir } from '../../sessions/session-record.js';
import type { DashboardServices } from '../services.js';
import type { LiveContext } from './context.js';

export function liveTerminal(ctx: LiveContext, stdio: Terminal & { stdin: NodeJS.ReadStream }): Pick<DashboardServices, 'preview' | 'attach' | 'notify'> {
  const sessionsDir = ctx.resolved.paths.sessionsDir;
  return {
    async preview(session, onLines) {
      const screen = await SessionScreen.open(ctx.backendOf(session), session, sessionDir(sessionsDir, session));
      const emit = (): void => onLines(screen.snapshot().lines);
      const off = screen.onChange(emit);
      emit();
      return async () => {
        off();
        await screen.close();
      };
    },

    async attach(session) {
      const outcome = await attachSession({ sessionsDir, env: ctx.env }, ctx.view(session), stdio);
      if (outcome.kind === 'detached') return `detached from ${session}`;
      const moved = outcome.quarantined.length ? `; it created ${outcome.quarantined.join(', ')} (protected), moved to the quarantine` : '';
      return `${session} has ended (exit ${outcome.code})${moved}`;
    },

    async notify(session, text) {
      await ctx
        .backendOf(session)
        .exec(session, ['tmux', 'display-message', '-d', '5000', '-t', 'paude', text.replace(/#/g, '##')])
        .catch(() => undefined);
    },
  };
}
