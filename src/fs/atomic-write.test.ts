import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PaudeError } from '../errors.js';
import { appendWhole, WriteError, writeFailure, writeFileAtomic } from './atomic-write.js';
import { strayWrites } from './stray-writes.js';

describe('atomic writes', () => {
  const dirs: string[] = [];
  const dir = async (): Promise<string> => {
    const d = await mkdtemp(join(tmpdir(), 'paude-write-'));
    dirs.push(d);
    return d;
  };
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  it('says in one sentence which file could not be written and what to do', () => {
    const full = writeFailure('/data/sessions/paude-x/session.json', Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }));
    expect(full).toBeInstanceOf(WriteError);
    expect((full as WriteError).message).toBe('could not write /data/sessions/paude-x/session.json (no space left on its disk); free some space there and try again');
    const denied = writeFailure('/data/audit/x.jsonl', Object.assign(new Error('EACCES'), { code: 'EACCES' }));
    expect((denied as Error).message).toBe('could not write /data/audit/x.jsonl (permission denied); make /data/audit writable for this user and try again');
    const other = new Error('EIO');
    expect(writeFailure('/x', Object.assign(other, { code: 'EIO' }))).toBe(other);
    const already = new PaudeError('said already');
    expect(writeFailure('/x', already)).toBe(already);
  });

  it('leaves no temporary file when a write fails after it was begun', async () => {
    const d = await dir();
    // The name is taken by a directory: the temporary file is written, the rename fails.
    await mkdir(join(d, 'taken', 'inside'), { recursive: true });
    await expect(writeFileAtomic(join(d, 'taken'), 'new')).rejects.toThrow();
    expect((await readdir(d)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('appends whole or not at all: a full device leaves the file as it was', async () => {
    await expect(appendWhole('/dev/full', 'a line\n')).rejects.toThrow(/^could not write \/dev\/full \(no space left on its disk\)/);
    const d = await dir();
    await appendWhole(join(d, 'log.jsonl'), 'one\n');
    await appendWhole(join(d, 'log.jsonl'), 'two\n');
    expect(await readFile(join(d, 'log.jsonl'), 'utf8')).toBe('one\ntwo\n');
  });

  it('finds the temporary files of writers that died, not of live ones', async () => {
    const d = await dir();
    await writeFile(join(d, `session.json.${process.pid}.0123abcd.tmp`), '{');
    await writeFile(join(d, 'session.json.999999999.0123abcd.tmp'), '{');
    await writeFile(join(d, 'notes.tmp'), '');
    expect(await strayWrites(d)).toEqual([join(d, 'session.json.999999999.0123abcd.tmp')]);
  });
});
