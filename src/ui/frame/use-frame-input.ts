/** The frame's keys: quit, help, and the views (by number, or the next and previous). */
import { useDashboard, type Dashboard } from '../context.js';
import type { KeyHandler, KeyPress } from '../input.js';

function handle(d: Dashboard, key: KeyPress): boolean {
  const s = d.store.getState();
  switch (key.command) {
    case 'quit':
      d.onQuit();
      return true;
    case 'help':
      s.toggleHelp();
      return true;
    case 'nextView':
    case 'prevView':
      s.cycleView(key.command === 'nextView' ? 1 : -1);
      return true;
    case 'sessions':
    case 'network':
    case 'allowlist':
    case 'tokens':
      s.setView(key.command);
      return true;
    default:
      return false;
  }
}

export function useFrameInput(): KeyHandler {
  const d = useDashboard();
  return (key: KeyPress) => handle(d, key);
}
