import { spawnSync } from 'node:child_process';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { PaudeError } from '../errors.js';
import { CONTAINERFILE_NAME, createBuildContext } from './build-context.js';

interface ReadEntry {
  path: string;
  type: string;
  mode: number;
  mtime: number;
  content: Buffer;
}

/**
 * A reader written from the ustar spec, independent of the writer: checks magic and checksum
 * too. A pax header ('x', for names ustar cannot hold) gives the next entry its path.
 */
function readTar(archive: Buffer): ReadEntry[] {
  const entries: ReadEntry[] = [];
  let offset = 0;
  let paxPath: string | undefined;
  const text = (start: number, length: number): string => {
    const raw = archive.subarray(offset + start, offset + start + length);
    const end = raw.indexOf(0);
    return raw.subarray(0, end === -1 ? raw.length : end).toString('utf8');
  };
  const num = (start: number, length: number): number => parseInt(text(start, length).trim() || '0', 8);
  while (offset + 512 <= archive.length) {
    const header = archive.subarray(offset, offset + 512);
    if (header.every((byte) => byte === 0)) break;
    let sum = 0;
    header.forEach((byte, i) => (sum += i >= 148 && i < 156 ? 32 : byte));
    expect(num(148, 8)).toBe(sum);
    expect(text(257, 6)).toBe('ustar');
    const prefix = text(345, 155);
    const name = text(0, 100);
    const size = num(124, 12);
    if (text(156, 1) === 'x') {
      const records = archive.subarray(offset + 512, offset + 512 + size).toString('utf8');
      paxPath = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(records)?.[1];
      offset += 512 + Math.ceil(size / 512) * 512;
      continue;
    }
    entries.push({
      path: paxPath ?? (prefix ? `${prefix}/${name}` : name),
      type: text(156, 1),
      mode: num(100, 8),
      mtime: num(136, 12),
      content: Buffer.from(archive.subarray(offset + 512, offset + 512 + size)),
    });
    paxPath = undefined;
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  expect(archive.length % 512).toBe(0);
  expect(archive.subarray(offset).every((byte) => byte === 0)).toBe(true);
  return entries;
}

const LONG_DIR = `${'d'.repeat(60)}/${'e'.repeat(60)}`;
const files = {
  'squid.conf': 'http_port 3128\n',
  'bin/helper': '#!/bin/sh\necho OK\n',
  'certs/extra.pem': Buffer.from([0, 1, 2, 255, 254]),
  'empty.txt': '',
  [`${LONG_DIR}/${'f'.repeat(90)}.txt`]: 'long path',
  'block.bin': Buffer.alloc(512, 7),
  'unicodé.txt': 'ünï\n',
};

/** The archive's bytes (createBuildContext streams them). */
const context = (containerfile: string, contextFiles: Record<string, string | Buffer>): Promise<Buffer> => buffer(createBuildContext(containerfile, contextFiles));

describe('createBuildContext', () => {
  it('round-trips every file, the Containerfile and the parent directories', async () => {
    const entries = readTar(await context('FROM scratch\n', files));
    const byPath = new Map(entries.map((entry) => [entry.path, entry]));
    expect(byPath.get(CONTAINERFILE_NAME)?.content.toString()).toBe('FROM scratch\n');
    for (const [path, content] of Object.entries(files)) {
      expect(byPath.get(path)?.type, path).toBe('0');
      expect(byPath.get(path)?.content, path).toEqual(Buffer.from(content));
    }
    const directories = entries.filter((entry) => entry.type === '5').map((entry) => entry.path);
    expect(directories).toEqual(['bin/', 'certs/', `${'d'.repeat(60)}/`, `${LONG_DIR}/`]);
    expect(entries).toHaveLength(Object.keys(files).length + 1 + directories.length);
  });

  it('makes scripts executable and everything else read-only for others, with a fixed mtime', async () => {
    const entries = readTar(await context('FROM scratch\n', files));
    const mode = (path: string): number | undefined => entries.find((entry) => entry.path === path)?.mode;
    expect(mode('bin/helper')).toBe(0o755);
    expect(mode('squid.conf')).toBe(0o644);
    expect(mode('bin/')).toBe(0o755);
    expect(new Set(entries.map((entry) => entry.mtime))).toEqual(new Set([0]));
  });

  it('is byte-for-byte the same for the same input, whatever the key order', async () => {
    const reversed = Object.fromEntries(Object.entries(files).reverse());
    expect((await context('FROM scratch\n', reversed)).equals(await context('FROM scratch\n', files))).toBe(true);
  });

  it('is read by GNU tar as the same list of entries', async () => {
    const result = spawnSync('tar', ['--quoting-style=literal', '-tf', '-'], { input: await context('FROM scratch\n', files) });
    expect(result.status, result.stderr.toString()).toBe(0);
    const listed = result.stdout.toString().trim().split('\n');
    expect(listed.sort()).toEqual(readTar(await context('FROM scratch\n', files)).map((entry) => entry.path).sort());
  });

  it.each([
    ['/etc/passwd', 'is absolute'],
    ['C:/x', 'is absolute'],
    ['../outside', 'contains ".."'],
    ['a/../../b', 'contains ".."'],
    ['a/..', 'contains ".."'],
    ['', 'is empty'],
    ['a//b', 'empty or "." segment'],
    ['./a', 'empty or "." segment'],
    ['a/', 'empty or "." segment'],
    ['a\\b', 'backslash'],
  ])('rejects the path %j (%s)', (path, problem) => {
    const build = (): unknown => createBuildContext('FROM scratch\n', { [path]: 'x' });
    expect(build).toThrow(PaudeError);
    expect(build).toThrow(problem);
  });

  it('accepts names that merely contain dots', async () => {
    const entries = readTar(await context('FROM scratch\n', { 'a..b': '1', '.hidden': '2', 'x/...': '3' }));
    expect(entries.map((entry) => entry.path)).toContain('a..b');
  });

  it('rejects a file named like the Containerfile and a path that is also a directory', () => {
    expect(() => createBuildContext('FROM scratch\n', { [CONTAINERFILE_NAME]: 'x' })).toThrow('clashes with the Containerfile');
    expect(() => createBuildContext('FROM scratch\n', { a: '1', 'a/b': '2' })).toThrow('both a file and a directory');
  });

  it('keeps a name too long for ustar whole (a pax header), as GNU tar reads it', async () => {
    const name = 'x'.repeat(101);
    expect(readTar(await context('FROM scratch\n', { [name]: '1' })).map((entry) => entry.path)).toContain(name);
    const result = spawnSync('tar', ['--quoting-style=literal', '-tf', '-'], { input: await context('FROM scratch\n', { [name]: '1' }) });
    expect(result.stdout.toString().split('\n')).toContain(name);
  });
});
