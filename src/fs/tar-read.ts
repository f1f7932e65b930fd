/** Reads the regular files and directories of an uncompressed tar archive (ustar, GNU long names). */
export interface TarEntry {
  path: string;
  type: 'file' | 'directory' | 'symlink' | 'other';
  content: Buffer;
  mode: number;
  linkTarget?: string;
}

/** The records of a pax extended header ("LEN key=value\n"...). */
function paxRecords(data: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  while (i < data.length) {
    const space = data.indexOf(0x20, i);
    if (space === -1) break;
    const length = parseInt(data.subarray(i, space).toString('latin1'), 10);
    if (!Number.isFinite(length) || length <= 0) break;
    const record = data.subarray(space + 1, i + length - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) out.set(record.slice(0, eq), record.slice(eq + 1));
    i += length;
  }
  return out;
}

const BLOCK = 512;

export function readTar(archive: Buffer): TarEntry[] {
  const entries: TarEntry[] = [];
  let offset = 0;
  let longName: string | undefined;
  let longLink: string | undefined;
  while (offset + BLOCK <= archive.length) {
    const header = archive.subarray(offset, offset + BLOCK);
    if (header.every((b) => b === 0)) break;
    const field = (start: number, length: number): string => header.subarray(start, start + length).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const typeflag = field(156, 1);
    const prefix = field(257, 6).startsWith('ustar') ? field(345, 155) : '';
    const name = longName ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
    const content = archive.subarray(offset + BLOCK, offset + BLOCK + size);
    offset += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    const link = longLink ?? field(157, 100);
    longName = undefined;
    longLink = undefined;
    if (typeflag === 'L') {
      longName = content.toString('utf8').replace(/\0.*$/s, '');
      continue;
    }
    if (typeflag === 'K') {
      longLink = content.toString('utf8').replace(/\0.*$/s, '');
      continue;
    }
    if (typeflag === 'x') {
      const records = paxRecords(content);
      longName = records.get('path');
      longLink = records.get('linkpath');
      continue;
    }
    if (typeflag === 'g') continue;
    const type = typeflag === '0' || typeflag === '' ? 'file' : typeflag === '5' ? 'directory' : typeflag === '2' ? 'symlink' : 'other';
    const mode = parseInt(field(100, 8).trim() || '0', 8) & 0o7777;
    entries.push({ path: name.replace(/^\.\//, '').replace(/\/$/, ''), type, content: Buffer.from(content), mode, ...(type === 'symlink' ? { linkTarget: link } : {}) });
  }
  return entries;
}
