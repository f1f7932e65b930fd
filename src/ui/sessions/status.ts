/**
 * What the dashboard does with a session's status (the SessionStatus union of the session
 * service): which sessions it follows, how the list orders and colours them, and, last of all,
 * the text a row shows. Every switch is exhaustive: a new status is a compile error here.
 */
import { assertNever } from '../../errors.js';
import type { SessionStatus } from '../../sessions/session-service.js';
import type { Token } from '../theme.js';

/** Whether its proxy runs: the feed and the held requests follow it. */
export function isActive(status: SessionStatus): boolean {
  switch (status) {
    case 'attached':
    case 'detached':
    case 'running':
    case 'degraded':
    case 'starting':
      return true;
    case 'stopped':
    case 'error':
      return false;
    default:
      return assertNever(status, 'session status');
  }
}

/** Whether a terminal can be handed to it now (when it runs in tmux). */
export function isAttachableStatus(status: SessionStatus): boolean {
  return status === 'attached' || status === 'detached';
}

/** The order of the status sort: the ones you can work with first. */
export const STATUS_ORDER: Record<SessionStatus, number> = { attached: 0, detached: 1, running: 2, starting: 3, degraded: 4, error: 5, stopped: 6 };

export function statusTone(status: SessionStatus): Token {
  switch (status) {
    case 'attached':
    case 'detached':
    case 'running':
      return 'live';
    case 'stopped':
      return 'idle';
    case 'starting':
      return 'starting';
    case 'degraded':
    case 'error':
      return 'problem';
    default:
      return assertNever(status, 'session status');
  }
}

/** The STATUS cell: "stopped (exit 0)" says how it stopped; other states stand alone. */
export function statusText(row: { status: SessionStatus; detail?: string }): string {
  return row.status === 'stopped' && row.detail ? `stopped (${row.detail})` : row.status;
}
