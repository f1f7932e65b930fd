import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, open, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { pack } from 'tar-stream';
import { PaudeError } from '../errors.js';
import { directoryEntries, packDirectory, packTar, readTar, unpackTar, unpackToDirectory, type ContextEntry } from './tar.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'paude-tar-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const bytes = async (stream: Readable): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
};

/** An archive written by tar-stream directly, for paths our packer would never produce. */
async function rawArchive(name: string): Promise<Buffer> {
  const tar = pack();
  tar.entry({ name, size: 1 }, 'x');
  tar.finalize();
  return bytes(Readable.from(tar));
}

describe('tar', () => {
  it('round-trips paths, types, modes, owners, times and contents', async () => {
    const entries: ContextEntry[] = [
      { path: '.', type: 'directory', mode: 0o755, content: Buffer.alloc(0), uid: 1000, gid: 1000 },
      { path: './bin', type: 'directory', mode: 0o700, content: Buffer.alloc(0), uid: 1000, gid: 100 },
      { path: './bin/run.sh', type: 'file', mode: 0o755, content: Buffer.from('#!/bin/sh\necho hi\n'), uid: 1000, gid: 100, mtime: 1_700_000_000 },
      { path: `./${'long-directory-name/'.repeat(12)}file.txt`, type: 'file', mode: 0o600, content: Buffer.from('deep') },
      { path: './link', type: 'symlink', mode: 0o777, content: Buffer.alloc(0), linkTarget: `bin/${'x'.repeat(150)}` },
      { path: './empty', type: 'file', mode: 0o644, content: Buffer.alloc(0) },
    ];
    const read = await readTar(packTar(entries));
    expect(read.map((e) => [e.path, e.type, e.mode, e.uid, e.gid, e.mtime, e.content.toString(), e.linkTarget])).toEqual(
      entries.map((e) => [e.path.replace(/^\.\/?/, ''), e.type, e.mode, e.uid ?? 0, e.gid ?? 0, e.mtime ?? 0, e.content.toString(), e.linkTarget]),
    );
  });

  it('round-trips any set of names and contents (property)', async () => {
    const name = fc.stringMatching(/^[a-zA-Z0-9._ -]{1,40}$/).filter((s) => s !== '.' && s !== '..');
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fc.tuple(name, fc.uint8Array({ maxLength: 2000 }), fc.constantFrom(0o644, 0o755, 0o600)), { selector: ([n]) => n, maxLength: 8 }), async (files) => {
        const entries: ContextEntry[] = files.map(([n, content, mode]) => ({ path: `d/${n}`, type: 'file', mode, content: Buffer.from(content) }));
        const read = await readTar(packTar(entries));
        expect(read.map((e) => [e.path, e.mode, e.content.toString('hex')])).toEqual(entries.map((e) => [e.path, e.mode, e.content.toString('hex')]));
      }),
      { numRuns: 100 },
    );
  });

  it('packs a directory from disk, skipping links, with executable bits and the owner given', async () => {
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'a.txt'), 'a');
    await writeFile(join(dir, 'sub', 'tool'), 'b');
    await chmod(join(dir, 'sub', 'tool'), 0o750);
    await symlink('/etc/passwd', join(dir, 'leak'));
    await symlink(join(dir, 'sub'), join(dir, 'sublink'));
    const read = await readTar(packDirectory(dir, 'top', { uid: 1000, gid: 1001 }));
    expect(read.map((e) => [e.path, e.type, e.mode.toString(8), e.uid, e.gid, e.content.toString()])).toEqual([
      ['top', 'directory', '755', 1000, 1001, ''],
      ['top/a.txt', 'file', '644', 1000, 1001, 'a'],
      ['top/sub', 'directory', '755', 1000, 1001, ''],
      ['top/sub/tool', 'file', '755', 1000, 1001, 'b'],
    ]);
  });

  it('leaves out files past the size limit of a directory listing', async () => {
    await writeFile(join(dir, 'a'), 'x'.repeat(10));
    await writeFile(join(dir, 'b'), 'x'.repeat(10));
    const listed = await directoryEntries(dir, '.', { uid: 0, gid: 0 }, 15);
    expect(listed.map((e) => e.path)).toEqual(['.', './a']);
  });

  it('streams a file larger than any in-memory limit: a reader that holds nothing sees every byte', async () => {
    const size = 3 * 64 * 1024 * 1024 + 123; // three times readTar's limit
    const file = await open(join(dir, 'big.bin'), 'w');
    await file.truncate(size); // sparse: no disk space needed
    await file.close();
    const hash = createHash('sha256');
    let streamed = 0;
    let largestChunk = 0;
    await unpackTar(packDirectory(dir, 'w', { uid: 0, gid: 0 }, Number.MAX_SAFE_INTEGER), async (header, body) => {
      if (header.path !== 'w/big.bin') return;
      expect(header.size).toBe(size);
      for await (const chunk of body) {
        streamed += chunk.length;
        largestChunk = Math.max(largestChunk, chunk.length);
        hash.update(chunk);
      }
    });
    expect(streamed).toBe(size);
    expect(largestChunk).toBeLessThanOrEqual(1024 * 1024);
    expect(hash.digest('hex')).toBe(createHash('sha256').update(Buffer.alloc(size)).digest('hex'));
  });

  it('refuses to read more into memory than its limit, in one sentence', async () => {
    const archive = packTar([{ path: 'f', type: 'file', mode: 0o644, content: Buffer.alloc(2048) }]);
    await expect(readTar(archive, 1024)).rejects.toThrow(/^The archive holds more than 0 MB, more than paude reads into memory at once\.$/);
  });

  it.each(['../x', 'a/../../x', '/../x', './../x'])('refuses an entry whose path escapes (%s) in one sentence', async (name) => {
    const archive = await rawArchive(name);
    const error: unknown = await readTar(archive).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PaudeError);
    expect((error as Error).message).toMatch(/^The archive holds the path ".*", which leads outside the directory it unpacks into, so paude refused the whole archive\.$/);
    await expect(unpackToDirectory(await rawArchive(name), join(dir, 'out'))).rejects.toThrow(PaudeError);
    await expect(stat(join(dir, 'x'))).rejects.toThrow();
  });

  it('reads a name that starts with "/" (Podman, for a volume\'s root) as inside the directory, like GNU tar', async () => {
    const read = await readTar(await rawArchive('/etc/passwd'));
    expect(read.map((e) => [e.path, e.rooted])).toEqual([['etc/passwd', true]]);
    expect(await unpackToDirectory(await rawArchive('/etc/passwd'), join(dir, 'out'))).toEqual(['etc/passwd']);
    expect(await readFile(join(dir, 'out', 'etc', 'passwd'), 'utf8')).toBe('x');
  });

  it('unpacks files and directories onto disk and skips links', async () => {
    const archive = packTar([
      { path: 'ws', type: 'directory', mode: 0o755, content: Buffer.alloc(0) },
      { path: 'ws/run', type: 'file', mode: 0o755, content: Buffer.from('run') },
      { path: 'ws/link', type: 'symlink', mode: 0o777, content: Buffer.alloc(0), linkTarget: '/etc/passwd' },
      { path: 'ws/src/a.txt', type: 'file', mode: 0o644, content: Buffer.from('a') },
    ]);
    const written = await unpackToDirectory(archive, dir);
    expect(written).toEqual(['ws/run', 'ws/src/a.txt']);
    expect(await readFile(join(dir, 'ws/src/a.txt'), 'utf8')).toBe('a');
    expect((await stat(join(dir, 'ws/run'))).mode & 0o111).not.toBe(0);
    await expect(stat(join(dir, 'ws/link'))).rejects.toThrow();
  });

  it('reads an archive given as bytes, and a packer error ends the stream with it', async () => {
    const archive = await bytes(packTar([{ path: 'a', type: 'file', mode: 0o644, content: Buffer.from('1') }]));
    expect((await readTar(archive)).map((e) => e.path)).toEqual(['a']);
    const failing = packTar(
      (async function* () {
        yield { path: 'a', type: 'file' as const, mode: 0o644, content: Buffer.from('1') };
        await Promise.resolve();
        throw new PaudeError('The source went away.');
      })(),
    );
    await expect(bytes(failing)).rejects.toThrow('The source went away.');
  });
});
