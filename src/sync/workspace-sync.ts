/**
 * The workspace of a session on another machine (a remote engine, later a cluster): the engine
 * cannot mount this host's directory, so the workspace is copied into the agent at start and
 * changes go back and forth on request (`paude sync`) and when a session ends.
 *
 * Three-way, by content hash, against the state both sides agreed on last (the base, kept in
 * the session's directory): a file changed on one side only goes to the other; a file changed
 * on both sides differently is a conflict, and nothing is overwritten: the incoming version is
 * saved next to the session (DATA/sync-conflicts/<id>/PATH) and the user is told. Protected
 * paths (they configure or run things on the host) and isolated paths never come back from the
 * agent; .claude/ has its own way back (--sync-claude-config).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, copyFile, lstat, mkdir, readFile, readdir, readlink, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { z } from 'zod';
import type { PackEntry } from '../fs/tar.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { PaudeError } from '../errors.js';

export interface FileState {
  kind: 'file' | 'symlink';
  /** sha256 of the content (or of a symlink's target). */
  hash: string;
  /** 0o755 or 0o644 (only the executable bit travels). */
  mode: number;
}

/** Relative path (with /) -> state; directories are implied by their files. */
export type Manifest = Map<string, FileState>;

export interface Side {
  manifest: Manifest;
  /**
   * Where a regular file's bytes are on this host: the host's own file, or the agent's copy set
   * aside while its archive was read (agent-side.ts); undefined when it was not kept.
   */
  file(path: string): string | undefined;
  /** A symlink's target. */
  linkTarget(path: string): Promise<string>;
  /** Directories (the host's, empty ones included: git needs some of them). */
  directories?: string[];
  /** Modification times in seconds (the host's, so that copies keep them). */
  mtimes?: Map<string, number>;
}

const MAX_BYTES = 2 * 1024 ** 3;

export const hash = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');
export const modeOf = (mode: number): number => (mode & 0o111 ? 0o755 : 0o644);

/** A file's sha256, read in chunks (a workspace may hold files larger than memory should). */
async function hashFile(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) h.update(chunk);
  return h.digest('hex');
}

/** Decides which relative paths sync skips (and the push leaves out); `directory`: what rel is. */
export type Skip = (rel: string, directory: boolean) => boolean;

export function skipUnder(paths: readonly string[]): Skip {
  const norm = paths.map((p) => p.replace(/\/+$/, ''));
  return (rel) => norm.some((p) => rel === p || rel.startsWith(`${p}/`));
}

/** The host's side: every regular file and symlink under root (not following links). */
export async function scanHost(root: string, skip: Skip): Promise<Side> {
  const manifest: Manifest = new Map();
  const directories: string[] = [];
  const mtimes = new Map<string, number>();
  let total = 0;
  const walk = async (dir: string): Promise<void> => {
    for (const name of (await readdir(dir)).sort()) {
      const abs = join(dir, name);
      const rel = relative(root, abs).split(sep).join('/');
      const st = await lstat(abs);
      if (skip(rel, st.isDirectory())) continue;
      mtimes.set(rel, st.mtimeMs / 1000);
      if (st.isDirectory()) {
        directories.push(rel);
        await walk(abs);
      } else if (st.isSymbolicLink()) manifest.set(rel, { kind: 'symlink', hash: hash(await readlink(abs)), mode: 0o777 });
      else if (st.isFile()) {
        total += st.size;
        if (total > MAX_BYTES) throw new PaudeError(`${root} holds more than 2 GB of files; a session on a remote engine copies the workspace whole: use isolate for large generated directories`);
        manifest.set(rel, { kind: 'file', hash: await hashFile(abs), mode: modeOf(st.mode) });
      }
    }
  };
  await walk(root);
  return {
    manifest,
    directories,
    mtimes,
    file: (rel) => join(root, rel),
    linkTarget: (rel) => readlink(join(root, rel)),
  };
}

export const same = (a: FileState | undefined, b: FileState | undefined): boolean => (a === undefined ? b === undefined : b !== undefined && a.kind === b.kind && a.hash === b.hash && a.mode === b.mode);

export interface Change {
  path: string;
  /** What happens on the receiving side. */
  action: 'write' | 'delete';
}

export interface SyncPlan {
  changes: Change[];
  /** Changed on both sides, differently: nothing is overwritten. */
  conflicts: string[];
  /** The base after the plan has been carried out. */
  nextBase: Manifest;
}

/** What to carry from `from` to `to`, given the state both agreed on last. */
export function planSync(base: Manifest, from: Manifest, to: Manifest): SyncPlan {
  const changes: Change[] = [];
  const conflicts: string[] = [];
  const nextBase: Manifest = new Map(base);
  const paths = new Set([...base.keys(), ...from.keys(), ...to.keys()]);
  for (const path of [...paths].sort()) {
    const b = base.get(path);
    const f = from.get(path);
    const t = to.get(path);
    if (same(f, t)) {
      // Both sides agree (also when both made the same change): that is the new base.
      if (f) nextBase.set(path, f);
      else nextBase.delete(path);
      continue;
    }
    if (same(f, b)) continue; // only the receiving side changed it: the other direction's business
    if (same(t, b)) {
      changes.push({ path, action: f ? 'write' : 'delete' });
      if (f) nextBase.set(path, f);
      else nextBase.delete(path);
      continue;
    }
    conflicts.push(path);
  }
  return { changes, conflicts, nextBase };
}

/** Carries a plan out on the host (a pull): writes, deletes, and saves conflicting versions aside. */
export async function applyToHost(root: string, plan: SyncPlan, from: Side, conflictDir: string): Promise<void> {
  for (const change of plan.changes) {
    const abs = join(root, change.path);
    if (change.action === 'delete') {
      await rm(abs, { force: true });
      continue;
    }
    const state = from.manifest.get(change.path);
    if (!state) continue;
    await insideRoot(root, abs);
    await mkdir(dirname(abs), { recursive: true });
    await rm(abs, { force: true, recursive: false }).catch(() => undefined);
    if (state.kind === 'symlink') await symlink(await from.linkTarget(change.path), abs);
    else {
      await copyFile(sourceOf(from, change.path), abs);
      await chmod(abs, state.mode);
    }
  }
  for (const path of plan.conflicts) {
    const state = from.manifest.get(path);
    if (!state) continue; // deleted over there, changed here: keeping ours loses nothing
    const aside = join(conflictDir, path);
    await mkdir(dirname(aside), { recursive: true, mode: 0o700 });
    await rm(aside, { force: true });
    if (state.kind === 'symlink') await writeFile(aside, await from.linkTarget(path), { mode: 0o600 });
    else {
      await copyFile(sourceOf(from, path), aside);
      await chmod(aside, 0o600);
    }
  }
}

function sourceOf(side: Side, path: string): string {
  const file = side.file(path);
  if (file === undefined) throw new Error(`${path} was not kept from the session's workspace`);
  return file;
}

/** A directory the sync writes into must not lead out of the workspace through a link. */
async function insideRoot(root: string, abs: string): Promise<void> {
  let dir = dirname(abs);
  while (dir !== root && !(await lstat(dir).then(() => true, () => false))) dir = dirname(dir);
  const [real, top] = await Promise.all([realpath(dir), realpath(root)]);
  if (real !== top && !real.startsWith(top + sep)) throw new PaudeError(`${relative(root, abs)} lies behind a link that leads out of ${root}, so paude sync did not write it.`);
}

/** The entries of a push: the plan's writes from the host, as the agent's user. */
export async function pushEntries(plan: SyncPlan, from: Side, prefix: string, owner: { uid: number; gid: number }): Promise<PackEntry[]> {
  const out: PackEntry[] = [];
  const dirs = new Set<string>();
  for (const change of plan.changes) {
    if (change.action !== 'write') continue;
    const state = from.manifest.get(change.path);
    if (!state) continue;
    const parts = change.path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (dirs.has(dir)) continue;
      dirs.add(dir);
      out.push({ path: `${prefix}/${dir}`, type: 'directory', mode: 0o755, content: Buffer.alloc(0), ...owner });
    }
    const mtime = from.mtimes?.get(change.path);
    const time = mtime === undefined ? {} : { mtime };
    // Files are read from disk only as the archive is sent.
    if (state.kind === 'symlink') out.push({ path: `${prefix}/${change.path}`, type: 'symlink', mode: 0o777, content: Buffer.alloc(0), linkTarget: await from.linkTarget(change.path), ...owner, ...time });
    else out.push({ path: `${prefix}/${change.path}`, type: 'file', mode: state.mode, source: sourceOf(from, change.path), ...owner, ...time });
  }
  return out;
}

const BaseSchema = z.strictObject({
  version: z.literal(1),
  files: z.record(z.string(), z.strictObject({ kind: z.enum(['file', 'symlink']), hash: z.string().regex(/^[0-9a-f]{64}$/), mode: z.number().int() })),
});

export async function readBase(file: string): Promise<Manifest> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new PaudeError(`${file} is missing: this session's workspace has no sync base (was it started on a local engine?)`);
  }
  const parsed = BaseSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new PaudeError(`${file}: not a valid sync base (${parsed.error.issues[0]?.message ?? 'invalid'}); paude sync cannot tell what changed`);
  return new Map(Object.entries(parsed.data.files));
}

export async function writeBase(file: string, manifest: Manifest): Promise<void> {
  await writeFileAtomic(file, JSON.stringify({ version: 1, files: Object.fromEntries([...manifest].sort(([a], [b]) => a.localeCompare(b))) }) + '\n');
}
