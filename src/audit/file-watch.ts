/**
 * Workspace changes seen from the host for a local session: created, modified, deleted, one
 * event per path per half second at most. .git/ and the isolated paths (container-local
 * storage, invisible here anyway) are left out.
 *
 * A manifest (path -> size, mtime) in the session directory says what the workspace looked like
 * when paude last looked. Whoever watches next (the keeper of a detached session, or the paude
 * that settles a session after its keeper died) compares it with the workspace and records what
 * changed meanwhile, marked `unwatched`. Event ids are made of the path, the change and the
 * file's mtime, so the live watcher and a later catch-up never record one change twice.
 */
import { watch, type FSWatcher } from 'node:fs';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { AUDIT_VERSION, type AuditEvent } from './audit-event.js';
import type { AuditLog } from './audit-log.js';

export const FILE_MANIFEST = 'files.json';
/** Past this many files the workspace is watched live only: the manifest would be too big to keep. */
const MAX_FILES = 200_000;
const SAVE_DELAY = 2000;
const CLOCK_SLACK_MS = 50;

const Manifest = z.strictObject({
  version: z.literal(1),
  root: z.string(),
  skip: z.array(z.string()),
  files: z.record(z.string(), z.tuple([z.number(), z.number()])),
});

type Entry = [size: number, mtimeMs: number];
type Change = 'created' | 'modified' | 'deleted';

const skippedBy =
  (skip: readonly string[]) =>
  (rel: string): boolean =>
    ['.git', ...skip].some((p) => rel === p || rel.startsWith(`${p}/`));

/** Every file under root (not following symlinks) with its size and mtime; undefined past MAX_FILES. */
async function scan(root: string, skipped: (rel: string) => boolean): Promise<Map<string, Entry> | undefined> {
  const files = new Map<string, Entry>();
  const dirs = [''];
  while (dirs.length) {
    const dir = dirs.pop() ?? '';
    const entries = await readdir(join(root, dir), { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const rel = dir ? `${dir}/${e.name}` : e.name;
      if (skipped(rel)) continue;
      if (e.isDirectory()) dirs.push(rel);
      else {
        const st = await lstat(join(root, rel)).catch(() => undefined);
        if (st) files.set(rel, [st.size, Math.floor(st.mtimeMs)]);
        if (files.size > MAX_FILES) return undefined;
      }
    }
  }
  return files;
}

function fileEvent(session: string, rel: string, change: Change, entry: Entry, unwatched: boolean): AuditEvent {
  return {
    v: AUDIT_VERSION,
    id: `${session}:file:${rel}:${change}:${entry[1]}`,
    ts: new Date().toISOString(),
    session_id: session,
    event: 'file',
    source: 'host',
    data: { path: rel, change, ...(change === 'deleted' ? {} : { size: entry[0] }), mtime: new Date(entry[1]).toISOString(), ...(unwatched ? { unwatched: true } : {}) },
  };
}

/** What changed between two looks at the workspace. */
function differences(session: string, before: Map<string, Entry>, after: Map<string, Entry>): AuditEvent[] {
  const events: AuditEvent[] = [];
  for (const [rel, now] of after) {
    const was = before.get(rel);
    if (!was) events.push(fileEvent(session, rel, 'created', now, true));
    else if (was[0] !== now[0] || was[1] !== now[1]) events.push(fileEvent(session, rel, 'modified', now, true));
  }
  for (const [rel, was] of before) if (!after.has(rel)) events.push(fileEvent(session, rel, 'deleted', was, true));
  return events;
}

async function readManifest(file: string): Promise<z.infer<typeof Manifest> | undefined> {
  try {
    const parsed = Manifest.safeParse(JSON.parse(await readFile(file, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

const saveManifest = (file: string, root: string, skip: readonly string[], files: Map<string, Entry>): Promise<void> =>
  writeFileAtomic(file, JSON.stringify({ version: 1, root, skip, files: Object.fromEntries(files) })).catch(() => undefined);

/**
 * For a session nobody watches any more (it ended while its keeper was gone): records the
 * changes since the manifest was written, once. Returns how many.
 */
export async function catchUpFiles(log: AuditLog, session: string, sessionDir: string): Promise<number> {
  const file = join(sessionDir, FILE_MANIFEST);
  const manifest = await readManifest(file);
  if (!manifest) return 0;
  const now = await scan(manifest.root, skippedBy(manifest.skip));
  if (!now) return 0;
  const events = differences(session, new Map(Object.entries(manifest.files)), now);
  if (events.length) await log.append(events);
  await saveManifest(file, manifest.root, manifest.skip, now);
  return events.length;
}

export class WorkspaceWatch {
  private watcher: FSWatcher | undefined;
  private readonly pending = new Map<string, NodeJS.Timeout>();
  /** What the workspace looks like as far as this watch knows; undefined until the first scan is done (or when it is too big). */
  private files: Map<string, Entry> | undefined;
  private ready: Promise<void> = Promise.resolve();
  private saveTimer: NodeJS.Timeout | undefined;
  private readonly skipped: (rel: string) => boolean;
  /** Paths the watcher reported before the first look was done: changed since start, whatever the look saw. */
  private readonly early = new Set<string>();
  private scanned = false;
  private startedAt = 0;

  constructor(
    private readonly log: AuditLog,
    private readonly session: string,
    private readonly root: string,
    private readonly skip: readonly string[],
    /** The session's directory, where the manifest is kept; without it, only live changes are seen. */
    private readonly sessionDir?: string,
  ) {
    this.skipped = skippedBy(skip);
  }

  private get manifestFile(): string | undefined {
    return this.sessionDir ? join(this.sessionDir, FILE_MANIFEST) : undefined;
  }

  /** Starts watching; the first look at the workspace (and the catch-up) runs in the background. */
  start(): void {
    this.startedAt = Date.now();
    try {
      this.watcher = watch(this.root, { recursive: true }, (_type, name) => {
        if (name) this.changed(name.split(sep).join('/'));
      });
      this.watcher.on('error', () => undefined);
    } catch {
      // A file system without recursive watching: no live file events for this session.
    }
    this.ready = this.catchUp().catch(() => undefined);
  }

  private async catchUp(): Promise<void> {
    const before = this.manifestFile ? await readManifest(this.manifestFile) : undefined;
    const now = await scan(this.root, this.skipped);
    this.scanned = true;
    // What changed while the look was under way is judged by the watcher, not taken as the baseline.
    this.files = now ? new Map([...now].filter(([rel]) => !this.early.has(rel))) : undefined;
    if (!now || !this.manifestFile) return;
    if (before && before.root === this.root) {
      const events = differences(this.session, new Map(Object.entries(before.files)), now);
      if (events.length) await this.log.append(events).catch(() => undefined);
    }
    await saveManifest(this.manifestFile, this.root, this.skip, now);
  }

  private changed(rel: string): void {
    if (this.skipped(rel)) return;
    if (!this.scanned) this.early.add(rel);
    if (this.pending.has(rel)) return;
    this.pending.set(
      rel,
      setTimeout(() => {
        this.pending.delete(rel);
        void this.record(rel);
      }, 500),
    );
  }

  private async record(rel: string): Promise<void> {
    await this.ready;
    const st = await lstat(join(this.root, rel)).catch(() => undefined);
    if (st?.isDirectory()) return;
    const was = this.files?.get(rel);
    let event: AuditEvent | undefined;
    if (!st) {
      if (this.files && !was) return; // a file that came and went between two looks
      event = fileEvent(this.session, rel, 'deleted', was ?? [0, Date.now()], false);
      this.files?.delete(rel);
    } else {
      const now: Entry = [st.size, Math.floor(st.mtimeMs)];
      const same = was !== undefined && was[0] === now[0] && was[1] === now[1];
      // The look and the watcher race at the start: a file written just after the watch began
      // may be in the look already. Unchanged since a look and older than the watch: a read.
      // (File times come from the kernel's coarse clock, a few ms behind Date.now(): some slack.)
      const since = this.startedAt - CLOCK_SLACK_MS;
      if (same && now[1] < since) return;
      const born = st.birthtimeMs > 0 ? st.birthtimeMs : st.ctimeMs;
      const bornSince = born >= since;
      let created: boolean;
      if (same) created = bornSince;
      else if (was) created = false;
      // Unknown to the look: new; but a path changed while the look was under way may have
      // been there before the watch began (its birth time says).
      else created = this.files !== undefined && (!this.early.has(rel) || bornSince);
      event = fileEvent(this.session, rel, created ? 'created' : 'modified', now, false);
      this.files?.set(rel, now);
    }
    await this.log.append([event]).catch(() => undefined);
    this.scheduleSave();
  }

  private scheduleSave(): void {
    if (!this.manifestFile || !this.files || this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      void this.save();
    }, SAVE_DELAY);
  }

  private async save(): Promise<void> {
    if (this.manifestFile && this.files) await saveManifest(this.manifestFile, this.root, this.skip, this.files);
  }

  /** Stops watching, writes what is still waiting and keeps the manifest for the next look. */
  async stop(): Promise<void> {
    this.watcher?.close();
    const waiting = [...this.pending.keys()];
    for (const t of this.pending.values()) clearTimeout(t);
    this.pending.clear();
    for (const rel of waiting) await this.record(rel);
    await this.ready;
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    await this.save();
  }
}
