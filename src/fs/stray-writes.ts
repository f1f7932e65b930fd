/**
 * Temporary files of atomic writes (NAME.<pid>.<hex>.tmp, see atomic-write.ts) whose writer has
 * died: what a paude killed in the middle of a write leaves. Nothing reads them; `paude gc`
 * removes them.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { processAlive } from './process-alive.js';

const TMP = /\.([0-9]+)\.[0-9a-f]{8}\.tmp$/;

/** The stray temporary files under `root` (a few levels deep: the data directory's layout). */
export async function strayWrites(root: string, depth = 4): Promise<string[]> {
  const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
  const out: string[] = [];
  for (const e of entries) {
    const path = join(root, e.name);
    if (e.isDirectory() && depth > 0) out.push(...(await strayWrites(path, depth - 1)));
    const pid = TMP.exec(e.name)?.[1];
    if (e.isFile() && pid !== undefined && !processAlive(Number(pid))) out.push(path);
  }
  return out;
}

export async function removeStrayWrites(root: string): Promise<number> {
  const strays = await strayWrites(root);
  await Promise.all(strays.map((path) => rm(path, { force: true })));
  return strays.length;
}
