/** Keys while the filter is typed (it takes them all): text, backspace; enter keeps it, escape clears it. */
import { useDashboard } from '../context.js';
import { edited, type KeyHandler, type KeyPress } from '../input.js';

export function useFilterInput(): KeyHandler {
  const { store } = useDashboard();
  return (key: KeyPress) => {
    const s = store.getState();
    if (!s.filtering) return false;
    if (key.name === 'return' || key.name === 'escape') s.endFilter(key.name === 'return');
    else s.editFilter(edited(s.filter, key));
    return true;
  };
}
