import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { packTar, type ContextEntry } from '../fs/tar.js';
import { agentSide } from './agent-side.js';
import { hash, skipUnder } from './workspace-sync.js';

let stage: string;
beforeEach(async () => {
  stage = await mkdtemp(join(tmpdir(), 'paude-agent-side-'));
});
afterEach(async () => {
  await rm(stage, { recursive: true, force: true });
});

const file = (path: string, text: string, mode = 0o644): ContextEntry => ({ path, type: 'file', mode, content: Buffer.from(text) });
const big = 'b'.repeat(2 * 1024 * 1024);

describe('agentSide', () => {
  it.each([
    ['named after the workspace directory (Docker, Podman)', 'ws', 'ws/'],
    ["rooted at '/' (Podman, a volume's root)", '/', '/'],
  ])('reads an archive %s: hashes every file, keeps only those asked for, on disk', async (_, top, prefix) => {
    const archive = packTar([
      { path: top, type: 'directory', mode: 0o755, content: Buffer.alloc(0) },
      file(`${prefix}keep.txt`, 'wanted'),
      file(`${prefix}drop.txt`, 'unwanted'),
      file(`${prefix}large.bin`, big, 0o755),
      file(`${prefix}node_modules/x.js`, 'skipped'),
      { path: `${prefix}link`, type: 'symlink', mode: 0o777, content: Buffer.alloc(0), linkTarget: 'keep.txt' },
    ]);
    const side = await agentSide(archive, skipUnder(['node_modules']), (rel) => rel !== 'drop.txt', stage);
    expect([...side.manifest.keys()].sort()).toEqual(['drop.txt', 'keep.txt', 'large.bin', 'link']);
    expect(side.manifest.get('large.bin')).toEqual({ kind: 'file', hash: hash(big), mode: 0o755 });
    expect(side.file('drop.txt')).toBeUndefined();
    expect(await readFile(side.file('keep.txt') ?? '', 'utf8')).toBe('wanted');
    expect((await readFile(side.file('large.bin') ?? '')).length).toBe(big.length);
    expect(await side.linkTarget('link')).toBe('keep.txt');
    expect((await readdir(stage)).length).toBe(2);
  });

  it('sets nothing aside when nothing is wanted (a push, a dry run)', async () => {
    const archive = packTar([file('ws/a', 'a'), file('ws/large.bin', big)]);
    const side = await agentSide(archive, () => false, () => false, stage);
    expect(side.manifest.size).toBe(2);
    expect(await readdir(stage)).toEqual([]);
  });
});
