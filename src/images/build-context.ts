/**
 * The build context of an image recipe: its files as archive entries (directories first, every
 * list sorted, times and owners zero, so the same recipe gives the same archive) and the
 * archive itself, streamed by fs/tar.ts.
 */
import type { Readable } from 'node:stream';
import { PaudeError, quote } from '../errors.js';
import { packTar, type ContextEntry } from '../fs/tar.js';

/** The Containerfile's name inside the context (passed to the engine as `dockerfile`). */
export const CONTAINERFILE_NAME = 'Containerfile';

/** The archive for a Containerfile and its files, directories first, every list sorted. */
export function createBuildContext(containerfile: string, files: Record<string, string | Buffer>): Readable {
  return packTar(contextEntries(containerfile, files));
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
