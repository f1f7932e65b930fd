/**
 * The build context as an in-memory ustar archive. A small writer of our own rather than
 * tar-stream: that package is only a transitive dependency of dockerode (no types, not ours
 * to rely on), and our archives are tiny, flat and must be byte-for-byte deterministic.
 */
import { PaudeError } from '../errors.js';
import { quote } from '../errors.js';

/** The Containerfile's name inside the context (passed to the engine as `dockerfile`). */
export const CONTAINERFILE_NAME = 'Containerfile';

const BLOCK = 512;
/** Fixed mtime so the same recipe gives the same archive (and the same layer cache key). */
const MTIME = 0;

export interface ContextEntry {
  path: string;
  type: 'file' | 'directory' | 'symlink';
  mode: number;
  content: Buffer;
  /** A symlink's target. */
  linkTarget?: string;
  /** Modification time in seconds (0 when unset, for reproducible archives). */
  mtime?: number;
  /** Owner in the archive (0 when unset): files copied into a container belong to its user. */
  uid?: number;
  gid?: number;
}

/** The archive for a Containerfile and its files, directories first, every list sorted. */
export function createBuildContext(containerfile: string, files: Record<string, string | Buffer>): Buffer {
  return writeTar(contextEntries(containerfile, files));
}

export function contextEntries(containerfile: string, files: Record<string, string | Buffer>): ContextEntry[] {
  const paths = Object.keys(files).sort();
  for (const path of paths) checkContextPath(path);
  if (paths.includes(CONTAINERFILE_NAME)) {
    throw new PaudeError(`The build context file "${CONTAINERFILE_NAME}" clashes with the Containerfile: rename it.`);
  }
  const directories = new Set<string>();
  for (const path of paths) {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) directories.add(parts.slice(0, i).join('/'));
  }
  const clash = paths.find((path) => directories.has(path));
  if (clash !== undefined) throw new PaudeError(`The build context path ${quote(clash)} is both a file and a directory.`);
  const entries: ContextEntry[] = [...directories].sort().map((path) => ({ path, type: 'directory', mode: 0o755, content: Buffer.alloc(0) }));
  entries.push({ path: CONTAINERFILE_NAME, type: 'file', mode: 0o644, content: Buffer.from(containerfile, 'utf8') });
  for (const path of paths) {
    const value = files[path] ?? '';
    const content = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
    // Scripts (a "#!" first line) are executable: a COPY keeps the mode, and classic Docker has no COPY --chmod.
    entries.push({ path, type: 'file', mode: content.subarray(0, 2).toString('latin1') === '#!' ? 0o755 : 0o644, content });
  }
  return entries;
}

/** Context paths are relative, '/'-separated, without '.', '..' or empty segments. */
export function checkContextPath(path: string): void {
  const problem =
    path === ''
      ? 'is empty'
      : path.startsWith('/') || /^[A-Za-z]:/.test(path)
        ? 'is absolute'
        : path.includes('\\')
          ? 'contains a backslash'
          : path.includes('\0')
            ? 'contains a NUL byte'
            : path.split('/').some((part) => part === '..')
              ? 'contains ".."'
              : path.split('/').some((part) => part === '' || part === '.')
                ? 'has an empty or "." segment'
                : undefined;
  if (problem !== undefined) {
    throw new PaudeError(`The build context path ${quote(path)} ${problem}: use a relative path inside the context.`);
  }
}

export function writeTar(entries: readonly ContextEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    blocks.push(tarHeader(entry));
    if (entry.type === 'file' && entry.content.length > 0) {
      blocks.push(entry.content, Buffer.alloc((BLOCK - (entry.content.length % BLOCK)) % BLOCK));
    }
  }
  blocks.push(Buffer.alloc(2 * BLOCK)); // end-of-archive marker
  return Buffer.concat(blocks);
}

function tarHeader(entry: ContextEntry): Buffer {
  const header = Buffer.alloc(BLOCK);
  const [prefix, name] = splitName(entry.type === 'directory' ? `${entry.path}/` : entry.path);
  header.write(name, 0, 100, 'utf8');
  octal(header, 100, 8, entry.mode);
  octal(header, 108, 8, entry.uid ?? 0);
  octal(header, 116, 8, entry.gid ?? 0);
  octal(header, 124, 12, entry.type === 'file' ? entry.content.length : 0);
  octal(header, 136, 12, Math.floor(entry.mtime ?? MTIME));
  header.write(entry.type === 'file' ? '0' : entry.type === 'directory' ? '5' : '2', 156, 1, 'latin1');
  if (entry.type === 'symlink') {
    if (Buffer.byteLength(entry.linkTarget ?? '') > 100) throw new PaudeError(`The symlink target of ${quote(entry.path)} is longer than a tar archive allows (100 bytes).`);
    header.write(entry.linkTarget ?? '', 157, 100, 'utf8');
  }
  header.write('ustar\u000000', 257, 8, 'latin1');
  header.write(prefix, 345, 155, 'utf8');
  header.fill(' ', 148, 156); // the checksum counts its own field as spaces
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'latin1');
  return header;
}

/** ustar keeps long names as prefix (155 bytes) + '/' + name (100 bytes). */
function splitName(path: string): [string, string] {
  if (Buffer.byteLength(path) <= 100) return ['', path];
  for (let cut = path.indexOf('/'); cut !== -1; cut = path.indexOf('/', cut + 1)) {
    const prefix = path.slice(0, cut);
    const name = path.slice(cut + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name !== '') return [prefix, name];
  }
  throw new PaudeError(`The build context path ${quote(path)} is too long for a tar archive: shorten it.`);
}

function octal(header: Buffer, offset: number, width: number, value: number): void {
  const digits = value.toString(8);
  if (digits.length > width - 1) throw new PaudeError(`A build context file is too large (${value} bytes).`);
  header.write(`${digits.padStart(width - 1, '0')}\u0000`, offset, width, 'latin1');
}
