/** Keys while a confirmation is asked (it takes the next key): y does it, anything else cancels. */
import { assertNever } from '../../errors.js';
import { useDashboard, type Dashboard } from '../context.js';
import { report, type KeyHandler, type KeyPress } from '../input.js';

function handle({ store, services }: Dashboard, key: KeyPress): boolean {
  const s = store.getState();
  const c = s.confirm;
  if (!c) return false;
  s.closeConfirm();
  if (key.input !== 'y') {
    s.say('cancelled');
    return true;
  }
  switch (c.action) {
    case 'stop':
      void report(store, () => services.stop(c.target));
      return true;
    case 'remove':
      void report(store, () => services.remove(c.target));
      return true;
    default:
      return assertNever(c.action, 'confirmed action');
  }
}

export function useConfirmInput(): KeyHandler {
  const d = useDashboard();
  return (key: KeyPress) => handle(d, key);
}
