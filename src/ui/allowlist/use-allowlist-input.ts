/**
 * The allowlist's keys: in its view the arrows move over the policy's lines and x removes a
 * session entry; from any view a and D open the allowlist with a prompt for an entry.
 */
import { useDashboard, type Dashboard } from '../context.js';
import { report, type KeyHandler, type KeyPress } from '../input.js';

async function removeEntry(d: Dashboard): Promise<void> {
  const s = d.store.getState();
  const line = s.policy?.lines[s.policyCursor];
  const session = s.selected;
  if (!line || !session) return;
  await report(d.store, () => d.services.removeSessionEntry(session, line.effect, line.text));
  await d.refreshPolicy();
}

function handle(d: Dashboard, key: KeyPress): boolean {
  const s = d.store.getState();
  const here = s.view === 'allowlist';
  switch (key.command) {
    case 'up':
    case 'down':
      if (!here) return false;
      s.movePolicy(key.command === 'up' ? -1 : 1);
      return true;
    case 'removeEntry':
      if (here) void removeEntry(d);
      return true;
    case 'addAllow':
    case 'addDeny':
      if (!s.selected) {
        s.say('select a session first');
        return true;
      }
      if (!here) s.setView('allowlist');
      s.openPrompt({ kind: 'add-entry', effect: key.command === 'addAllow' ? 'allow' : 'deny', scope: 'session', text: '' });
      return true;
    default:
      return false;
  }
}

export function useAllowlistInput(): KeyHandler {
  const d = useDashboard();
  return (key: KeyPress) => handle(d, key);
}
