/**
 * The keeper of a detached session: a small background process on the host that guards the
 * workspace while nobody's `paude` is attached (protected paths the agent creates are moved
 * to quarantine as they appear, see workspace/protected-guard.ts) and notes what it moved when the
 * session's command ends. It also brings the session's proxy back when it dies under a running
 * agent (proxy-supervisor.ts). Idleness is watched inside the container (paude-tmux-session), so
 * a session is stopped on time even when its keeper is gone.
 */
import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { SessionBackend } from '../backends/session-backend.js';
import { claimOwner, liveOwner, releaseOwner } from './owner.js';
import type { SessionHost } from './session-host.js';
import type { SessionRecord } from './session-record.js';
import { faultPoint } from '../faults.js';


/**
 * Runs until the session's agent has ended (or is gone), with the session's host tasks (guard,
 * client reaper, proxy supervisor, state bridge, relay, file watch) running meanwhile; their
 * last look comes before `onEnd` settles the session's story.
 */
export async function keepSession(host: SessionHost, backend: SessionBackend, record: SessionRecord, sessionDir: string, onEnd?: (exitCode: number | null) => Promise<void>): Promise<void> {
  await claimOwner(sessionDir, 'keeper');
  faultPoint('keeper.claimed');
  // Also looks at the proxy once now: one that died while no keeper ran is not left so.
  await host.start();
  try {
    const code = await backend.waitAgent(record.id).catch(() => null);
    await host.stop();
    await onEnd?.(code).catch(() => undefined);
    // What is left once the command has ended (a cluster session's proxy pod); files stay.
    await backend.agentEnded(record.id).catch(() => undefined);
  } finally {
    await host.stop();
    await releaseOwner(sessionDir, 'keeper');
  }
}

/**
 * Starts a keeper for the session unless one is alive. It runs `paude _keeper ID` detached
 * from this process and its terminal, with its output in the session's keeper.log.
 */
export async function ensureKeeper(sessionDir: string, id: string, env: NodeJS.ProcessEnv): Promise<void> {
  if ((await liveOwner(sessionDir, 'keeper')) !== undefined) return;
  await mkdir(sessionDir, { recursive: true, mode: 0o700 });
  const log = openSync(join(sessionDir, 'keeper.log'), 'a', 0o600);
  try {
    const main = fileURLToPath(new URL('../../bin/paude.js', import.meta.url));
    const child = spawn(process.execPath, [main, '_keeper', id], { detached: true, stdio: ['ignore', log, log], env });
    child.unref();
    // Claimed here too, so that a second `paude attach` right after this one does not start another.
    // A keeper that cannot be recorded (a full disk) is ended at once: the start that spawned it
    // fails and removes the session, which the keeper would otherwise go on writing into.
    if (child.pid) {
      await claimOwner(sessionDir, 'keeper', child.pid).catch((error: unknown) => {
        child.kill('SIGKILL');
        throw error;
      });
    }
  } finally {
    closeSync(log);
  }
}
