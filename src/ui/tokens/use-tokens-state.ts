/**
 * The tokens view's state, derived from the session list (nothing of its own to change): the
 * sessions whose agent reported telemetry, and their total.
 */
import { useMemo } from 'react';
import { useStore } from 'zustand';
import { useShallow } from 'zustand/react/shallow';
import { useDashboard } from '../context.js';
import type { SessionRow } from '../services.js';

export type Tokens = NonNullable<SessionRow['tokens']>;

const NONE: Tokens = { input: 0, output: 0, cacheRead: 0, cacheCreation: 0, costUsd: 0 };

export function totalOf(rows: readonly { tokens: Tokens }[]): Tokens {
  return rows.reduce((t, { tokens: r }) => ({ input: t.input + r.input, output: t.output + r.output, cacheRead: t.cacheRead + r.cacheRead, cacheCreation: t.cacheCreation + r.cacheCreation, costUsd: t.costUsd + r.costUsd }), NONE);
}

export function useTokensState(): { rows: Array<{ id: string; tokens: Tokens }>; total: Tokens; selected?: string } {
  const { store } = useDashboard();
  const { sessions, selected } = useStore(store, useShallow((s) => ({ sessions: s.sessions, selected: s.selected })));
  return useMemo(() => {
    const rows = sessions.flatMap((r) => (r.tokens ? [{ id: r.id, tokens: r.tokens }] : []));
    return { rows, total: totalOf(rows), selected };
  }, [sessions, selected]);
}
