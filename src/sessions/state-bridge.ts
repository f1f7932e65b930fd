/**
 * Keeps a remote session's proxy state in step with its directory on this host, where every
 * service (policy changes, approvals, the access-log follower, the dashboard) works with it as
 * with a local session's. Host -> proxy: the rules file, decisions and watcher heartbeats, with
 * their times (the helper reads heartbeats by age; clocks are assumed to agree within seconds).
 * Proxy -> host: the access log's new bytes and the held requests. One engine exec per pull.
 * The starter runs it while attached, the keeper while detached; with neither, the proxy keeps
 * its last rules and its log waits for the next bridge.
 */
import { mkdir, readdir, rm, stat, readFile, writeFile, appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SessionBackend } from '../backends/session-backend.js';
import { packTar, type ContextEntry } from '../fs/tar.js';
import { PROXY_STATE_MOUNT, type ProxyStateDir } from '../policy/proxy-state.js';

const PULL_SCRIPT = `cd ${PROXY_STATE_MOUNT} || exit 1
off=$1
size=$(stat -c %s log/access.log 2>/dev/null || echo 0)
if [ "$size" -lt "$off" ]; then off=0; fi
echo "L $off $size"
if [ "$size" -gt "$off" ]; then tail -c +$((off + 1)) log/access.log | head -c $((size - off)); fi
for f in pending/*; do
  [ -f "$f" ] || continue
  echo "P \${f#pending/} $(stat -c %s "$f")"
  cat "$f"
done
echo E`;

export interface BridgeOptions {
  pushIntervalMs?: number;
  pullIntervalMs?: number;
}

export class StateBridge {
  private readonly pushed = new Map<string, string>();
  private timers: NodeJS.Timeout[] = [];
  private running: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly backend: SessionBackend,
    private readonly id: string,
    private readonly state: ProxyStateDir,
    private readonly options: BridgeOptions = {},
  ) {}

  start(): void {
    const every = (ms: number, work: () => Promise<void>): void => {
      this.timers.push(setInterval(() => void this.serial(work), ms));
    };
    every(this.options.pushIntervalMs ?? 150, () => this.push());
    every(this.options.pullIntervalMs ?? 400, () => this.pull());
  }

  /** Runs the bridge's steps one at a time; a failed step is tried again next time. */
  private serial(work: () => Promise<void>): Promise<void> {
    if (this.stopped) return this.running;
    this.running = this.running.then(work).catch(() => undefined);
    return this.running;
  }

  /** Stops, after one last exchange in each direction. */
  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.serial(() => this.push());
    await this.serial(() => this.pull());
    this.stopped = true;
    await this.running;
  }

  async push(): Promise<void> {
    const entries: ContextEntry[] = [];
    const consider = async (rel: string, mode: number): Promise<void> => {
      const abs = join(this.state.root, rel);
      const st = await stat(abs).catch(() => undefined);
      if (!st?.isFile()) return;
      const sig = `${st.mtimeMs}:${st.size}:${st.ino}`;
      if (this.pushed.get(rel) === sig) return;
      entries.push({ path: rel, type: 'file', mode, content: await readFile(abs), mtime: st.mtimeMs / 1000 });
      this.pushed.set(rel, sig);
    };
    await consider('policy/rules', 0o644);
    for (const dir of ['decisions', 'watchers']) {
      for (const name of await readdir(join(this.state.root, dir)).catch(() => [] as string[])) if (!name.startsWith('.')) await consider(`${dir}/${name}`, 0o666);
    }
    if (entries.length) await this.backend.copyIntoProxy(this.id, PROXY_STATE_MOUNT, packTar(entries));
  }

  async pull(): Promise<void> {
    const log = this.state.accessLog;
    const offset = (await stat(log).catch(() => undefined))?.size ?? 0;
    const r = await this.backend.execProxy(this.id, ['sh', '-c', PULL_SCRIPT, 'sh', String(offset)]);
    if (r.exitCode !== 0) return;
    const data = Buffer.from(r.stdout, 'utf8');
    let i = 0;
    const line = (): string => {
      const end = data.indexOf(0x0a, i);
      const text = data.subarray(i, end === -1 ? data.length : end).toString('utf8');
      i = end === -1 ? data.length : end + 1;
      return text;
    };
    const head = /^L ([0-9]+) ([0-9]+)$/.exec(line());
    if (!head) return;
    const [from, to] = [Number(head[1]), Number(head[2])];
    const bytes = data.subarray(i, i + Math.max(0, to - from));
    i += bytes.length;
    await mkdir(join(this.state.root, 'log'), { recursive: true });
    if (from === 0 && offset > 0) await writeFile(log, bytes); // the remote log started over
    else if (bytes.length) await appendFile(log, bytes);
    const pending = new Map<string, Buffer>();
    for (;;) {
      const text = line();
      const p = /^P ([0-9]+-[0-9]+-[0-9]+) ([0-9]+)$/.exec(text);
      if (!p) break;
      pending.set(p[1] ?? '', data.subarray(i, i + Number(p[2])));
      i += Number(p[2]);
    }
    const dir = this.state.pendingDir;
    const local = await readdir(dir).catch(() => [] as string[]);
    for (const name of local) if (!pending.has(name)) await rm(join(dir, name), { force: true });
    for (const [name, content] of pending) if (!local.includes(name)) await writeFile(join(dir, name), content);
  }
}
