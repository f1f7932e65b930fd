/** Reads a host directory into archive entries (regular files and directories; links skipped). */
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContextEntry } from '../images/build-context.js';

export interface TarOwner {
  uid: number;
  gid: number;
}

export async function directoryEntries(dir: string, prefix: string, owner: TarOwner, limitBytes = 64 * 1024 * 1024): Promise<ContextEntry[]> {
  const out: ContextEntry[] = [{ path: prefix, type: 'directory', mode: 0o755, content: Buffer.alloc(0), ...owner }];
  let total = 0;
  const walk = async (from: string, to: string): Promise<void> => {
    for (const name of (await readdir(from)).sort()) {
      const src = join(from, name);
      const dst = `${to}/${name}`;
      const st = await lstat(src);
      if (st.isDirectory()) {
        out.push({ path: dst, type: 'directory', mode: 0o755, content: Buffer.alloc(0), ...owner });
        await walk(src, dst);
      } else if (st.isFile()) {
        total += st.size;
        if (total > limitBytes) return;
        out.push({ path: dst, type: 'file', mode: st.mode & 0o700 ? (st.mode & 0o111 ? 0o755 : 0o644) : 0o644, content: await readFile(src), ...owner });
      }
    }
  };
  await walk(dir, prefix);
  return out;
}
