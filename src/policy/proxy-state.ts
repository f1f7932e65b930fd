/**
 * The directory a session's proxy shares with paude (mounted at /run/paude in the proxy
 * container): squid.conf, the rules file, held requests and decisions, watcher heartbeats and
 * logs. The agent container never sees it.
 */
import { chmod, mkdir, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../fs/atomic-write.js';

export const PROXY_STATE_MOUNT = '/run/paude';

export class ProxyStateDir {
  constructor(readonly root: string) {}

  get rulesFile(): string {
    return join(this.root, 'policy', 'rules');
  }
  get squidConf(): string {
    return join(this.root, 'squid.conf');
  }
  /** The provider route's key (squid includes it); mode 0644 like squid.conf, in the 0700 session dir. */
  get providerConf(): string {
    return join(this.root, 'provider.conf');
  }
  get accessLog(): string {
    return join(this.root, 'log', 'access.log');
  }
  get cacheLog(): string {
    return join(this.root, 'log', 'cache.log');
  }
  get pendingDir(): string {
    return join(this.root, 'pending');
  }
  get decisionsDir(): string {
    return join(this.root, 'decisions');
  }
  get watchersDir(): string {
    return join(this.root, 'watchers');
  }

  /**
   * Creates the layout. Squid runs as an unprivileged user whose id depends on the image and the
   * engine's user namespace, so the directories it writes are world-writable; the session
   * directory above them is private to the user (0700), which is what keeps others out.
   */
  async prepare(): Promise<void> {
    await mkdir(this.root, { recursive: true, mode: 0o755 });
    await chmod(this.root, 0o755);
    for (const dir of ['policy', 'log', 'pending', 'decisions', 'watchers']) {
      const path = join(this.root, dir);
      await mkdir(path, { recursive: true });
      await chmod(path, dir === 'policy' ? 0o755 : 0o777);
    }
  }

  async writeRules(text: string): Promise<void> {
    await writeFileAtomic(this.rulesFile, text, 0o644);
  }

  async writeSquidConf(text: string): Promise<void> {
    await writeFileAtomic(this.squidConf, text, 0o644);
  }

  async readRules(): Promise<string | undefined> {
    return readFile(this.rulesFile, 'utf8').catch(() => undefined);
  }

  async writeDecision(id: string, decision: 'allow' | 'deny'): Promise<void> {
    await writeFileAtomic(join(this.decisionsDir, id), `${decision}\n`, 0o666);
  }

  async listPending(): Promise<Array<{ id: string; text: string }>> {
    const names = await readdir(this.pendingDir).catch(() => [] as string[]);
    const out: Array<{ id: string; text: string }> = [];
    for (const id of names) {
      if (!/^[0-9]+-[0-9]+-[0-9]+$/.test(id)) continue;
      const text = await readFile(join(this.pendingDir, id), 'utf8').catch(() => undefined);
      if (text !== undefined) out.push({ id, text });
    }
    return out;
  }

  /** Marks `client` as present to answer held requests; call again within 10 s to stay present. */
  async heartbeat(client: string): Promise<void> {
    const path = join(this.watchersDir, client);
    const now = new Date();
    await utimes(path, now, now).catch(async () => writeFile(path, '', { mode: 0o644 }));
  }

  async leave(client: string): Promise<void> {
    await rm(join(this.watchersDir, client), { force: true });
  }
}
