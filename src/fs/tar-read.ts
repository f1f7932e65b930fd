/** Reads the regular files and directories of an uncompressed tar archive (ustar, GNU long names). */
export interface TarEntry {
  path: string;
  type: 'file' | 'directory' | 'other';
  content: Buffer;
}

const BLOCK = 512;

export function readTar(archive: Buffer): TarEntry[] {
  const entries: TarEntry[] = [];
  let offset = 0;
  let longName: string | undefined;
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
    longName = undefined;
    if (typeflag === 'L') {
      longName = content.toString('utf8').replace(/\0.*$/s, '');
      continue;
    }
    if (typeflag === 'x' || typeflag === 'g') continue; // pax headers: names we need fit the fields
    const type = typeflag === '0' || typeflag === '' ? 'file' : typeflag === '5' ? 'directory' : 'other';
    entries.push({ path: name.replace(/^\.\//, '').replace(/\/$/, ''), type, content: Buffer.from(content) });
  }
  return entries;
}
