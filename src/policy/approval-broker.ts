/**
 * The user's side of held requests. The proxy's policy helper writes each held request to
 * STATE/pending/<id> ("host port method client epoch") and waits for STATE/decisions/<id>
 * ("allow" or "deny") until the session's approval timeout; it holds requests only while some
 * client keeps a fresh heartbeat in STATE/watchers/ (otherwise ask mode denies at once). This
 * is the whole protocol (docs/NETWORK.md); the CLI and the dashboard are its clients.
 */
import { hostname } from 'node:os';
import { watch, type FSWatcher } from 'node:fs';
import { mkdir, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PaudeError } from '../errors.js';
import type { ProxyStateDir } from './proxy-state.js';

export interface HeldRequest {
  id: string;
  session: string;
  host: string;
  port: number;
  method: string;
  client: string;
  /** When the proxy started holding it (ms since the epoch). */
  since: number;
}

const PENDING_LINE = /^([a-z0-9.:%_?-]{1,255}) ([0-9]{1,5}) ([A-Za-z_-]{1,20}) (\S{1,64}) ([0-9]{1,12})\n?$/;

export function parsePending(id: string, session: string, text: string): HeldRequest | undefined {
  const m = PENDING_LINE.exec(text);
  if (!m) return undefined;
  return { id, session, host: m[1] ?? '', port: Number(m[2]), method: m[3] ?? '', client: m[4] ?? '', since: Number(m[5]) * 1000 };
}

export const HEARTBEAT_MS = 3000;
/** How long the policy helper counts a heartbeat as someone being there (its $watcher_fresh). */
export const WATCHER_FRESH_MS = 10_000;
/** A heartbeat relayed from DATA/watchers into a session is named all-<client>. */
const RELAYED = 'all-';

function defaultClientId(): string {
  return `${hostname().replace(/[^A-Za-z0-9_.-]/g, '_')}-${process.pid}`;
}

async function touch(path: string, when: Date): Promise<void> {
  await utimes(path, when, when).catch(async () => {
    await writeFile(path, '', { mode: 0o644 });
    await utimes(path, when, when);
  });
}

/**
 * Declares this process present for every session, those that start later included, until the
 * returned function is called: a heartbeat in DATA/watchers (`dir`) that each session's host
 * relays into its proxy's state (relayWatchers). A new session's first request is then held
 * for its user, not refused because no watcher had found the session yet.
 */
export async function presentEverywhere(dir: string, clientId = defaultClientId()): Promise<() => Promise<void>> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, clientId);
  await touch(path, new Date());
  const timer = setInterval(() => void touch(path, new Date()).catch(() => undefined), HEARTBEAT_MS);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await rm(path, { force: true });
  };
}

/**
 * Relays the heartbeats of DATA/watchers (`dir`) into a session's watchers, each with its own
 * time (so it goes stale there when it does here), and takes back the ones whose watcher has
 * left or gone stale. Run by the session's host when it starts (before the agent) and then every
 * second.
 */
export async function relayWatchers(dir: string, state: ProxyStateDir, now = Date.now()): Promise<void> {
  const fresh = new Map<string, Date>();
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) continue;
    const st = await stat(join(dir, name)).catch(() => undefined);
    if (st?.isFile() && now - st.mtimeMs <= WATCHER_FRESH_MS) fresh.set(`${RELAYED}${name}`, st.mtime);
  }
  for (const [name, when] of fresh) await touch(join(state.watchersDir, name), when);
  for (const name of await readdir(state.watchersDir).catch(() => [] as string[])) {
    if (name.startsWith(RELAYED) && !fresh.has(name)) await rm(join(state.watchersDir, name), { force: true });
  }
}

export class ApprovalBroker {
  constructor(
    private readonly state: ProxyStateDir,
    private readonly session: string,
    private readonly clientId = defaultClientId(),
  ) {}

  async pending(): Promise<HeldRequest[]> {
    const files = await this.state.listPending();
    return files.flatMap((f) => parsePending(f.id, this.session, f.text) ?? []).sort((a, b) => a.since - b.since);
  }

  /** Answers a held request; fails if it is no longer waiting (decided, timed out). */
  async decide(id: string, decision: 'allow' | 'deny'): Promise<HeldRequest> {
    const held = (await this.pending()).find((r) => r.id === id);
    if (!held) throw new PaudeError(`request ${id} of ${this.session} is no longer waiting (it was decided or timed out); see "paude blocked ${this.session}"`);
    await this.state.writeDecision(id, decision);
    return held;
  }

  /**
   * Declares that someone can answer held requests for as long as the returned function has not
   * been called (heartbeats every 3 s; the helper counts a watcher fresh for 10 s).
   */
  async present(): Promise<() => Promise<void>> {
    await this.state.heartbeat(this.clientId);
    const timer = setInterval(() => void this.state.heartbeat(this.clientId).catch(() => undefined), HEARTBEAT_MS);
    timer.unref();
    return async () => {
      clearInterval(timer);
      await this.state.leave(this.clientId);
    };
  }

  /** Calls back with the full list whenever held requests appear or go; returns a stop function. */
  watch(onChange: (held: HeldRequest[]) => void, pollMs = 250): () => void {
    let last = '';
    let stopped = false;
    const check = async (): Promise<void> => {
      const held = await this.pending();
      const key = held.map((h) => h.id).join(',');
      if (key !== last && !stopped) {
        last = key;
        onChange(held);
      }
    };
    const tick = (): void => void check().catch(() => undefined);
    let watcher: FSWatcher | undefined;
    try {
      watcher = watch(this.state.pendingDir, tick);
      watcher.on('error', () => undefined);
    } catch {
      // polling below still works
    }
    const timer = setInterval(tick, pollMs);
    timer.unref();
    tick();
    return () => {
      stopped = true;
      watcher?.close();
      clearInterval(timer);
    };
  }
}
