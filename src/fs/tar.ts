/**
 * Tar archives as streams, on tar-stream: packing entries (bytes in memory, or host files read
 * only while the archive is consumed) and host directories; reading an archive entry by entry,
 * into memory (small archives, with a byte limit) or onto disk. Nothing here holds a whole
 * archive: packing a directory of any size keeps one chunk of one file in memory at a time.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract, pack, type Header, type Pack } from 'tar-stream';

type Headers = Partial<Header> & Pick<Header, 'name'>;
import { PaudeError } from '../errors.js';

/** Who owns the entries in the archive (files copied into a container belong to its user). */
export interface TarOwner {
  uid: number;
  gid: number;
}

interface EntryBase {
  path: string;
  mode: number;
  /** Modification time in seconds (0 when unset, for reproducible archives). */
  mtime?: number;
  /** Owner in the archive (0 when unset). */
  uid?: number;
  gid?: number;
}

/** An entry whose bytes are in memory (a directory's and a symlink's content are empty). */
export interface ContextEntry extends EntryBase {
  type: 'file' | 'directory' | 'symlink';
  content: Buffer;
  /** A symlink's target. */
  linkTarget?: string;
}

/** A regular file on this host, read only while the archive is being consumed. */
export interface HostFileEntry extends EntryBase {
  type: 'file';
  source: string;
}

export type PackEntry = ContextEntry | HostFileEntry;

/** An archive as the engines' copy calls take and give it: bytes in memory or a stream. */
export type TarSource = Buffer | Readable;

/** One entry of an archive being read; `path` without a leading '/' or './', or a trailing '/'. */
export interface TarHeader {
  path: string;
  /**
   * The name began with '/', as Podman writes the archive of a volume's root ('/', '/x'
   * where other archives of a directory say 'dir', 'dir/x'); like GNU tar, the '/' is dropped.
   */
  rooted: boolean;
  type: 'file' | 'directory' | 'symlink' | 'other';
  mode: number;
  uid: number;
  gid: number;
  /** Seconds. */
  mtime: number;
  size: number;
  linkTarget?: string;
}

export interface TarEntry extends TarHeader {
  content: Buffer;
}

/** What readTar keeps in memory at most, by default. */
export const READ_LIMIT_BYTES = 64 * 1024 * 1024;

/** The archive of `entries`, in order, produced as it is read. */
export function packTar(entries: Iterable<PackEntry> | AsyncIterable<PackEntry>): Readable {
  const tar = pack();
  const fill = async (): Promise<void> => {
    for await (const entry of entries as AsyncIterable<PackEntry>) await addEntry(tar, entry);
    tar.finalize();
  };
  fill().catch((error: unknown) => tar.destroy(error instanceof Error ? error : new Error(String(error))));
  return Readable.from(tar);
}

/** The archive of a host directory under `prefix` (see directoryWalk), produced as it is read. */
export function packDirectory(dir: string, prefix: string, owner: TarOwner, limitBytes?: number): Readable {
  return packTar(directoryWalk(dir, prefix, owner, limitBytes));
}

/** The entries of a host directory, files not read (they are when packed): see directoryWalk. */
export async function directoryEntries(dir: string, prefix: string, owner: TarOwner, limitBytes?: number): Promise<PackEntry[]> {
  const out: PackEntry[] = [];
  for await (const entry of directoryWalk(dir, prefix, owner, limitBytes)) out.push(entry);
  return out;
}

/**
 * A host directory as entries under `prefix`: directories and regular files, sorted, links
 * and anything else skipped. Files past `limitBytes` in total are left out.
 */
export async function* directoryWalk(dir: string, prefix: string, owner: TarOwner, limitBytes = READ_LIMIT_BYTES): AsyncGenerator<PackEntry> {
  yield { path: prefix, type: 'directory', mode: 0o755, content: Buffer.alloc(0), ...owner };
  let total = 0;
  const walk = async function* (from: string, to: string): AsyncGenerator<PackEntry> {
    for (const name of (await readdir(from)).sort()) {
      const source = join(from, name);
      const path = `${to}/${name}`;
      const st = await lstat(source);
      if (st.isDirectory()) {
        yield { path, type: 'directory', mode: 0o755, content: Buffer.alloc(0), ...owner };
        yield* walk(source, path);
      } else if (st.isFile() && total + st.size <= limitBytes) {
        total += st.size;
        yield { path, type: 'file', mode: st.mode & 0o111 && st.mode & 0o700 ? 0o755 : 0o644, source, ...owner };
      } else if (st.isFile()) total = limitBytes + 1;
    }
  };
  yield* walk(dir, prefix);
}

function headerOf(entry: PackEntry, size: number): Headers {
  return {
    // A directory's name ends in '/', as tar itself writes it.
    name: entry.type === 'directory' && !entry.path.endsWith('/') ? `${entry.path}/` : entry.path,
    type: entry.type,
    mode: entry.mode,
    uid: entry.uid ?? 0,
    gid: entry.gid ?? 0,
    mtime: new Date(Math.floor(entry.mtime ?? 0) * 1000),
    size,
    ...(entry.type === 'symlink' ? { linkname: 'linkTarget' in entry ? (entry.linkTarget ?? '') : '' } : {}),
  };
}

async function addEntry(tar: Pack, entry: PackEntry): Promise<void> {
  if (!('source' in entry)) {
    const content = entry.type === 'file' ? entry.content : Buffer.alloc(0);
    await new Promise<void>((resolve, reject) => {
      tar.entry(headerOf(entry, content.length), content, (error) => (error ? reject(error) : resolve()));
    });
    return;
  }
  const st = await lstat(entry.source).catch(() => undefined);
  if (!st?.isFile()) return; // gone (or replaced) since it was listed: nothing to copy
  const size = st.size;
  let failed: Error | undefined;
  const done = new Promise<void>((resolve, reject) => {
    const sink = tar.entry(headerOf(entry, size), (error) => (error ? reject(failed ?? error) : resolve()));
    copyFile(entry.source, size, sink).catch((error: unknown) => {
      failed = error instanceof Error ? error : new Error(String(error));
      sink.destroy(failed);
    });
  });
  await done;
}

/** Writes exactly `size` bytes of a file into an entry, waiting whenever the archive's reader is behind. */
async function copyFile(source: string, size: number, sink: NodeJS.WritableStream): Promise<void> {
  let written = 0;
  if (size > 0) {
    for await (const chunk of createReadStream(source, { start: 0, end: size - 1 }) as AsyncIterable<Buffer>) {
      written += chunk.length;
      if (!sink.write(chunk)) await new Promise<void>((resolve) => sink.once('drain', () => resolve()));
    }
  }
  if (written !== size) throw new PaudeError(`${source} shrank while paude was copying it: try again once it is no longer being written.`);
  sink.end();
}

/** The readable form of an archive. */
export function tarStream(source: TarSource): Readable {
  return Buffer.isBuffer(source) ? Readable.from([source]) : source;
}

const TYPES: Partial<Record<Header['type'], TarHeader['type']>> = { file: 'file', 'contiguous-file': 'file', directory: 'directory', symlink: 'symlink' };

/** A path as read from an archive, made relative; one that leads out of the directory it unpacks into is refused. */
export function entryPath(name: string): string {
  const path = name.replace(/^\/+/, '').replace(/^\.\//, '').replace(/\/$/, '');
  if (path.includes('\0') || path.split(/[/\\]/).includes('..')) {
    throw new PaudeError(`The archive holds the path ${JSON.stringify(name)}, which leads outside the directory it unpacks into, so paude refused the whole archive.`);
  }
  return path;
}

function readHeader(h: Header): TarHeader {
  const type = (h.type ? TYPES[h.type] : 'file') ?? 'other';
  return {
    path: entryPath(h.name),
    rooted: h.name.startsWith('/'),
    type,
    mode: (h.mode ?? 0) & 0o7777,
    uid: h.uid ?? 0,
    gid: h.gid ?? 0,
    mtime: Math.floor((h.mtime?.getTime() ?? 0) / 1000),
    size: h.size ?? 0,
    ...(type === 'symlink' ? { linkTarget: h.linkname ?? '' } : {}),
  };
}

/**
 * Reads an archive entry by entry: `each` gets the header and the body (read it or leave it;
 * what is left is skipped). A path that escapes (absolute, '..') stops it with a PaudeError.
 */
export async function unpackTar(source: TarSource, each: (header: TarHeader, body: AsyncIterable<Buffer>) => Promise<void>): Promise<void> {
  const input = tarStream(source);
  const reader = extract();
  input.on('error', (error: Error) => reader.destroy(error));
  input.pipe(reader);
  try {
    for await (const entry of reader) {
      await each(readHeader(entry.header), entry as AsyncIterable<Buffer>);
      entry.resume();
    }
  } finally {
    input.unpipe(reader);
    input.destroy();
  }
}

/** A small archive's entries with their bytes; more than `limitBytes` of content is refused. */
export async function readTar(source: TarSource, limitBytes = READ_LIMIT_BYTES): Promise<TarEntry[]> {
  const entries: TarEntry[] = [];
  let total = 0;
  await unpackTar(source, async (header, body) => {
    const chunks: Buffer[] = [];
    for await (const chunk of body) {
      total += chunk.length;
      if (total > limitBytes) throw new PaudeError(`The archive holds more than ${Math.round(limitBytes / 1024 / 1024)} MB, more than paude reads into memory at once.`);
      chunks.push(chunk);
    }
    entries.push({ ...header, content: Buffer.concat(chunks) });
  });
  return entries;
}

/**
 * Unpacks an archive's directories and regular files under `dir` (links and anything else are
 * skipped, as are entries `keep` declines); returns the files written, by archive path.
 */
export async function unpackToDirectory(source: TarSource, dir: string, keep: (header: TarHeader) => boolean = () => true): Promise<string[]> {
  const written: string[] = [];
  await unpackTar(source, async (header, body) => {
    if (!keep(header) || header.path === '') return;
    const target = join(dir, header.path);
    if (header.type === 'directory') await mkdir(target, { recursive: true, mode: 0o700 });
    if (header.type !== 'file') return;
    await mkdir(join(target, '..'), { recursive: true, mode: 0o700 });
    await pipeline(body, createWriteStream(target, { mode: header.mode & 0o777 }));
    written.push(header.path);
  });
  return written;
}
