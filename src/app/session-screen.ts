/**
 * A session's screen for the front ends, without a terminal hand-over: a read-only live model of
 * it (the dashboard's preview; a tmux client that neither types nor resizes), and a short
 * message on its tmux line (an announcement while the user is attached there).
 */
import { SessionScreen } from '../sessions/screen.js';
import { sessionDir } from '../sessions/session-record.js';
import type { SessionView } from '../sessions/session-service.js';
import { attachableBackend } from './attach-session.js';

/** Calls back with the screen's lines now and whenever they change; resolves with the close. */
export async function watchScreen(sessionsDir: string, view: SessionView, onLines: (lines: string[]) => void): Promise<() => Promise<void>> {
  const screen = await SessionScreen.open(attachableBackend(view), view.id, sessionDir(sessionsDir, view.id));
  const emit = (): void => onLines(screen.snapshot().lines);
  const off = screen.onChange(emit);
  emit();
  return async () => {
    off();
    await screen.close();
  };
}

/** Shows `text` on the session's tmux message line for a few seconds; a session that cannot show it is left alone. */
export async function tellSession(view: SessionView, text: string): Promise<void> {
  await view.backendHandle?.exec(view.id, ['tmux', 'display-message', '-d', '5000', '-t', 'paude', text.replace(/#/g, '##')]).catch(() => undefined);
}
