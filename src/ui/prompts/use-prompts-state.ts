/**
 * The footer's modal questions: a prompt that takes typed text (an allowlist entry, a new
 * session's workspace) and a yes/no confirmation before a destructive action.
 */
import { useStore } from 'zustand';
import { useShallow } from 'zustand/react/shallow';
import type { StateCreator } from 'zustand/vanilla';
import { assertNever } from '../../errors.js';
import { useDashboard } from '../context.js';
import type { Scope } from '../services.js';
import type { DashboardState } from '../store.js';

export type EntryScope = Exclude<Scope, 'once'>;
export type NewWhat = 'shell' | 'claude';
export type NewBackend = 'auto' | 'podman' | 'docker';

export type Prompt =
  | { kind: 'add-entry'; effect: 'allow' | 'deny'; scope: EntryScope; text: string; error?: string }
  /** A new session: its workspace (typed), what runs in it and where (tab cycles). */
  | { kind: 'new-session'; text: string; what: NewWhat; backend: NewBackend; error?: string };

export interface Confirm {
  message: string;
  action: 'stop' | 'remove';
  target: string;
}

const SCOPES: readonly EntryScope[] = ['session', 'project', 'global'];
const CHOICES: ReadonlyArray<{ what: NewWhat; backend: NewBackend }> = [
  { what: 'shell', backend: 'auto' },
  { what: 'claude', backend: 'auto' },
  { what: 'shell', backend: 'podman' },
  { what: 'claude', backend: 'podman' },
  { what: 'shell', backend: 'docker' },
  { what: 'claude', backend: 'docker' },
];

/** Tab: the next scope of an entry, the next what-and-where of a new session. */
function cycled(p: Prompt): Prompt {
  switch (p.kind) {
    case 'add-entry':
      return { ...p, scope: SCOPES[(SCOPES.indexOf(p.scope) + 1) % SCOPES.length] ?? 'session' };
    case 'new-session': {
      const i = (CHOICES.findIndex((c) => c.what === p.what && c.backend === p.backend) + 1) % CHOICES.length;
      return { ...p, ...(CHOICES[i] ?? CHOICES[0]) };
    }
    default:
      return assertNever(p, 'prompt');
  }
}

export interface PromptsSlice {
  prompt?: Prompt;
  confirm?: Confirm;
  openPrompt(prompt: Prompt): void;
  closePrompt(): void;
  /** The prompt's text as typed now, and what is wrong with it (if anything). */
  editPrompt(text: string, error?: string): void;
  cyclePrompt(): void;
  ask(confirm: Confirm): void;
  closeConfirm(): void;
}

export const createPromptsSlice: StateCreator<DashboardState, [], [], PromptsSlice> = (set, get) => ({
  openPrompt: (prompt) => set({ prompt }),
  closePrompt: () => set({ prompt: undefined }),
  editPrompt: (text, error) => {
    const p = get().prompt;
    if (p) set({ prompt: { ...p, text, error } });
  },
  cyclePrompt: () => {
    const p = get().prompt;
    if (p) set({ prompt: cycled(p) });
  },
  ask: (confirm) => set({ confirm }),
  closeConfirm: () => set({ confirm: undefined }),
});

export function usePromptsState(): Pick<DashboardState, 'prompt' | 'confirm'> {
  const { store } = useDashboard();
  return useStore(store, useShallow((s) => ({ prompt: s.prompt, confirm: s.confirm })));
}
