/**
 * What a session changed in the project's .claude/ (an ephemeral copy inside the container),
 * and bringing chosen changes back. Only regular files strictly inside .claude/ are ever
 * written; links and anything else in the archive are ignored.
 */
import { lstat, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, normalize, sep } from 'node:path';
import { createTwoFilesPatch } from 'diff';
import type { TarEntry } from '../fs/tar.js';

export interface ClaudeChange {
  /** Path inside .claude/ */
  path: string;
  kind: 'added' | 'changed' | 'deleted';
  /** New content (undefined when deleted). */
  content?: Buffer;
  diff: string;
}

/** `archive` may still be being read (readTar's promise). */
export async function claudeChanges(hostDir: string, reading: readonly TarEntry[] | Promise<readonly TarEntry[]>): Promise<ClaudeChange[]> {
  const archive = await reading;
  // The archive of a directory starts with the directory's own name.
  const top = archive[0]?.path.split('/')[0] ?? '.claude';
  const inside = new Map<string, Buffer>();
  for (const e of archive) {
    if (e.type !== 'file') continue;
    const rel = e.path === top ? '' : e.path.startsWith(`${top}/`) ? e.path.slice(top.length + 1) : e.path;
    const safe = normalize(rel);
    if (!safe || safe.startsWith('..') || safe.startsWith(sep)) continue;
    inside.set(safe, e.content);
  }
  const before = await hostFiles(hostDir);
  const changes: ClaudeChange[] = [];
  for (const [path, content] of inside) {
    const old = before.get(path);
    if (old && old.equals(content)) continue;
    changes.push({ path, kind: old ? 'changed' : 'added', content, diff: patch(path, old, content) });
  }
  for (const [path, old] of before) if (!inside.has(path)) changes.push({ path, kind: 'deleted', diff: patch(path, old, undefined) });
  return changes.sort((a, b) => a.path.localeCompare(b.path));
}

export async function applyClaudeChange(hostDir: string, change: ClaudeChange): Promise<void> {
  const target = join(hostDir, change.path);
  if (!target.startsWith(hostDir + sep)) return;
  // Never follow a link the repository might hold.
  const existing = await lstat(target).catch(() => undefined);
  if (existing && !existing.isFile()) return;
  if (change.kind === 'deleted') {
    await rm(target, { force: true });
    return;
  }
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, change.content ?? Buffer.alloc(0));
}

async function hostFiles(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const walk = async (rel: string): Promise<void> => {
    for (const name of await readdir(join(dir, rel)).catch(() => [] as string[])) {
      const path = rel ? `${rel}/${name}` : name;
      const st = await lstat(join(dir, path));
      if (st.isDirectory()) await walk(path);
      else if (st.isFile()) out.set(path, await readFile(join(dir, path)));
    }
  };
  await walk('');
  return out;
}

function patch(path: string, before: Buffer | undefined, after: Buffer | undefined): string {
  const text = (b: Buffer | undefined): string => (b === undefined ? '' : b.includes(0) ? `(binary, ${b.length} bytes)\n` : b.toString('utf8'));
  return createTwoFilesPatch(`.claude/${path} (host)`, `.claude/${path} (session)`, text(before), text(after), undefined, undefined, { context: 2 });
}
