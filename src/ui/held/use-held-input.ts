/** The held bar's keys, from any view: answer the oldest held request once, for a scope, or deny it. */
import type { CommandId } from '../keys.js';
import { useDashboard, type Dashboard } from '../context.js';
import { report, type KeyHandler, type KeyPress } from '../input.js';
import type { Scope } from '../services.js';

const ANSWERS: Partial<Record<CommandId, Scope | 'deny'>> = { approveOnce: 'once', approveSession: 'session', approveProject: 'project', approveGlobal: 'global', deny: 'deny' };

function handle({ store, services }: Dashboard, key: KeyPress): boolean {
  const answer = key.command && ANSWERS[key.command];
  if (!answer) return false;
  const s = store.getState();
  const held = s.approvals[0];
  if (!held) {
    // With nothing waiting approveSession stays quiet, as it always has; the others say so.
    if (answer !== 'session') s.say('no request is waiting');
    return true;
  }
  s.answered(held);
  void report(store, () => services.decide(held, answer));
  return true;
}

export function useHeldInput(): KeyHandler {
  const d = useDashboard();
  return (key: KeyPress) => handle(d, key);
}
