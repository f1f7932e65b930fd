/** While help is open it is all there is: only help (closing it) and quit reach the frame. */
import { useDashboard } from '../context.js';
import type { KeyHandler, KeyPress } from '../input.js';

export function useHelpInput(): KeyHandler {
  const { store } = useDashboard();
  return (key: KeyPress) => store.getState().help && key.command !== 'help' && key.command !== 'quit';
}
