/**
 * Terminals attached to a session from this host. An engine does not end an exec when the
 * client at the other end dies (kill -9, a lost SSH connection), so the tmux client in the
 * container would count as attached forever: no idle stop, a window sized for a terminal
 * that is gone. Each `paude attach` leaves its pid under a random token on the host, and the
 * tmux client leaves its terminal's name under the same token in the container; a token whose
 * pid has died gets its client detached.
 */
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { SessionBackend } from '../backends/session-backend.js';
import { claimOwner, liveOwner, releaseOwner } from './owner.js';

export interface ClientLease {
  token: string;
  release(): Promise<void>;
}

export async function leaseClient(sessionDir: string): Promise<ClientLease> {
  const token = randomBytes(8).toString('hex');
  await claimOwner(sessionDir, `clients/${token}`);
  return { token, release: () => releaseOwner(sessionDir, `clients/${token}`) };
}

/** Detaches the clients whose paude has died; returns how many. */
export async function reapClients(backend: SessionBackend, id: string, sessionDir: string): Promise<number> {
  const names = await readdir(join(sessionDir, 'clients')).catch(() => [] as string[]);
  let reaped = 0;
  for (const name of names) {
    const token = /^([a-f0-9]{16})\.pid$/.exec(name)?.[1];
    if (!token || (await liveOwner(sessionDir, `clients/${token}`)) !== undefined) continue;
    await detachClient(backend, id, token);
    await releaseOwner(sessionDir, `clients/${token}`);
    reaped++;
  }
  return reaped;
}

/** How many terminals (and read-only screens) on this host hold a lease whose paude is alive. */
export async function liveLeases(sessionDir: string): Promise<number> {
  const names = await readdir(join(sessionDir, 'clients')).catch(() => [] as string[]);
  let live = 0;
  for (const name of names) {
    const token = /^([a-f0-9]{16})\.pid$/.exec(name)?.[1];
    if (token && (await liveOwner(sessionDir, `clients/${token}`)) !== undefined) live++;
  }
  return live;
}

/** Detaches the tmux client that attached under this token (a no-op when it is gone). */
export async function detachClient(backend: SessionBackend, id: string, token: string): Promise<void> {
  const script = 'c=/tmp/paude-session/clients/$1; if [ -f "$c" ]; then tmux detach-client -t "$(cat "$c")" 2>/dev/null; rm -f "$c"; fi';
  await backend.exec(id, ['sh', '-c', script, 'sh', token]).catch(() => undefined);
}
