import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { PaudeError } from '../errors.js';

/** Writes a file so that readers see the old content or the new, never half of it. */
export async function writeFileAtomic(path: string, data: string, mode = 0o600): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await writeFile(tmp, data, { mode, flush: true });
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw writeFailure(path, error);
  }
}

/**
 * Appends to a file all or nothing: a write that fails part way (a full disk) is cut off again,
 * so a line-per-record file never ends in half a record. (Another process appending between
 * the two would lose its line too; paude's appenders write whole lines and fail alike.)
 */
export async function appendWhole(path: string, data: string, mode = 0o600): Promise<void> {
  let handle;
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    handle = await open(path, 'a', mode);
  } catch (error) {
    throw writeFailure(path, error);
  }
  try {
    const { size } = await handle.stat();
    try {
      await handle.writeFile(data);
    } catch (error) {
      await handle.truncate(size).catch(() => undefined);
      throw writeFailure(path, error);
    }
  } finally {
    await handle.close();
  }
}

const REASONS: Record<string, { what: string; todo: (path: string) => string }> = {
  ENOSPC: { what: 'no space left on its disk', todo: () => 'free some space there' },
  EDQUOT: { what: 'disk quota exceeded', todo: () => 'free some space there' },
  EROFS: { what: 'its file system is read-only', todo: (path) => `make ${dirname(path)} writable` },
  EACCES: { what: 'permission denied', todo: (path) => `make ${dirname(path)} writable for this user` },
  EPERM: { what: 'operation not permitted', todo: (path) => `make ${dirname(path)} writable for this user` },
};

/** A file paude could not write, for a reason the user can fix (a full disk, permissions). */
export class WriteError extends PaudeError {
  constructor(
    readonly path: string,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A write that failed for a reason the user can fix, as one sentence naming the file; other
 * errors are returned as they are.
 */
export function writeFailure(path: string, error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const reason = code ? REASONS[code] : undefined;
  if (!code || !reason || error instanceof PaudeError) return error;
  return new WriteError(path, code, `could not write ${path} (${reason.what}); ${reason.todo(path)} and try again`);
}
