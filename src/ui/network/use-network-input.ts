/** The feed's keys, from any view: pause and resume it, all sessions or the selected one. */
import { useDashboard } from '../context.js';
import type { KeyHandler, KeyPress } from '../input.js';

export function useNetworkInput(): KeyHandler {
  const { store } = useDashboard();
  return (key: KeyPress) => {
    const s = store.getState();
    if (key.command === 'pause') s.togglePause();
    else if (key.command === 'feedScope') s.toggleFeedScope();
    else return false;
    return true;
  };
}
