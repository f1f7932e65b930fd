/**
 * What a rootless engine needs, checked for `paude doctor`: each check says what it found and,
 * when it fails, the fix. The facts come in through `RootlessFacts` (the engine's info, the
 * user's subordinate id ranges, the tools on PATH, XDG_RUNTIME_DIR), so the checks are plain
 * functions of them.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { engineSecurity, type Engine, type EngineSecurity } from './engine.js';

export interface RootlessFacts {
  engine: EngineSecurity;
  user: { name: string; uid: number };
  /** /etc/subuid and /etc/subgid. */
  subuid: string;
  subgid: string;
  which(name: string): string | undefined;
  /** XDG_RUNTIME_DIR, and its owner when it exists. */
  runtimeDir?: { path: string; owner?: number };
}

export interface Check {
  name: string;
  ok: boolean;
  found: string;
  fix?: string;
}

/** Ranges of /etc/subuid-style lines that belong to the user (by name or uid), with their sizes. */
function ranges(text: string, user: RootlessFacts['user']): number {
  let total = 0;
  for (const line of text.split('\n')) {
    const [who, , count] = line.trim().split(':');
    if (who === user.name || who === String(user.uid)) total += Number(count) || 0;
  }
  return total;
}

export function rootlessChecks(f: RootlessFacts): Check[] {
  const checks: Check[] = [];
  for (const [file, text] of [['/etc/subuid', f.subuid], ['/etc/subgid', f.subgid]] as const) {
    const n = ranges(text, f.user);
    // Images use ids up to 65535 (nobody); fewer subordinate ids leave files unmappable.
    checks.push({
      name: `${file} range for ${f.user.name}`,
      ok: n >= 65536,
      found: n ? `${n} ids` : 'none',
      ...(n >= 65536 ? {} : { fix: `sudo usermod --add-${file === '/etc/subuid' ? 'subuids' : 'subgids'} 100000-165535 ${f.user.name}, then podman system migrate` }),
    });
  }
  const driver = f.engine.driver;
  const viaFuse = f.engine.fuseOverlay;
  checks.push({
    name: 'storage driver',
    ok: driver !== 'vfs',
    found: driver === 'overlay' && viaFuse ? 'overlay (fuse-overlayfs)' : driver,
    ...(driver === 'vfs'
      ? { fix: 'vfs gives containers a / where no non-root process can run: set driver = "overlay" with mount_program = "/usr/bin/fuse-overlayfs" in ~/.config/containers/storage.conf (Debian: apt install fuse-overlayfs), then podman system reset' }
      : {}),
  });
  const net = ['pasta', 'slirp4netns'].map((t) => f.which(t)).find(Boolean);
  checks.push({ name: 'user-mode networking', ok: net !== undefined, found: net ?? 'neither pasta nor slirp4netns on PATH', ...(net ? {} : { fix: 'install slirp4netns (or passt, for pasta)' }) });
  checks.push(limitsCheck(f.engine.cgroups));
  const rt = f.runtimeDir;
  const rtOk = rt !== undefined && rt.owner === f.user.uid;
  checks.push({
    name: 'XDG_RUNTIME_DIR',
    ok: rtOk,
    found: !rt ? 'not set' : rt.owner === undefined ? `${rt.path} does not exist` : rtOk ? rt.path : `${rt.path} belongs to uid ${rt.owner}`,
    ...(rtOk ? {} : { fix: 'log in through a session that makes /run/user/UID (systemd-logind), or create it owned by you with mode 0700 and export XDG_RUNTIME_DIR' }),
  });
  return checks;
}

/** The controllers a session's limits (resources.memory, cpus, pids) need. */
const LIMITS = ['memory', 'pids', 'cpu'];

/**
 * Whether the engine can hold a rootless session to its memory, CPU and process limits: only
 * on cgroups v2 with those controllers delegated to the user (on v1 rootless Podman ignores the
 * limits, saying so only in its service's log).
 */
function limitsCheck(cgroups: RootlessFacts['engine']['cgroups']): Check {
  const name = 'resource limits (memory, cpus, pids)';
  if (!cgroups) return { name, ok: true, found: 'the engine does not say its cgroup version' };
  const missing = cgroups.version === '2' ? LIMITS.filter((c) => cgroups.controllers && !cgroups.controllers.includes(c)) : LIMITS;
  if (missing.length === 0) return { name, ok: true, found: `cgroups v2${cgroups.controllers ? ` (${cgroups.controllers.join(', ')})` : ''}` };
  return {
    name,
    ok: false,
    found: cgroups.version === '2' ? `cgroups v2 without ${missing.join(', ')} for your user: those limits are not applied` : 'cgroups v1: the engine ignores every limit for rootless containers',
    fix:
      cgroups.version === '2'
        ? `delegate ${missing.join(' ')} to users (systemd: a drop-in for user@.service with Delegate=${LIMITS.join(' ')}), then log in again`
        : 'boot with cgroups v2 (systemd.unified_cgroup_hierarchy=1 on the kernel command line) and delegate memory, pids and cpu to users, or run paude against a rootful engine',
  };
}

/** The facts of this host and the engine, for rootlessChecks. */
export async function rootlessFacts(engine: Engine, env: NodeJS.ProcessEnv): Promise<RootlessFacts> {
  const security = await engineSecurity(engine);
  const read = (path: string): string => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return '';
    }
  };
  const me = userInfo();
  const runtime = env.XDG_RUNTIME_DIR;
  return {
    engine: security,
    user: { name: me.username, uid: me.uid },
    subuid: read('/etc/subuid'),
    subgid: read('/etc/subgid'),
    which: (name) => (env.PATH ?? '').split(':').map((dir) => join(dir, name)).find((p) => existsSync(p)),
    ...(runtime ? { runtimeDir: { path: runtime, ...(existsSync(runtime) ? { owner: statSync(runtime).uid } : {}) } } : {}),
  };
}
