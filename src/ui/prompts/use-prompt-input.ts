/**
 * Keys while a prompt is open (it takes them all): text and backspace edit it, tab cycles its
 * choice, escape cancels, enter submits (an allowlist entry is checked first, with the CLI's
 * message; a new session is started and selected).
 */
import { useDashboard, type Dashboard } from '../context.js';
import { edited, report, type KeyHandler, type KeyPress } from '../input.js';
import type { Prompt } from './use-prompts-state.js';

async function submit(d: Dashboard, p: Prompt): Promise<void> {
  const { store, services } = d;
  const s = store.getState();
  if (p.kind === 'new-session') {
    s.closePrompt();
    s.say(`starting ${p.what === 'shell' ? 'a shell' : 'Claude Code'} in ${p.text}…`);
    try {
      const id = await services.newSession(p.text, p.what, p.backend, (line) => store.getState().say(`starting: ${line}`));
      store.getState().say(`started ${id}`);
      store.getState().select(id);
    } catch (error) {
      store.getState().say(`error: ${(error as Error).message}`);
    }
    return;
  }
  const error = services.checkEntry(p.text);
  if (error) return s.editPrompt(p.text, error);
  s.closePrompt();
  const session = s.selected;
  if (!session) return;
  await report(store, () => services.changePolicy(session, p.effect, p.text, p.scope));
  await d.refreshPolicy();
}

function handle(d: Dashboard, key: KeyPress): boolean {
  const s = d.store.getState();
  const p = s.prompt;
  if (!p) return false;
  if (key.name === 'escape') s.closePrompt();
  else if (key.name === 'tab') s.cyclePrompt();
  else if (key.name === 'return') void submit(d, p);
  else {
    const text = edited(p.text, key);
    // An entry is checked as it is typed; a workspace when it is used.
    s.editPrompt(text, p.kind === 'add-entry' && text ? d.services.checkEntry(text) : undefined);
  }
  return true;
}

export function usePromptInput(): KeyHandler {
  const d = useDashboard();
  return (key: KeyPress) => handle(d, key);
}
