import { mkdtemp, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { packTar, readTar, type ContextEntry } from '../fs/tar.js';
import { applyClaudeChange, claudeChanges } from './claude-sync.js';

let dir: string;
let claude: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'paude-claude-sync-'));
  claude = join(dir, '.claude');
  await mkdir(claude);
  await writeFile(join(claude, 'settings.json'), '{"a":1}\n');
  await writeFile(join(claude, 'gone.md'), 'old\n');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const file = (path: string, text: string): ContextEntry => ({ path, type: 'file', mode: 0o644, content: Buffer.from(text) });
const dirEntry = (path: string): ContextEntry => ({ path, type: 'directory', mode: 0o755, content: Buffer.alloc(0) });

describe('claude-sync', () => {
  it('finds added, changed and deleted files with a diff for each, reading a real tar', async () => {
    const archive = readTar(packTar([dirEntry('.claude'), file('.claude/settings.json', '{"a":2}\n'), dirEntry('.claude/commands'), file('.claude/commands/x.md', 'new\n')]));
    const changes = await claudeChanges(claude, archive);
    expect(changes.map((c) => [c.path, c.kind])).toEqual([
      ['commands/x.md', 'added'],
      ['gone.md', 'deleted'],
      ['settings.json', 'changed'],
    ]);
    expect(changes.find((c) => c.path === 'settings.json')?.diff).toMatch(/^-\{"a":1\}$[\s\S]*^\+\{"a":2\}$/m);
  });

  it('reports nothing when the session changed nothing', async () => {
    const archive = readTar(packTar([dirEntry('.claude'), file('.claude/settings.json', '{"a":1}\n'), file('.claude/gone.md', 'old\n')]));
    expect(await claudeChanges(claude, archive)).toEqual([]);
  });

  it('ignores entries that would land outside .claude/, and an archive that leads out of its directory is refused', async () => {
    const archive = readTar(packTar([dirEntry('.claude'), file('.claude/sub/../../escape.txt', 'x'), file('.claude/settings.json', '{"a":1}\n'), file('.claude/gone.md', 'old\n')]));
    await expect(claudeChanges(claude, archive)).rejects.toThrow(/leads outside the directory it unpacks into/);
  });

  it('applies a change but never writes through a link in the repository', async () => {
    await writeFile(join(dir, 'outside.txt'), 'untouched\n');
    await symlink(join(dir, 'outside.txt'), join(claude, 'link.md'));
    await applyClaudeChange(claude, { path: 'link.md', kind: 'changed', content: Buffer.from('evil\n'), diff: '' });
    expect(await readFile(join(dir, 'outside.txt'), 'utf8')).toBe('untouched\n');
    await applyClaudeChange(claude, { path: 'new/deep.md', kind: 'added', content: Buffer.from('ok\n'), diff: '' });
    expect(await readFile(join(claude, 'new', 'deep.md'), 'utf8')).toBe('ok\n');
    await applyClaudeChange(claude, { path: 'gone.md', kind: 'deleted', diff: '' });
    await expect(readFile(join(claude, 'gone.md'))).rejects.toThrow();
  });
});
