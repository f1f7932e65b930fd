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
import { ProtectedPathGuard, quarantineDir } from '../workspace/protected-guard.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { claimOwner, liveOwner, releaseOwner } from './owner.js';
import { reapClients } from './clients.js';
import { StateBridge } from './state-bridge.js';
import { ProxyStateDir } from '../policy/proxy-state.js';
import type { SessionRecord } from './session-record.js';
import { ProxySupervisor } from './proxy-supervisor.js';
import { faultPoint } from '../faults.js';


/** Runs until the session's agent has ended (or is gone). `report`: a line for the keeper's log. */
export async function keepSession(
  backend: SessionBackend,
  record: SessionRecord,
  dirs: { sessionDir: string; dataDir: string },
  onEnd?: (exitCode: number | null) => Promise<void>,
  report?: (line: string) => void,
  /** Each restart of the proxy (see ProxySupervisor), for the audit log. */
  onProxyRestart?: (restarts: number, error?: string) => Promise<void>,
): Promise<void> {
  await claimOwner(dirs.sessionDir, 'keeper');
  faultPoint('keeper.claimed');
  const guard = new ProtectedPathGuard(record.projectRoot, record.watched ?? [], quarantineDir(dirs.dataDir, record.id), record.gitModules);
  guard.start();
  // Terminals whose paude died stay attached in the container until detached (clients.ts).
  const reaper = setInterval(() => void reapClients(backend, record.id, dirs.sessionDir).catch(() => undefined), 2000);
  // A remote session's proxy state is bridged to this host while it runs.
  const bridge = backend.remote ? new StateBridge(backend, record.id, new ProxyStateDir(join(dirs.sessionDir, 'proxy'))) : undefined;
  bridge?.start();
  const proxy = new ProxySupervisor(backend, record.id, { ...(report ? { report } : {}), ...(onProxyRestart ? { onRestart: onProxyRestart } : {}) });
  proxy.start();
  // Once now: a proxy that died while no keeper ran (this one starts after a crash) is not left so.
  void proxy.check();
  try {
    const code = await backend.waitAgent(record.id).catch(() => null);
    await proxy.stop();
    await bridge?.stop().catch(() => undefined);
    // The last look, now that the agent has ended, before the session's story is settled.
    const moved = await guard.stop();
    if (moved.length > 0) await noteQuarantined(dirs.sessionDir, moved);
    await onEnd?.(code).catch(() => undefined);
    // A cluster session's proxy pod has nothing left to do (local proxies stop by themselves);
    // the agent pod stays, for its files.
    if (backend.kind === 'kubernetes') await backend.stop(record.id, 0).catch(() => undefined);
  } finally {
    clearInterval(reaper);
    await proxy.stop();
    await bridge?.stop().catch(() => undefined);
    const moved = await guard.stop();
    if (moved.length > 0) await noteQuarantined(dirs.sessionDir, moved);
    await releaseOwner(dirs.sessionDir, 'keeper');
  }
}

/** What the guard moved, for `paude sessions` and `paude attach` to tell the user. */
export async function noteQuarantined(sessionDir: string, moved: readonly string[]): Promise<void> {
  await writeFileAtomic(join(sessionDir, 'quarantined.json'), JSON.stringify(moved) + '\n');
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
