/**
 * Protected paths that do not exist when a session starts cannot be mounted read-only (the
 * mount point would have to be created in the user's repository). The agent could create them
 * — an .envrc that direnv runs, an .mcp.json Claude Code loads on the host — so paude watches
 * for them during the session and moves any that appear into a quarantine directory outside
 * the repository, and checks once more when the session ends. Likewise a submodule repository
 * that appears under `.git/modules` (the host's `git status` would enter it, and run what its
 * config says): with `gitModules` (what was there at start), a new directory there is moved out
 * whole.
 */
import { watch, type FSWatcher } from 'node:fs';
import { appendFile, cp, lstat, mkdir, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { newModuleDirs, type ModuleTree } from './workspace-mounts.js';

export class ProtectedPathGuard {
  private watchers: FSWatcher[] = [];
  private readonly moved = new Set<string>();
  private checking: Promise<void> = Promise.resolve();

  constructor(
    private readonly root: string,
    private readonly watched: readonly string[],
    private readonly quarantine: string,
    private readonly gitModules?: ModuleTree,
  ) {}

  start(): void {
    const dirs = new Set(this.watched.map((rel) => dirname(join(this.root, rel))));
    if (this.gitModules) {
      // Where a new repository would go: .git/modules, the directories on the way to the modules
      // there were, and the modules' own modules/.
      dirs.add(join(this.root, '.git', 'modules'));
      for (const d of this.gitModules.dirs) dirs.add(join(this.root, d));
      for (const m of this.gitModules.modules) dirs.add(join(this.root, m, 'modules'));
    }
    for (const dir of dirs) {
      try {
        const w = watch(dir, () => this.schedule());
        w.on('error', () => undefined);
        this.watchers.push(w);
      } catch {
        // The parent does not exist either; the final check still covers it.
      }
    }
    // And once now: what appeared before the watching began (a keeper takes over from the paude
    // that started the session some hundred milliseconds later) raises no event.
    this.schedule();
  }

  /** Stops watching, checks one last time, and returns what was quarantined (relative paths). */
  async stop(): Promise<string[]> {
    for (const w of this.watchers) w.close();
    this.watchers = [];
    this.schedule();
    await this.checking;
    return [...this.moved];
  }

  private schedule(): void {
    this.checking = this.checking.then(() => this.check()).catch(() => undefined);
  }

  private async check(): Promise<void> {
    const appeared = this.gitModules ? newModuleDirs(this.root, this.gitModules) : [];
    for (const rel of [...this.watched, ...appeared]) {
      const source = join(this.root, rel);
      if (!(await exists(source))) continue;
      // Made again after it was moved: each one is kept (.envrc, .envrc.1, ...).
      let target = join(this.quarantine, rel);
      for (let n = 1; await exists(target); n++) target = join(this.quarantine, `${rel}.${n}`);
      await mkdir(dirname(target), { recursive: true, mode: 0o700 });
      try {
        await rename(source, target);
      } catch {
        // Another file system: copy, then remove.
        await cp(source, target, { recursive: true, verbatimSymlinks: true });
        await rm(source, { recursive: true, force: true });
      }
      this.moved.add(rel);
      // The journal the audit log records these from (quarantineJournal).
      await appendFile(quarantineJournal(this.quarantine), `${JSON.stringify({ path: rel, to: target, at: new Date().toISOString() })}\n`, { mode: 0o600 });
    }
  }
}

/** Whether anything is at the path (a dangling symlink too). */
function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

/** Where what a session created at protected paths is moved: DATA/quarantine/<session>/. */
export function quarantineDir(dataDir: string, id: string): string {
  return join(dataDir, 'quarantine', id);
}

/** Beside the quarantine directory: one JSON line per path moved there (`path`, `at`). */
export function quarantineJournal(quarantine: string): string {
  return `${quarantine}.jsonl`;
}

const JournalEntrySchema = z.strictObject({ path: z.string(), to: z.string(), at: z.string().datetime({ offset: true }) });

/** What the journal says was moved (from the workspace `path` to `to`), oldest first; lines that are not entries are skipped. */
export async function readQuarantineJournal(quarantine: string): Promise<Array<{ path: string; to: string; at: string }>> {
  const text = await readFile(quarantineJournal(quarantine), 'utf8').catch(() => '');
  const out: Array<{ path: string; to: string; at: string }> = [];
  for (const line of text.split('\n')) {
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      // A line cut short by a full disk or a kill: not an entry.
      continue;
    }
    const entry = JournalEntrySchema.safeParse(json);
    if (entry.success) out.push(entry.data);
  }
  return out;
}
