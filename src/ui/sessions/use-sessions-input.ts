/**
 * The selected session's commands, from any view: move the selection, attach, filter, sort,
 * start a new session, stop and remove (both asked first).
 */
import { useDashboard, type Dashboard } from '../context.js';
import type { KeyHandler, KeyPress } from '../input.js';
import { statusText } from './status.js';

function handle(d: Dashboard, key: KeyPress): boolean {
  const s = d.store.getState();
  const row = s.sessions.find((r) => r.id === s.selected);
  switch (key.command) {
    case 'up':
    case 'down':
      s.move(key.command === 'up' ? -1 : 1);
      return true;
    case 'attach':
      if (row && row.attachable) d.onAttach(row.id);
      else if (row) s.say(`${row.id} cannot be attached (${statusText(row)})`);
      return true;
    case 'filter':
      s.startFilter();
      return true;
    case 'sort':
      s.cycleSort();
      s.say(`sorted by ${d.store.getState().sort}`);
      return true;
    case 'newSession':
      s.openPrompt({ kind: 'new-session', text: d.services.cwd, what: 'shell', backend: 'auto' });
      return true;
    case 'stop':
      if (s.selected) s.ask({ message: `stop ${s.selected}? its command gets SIGHUP; its state is kept`, action: 'stop', target: s.selected });
      return true;
    case 'removeSession':
      if (row) s.ask({ message: `remove ${row.id}${row.status === 'stopped' ? '' : ' (it is running: it is stopped first)'}? containers, volumes and metadata go`, action: 'remove', target: row.id });
      return true;
    default:
      return false;
  }
}

export function useSessionsInput(): KeyHandler {
  const d = useDashboard();
  return (key: KeyPress) => handle(d, key);
}
