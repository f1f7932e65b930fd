/**
 * Reading the audit files (audit-log.ts writes them): every line validated, the file and line
 * of any that is not an event named. A reader that keeps a position (`paude audit --follow`)
 * parses only what the files gained since its last look, and follows a rotation: the rest of
 * the file that was current is read first, wherever it was moved.
 */
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { formatIssue } from '../config/format-issue.js';
import { AuditEventSchema, type AuditEvent, type AuditEventType } from './audit-event.js';

export const GLOBAL_STREAM = 'paude';

export interface AuditFilter {
  session?: string;
  since?: number;
  events?: readonly AuditEventType[];
}

export interface AuditRead {
  events: AuditEvent[];
  warnings: string[];
}

/** Per stream: the current file (by inode), how far it was read, and the number of the next line. */
export type AuditPosition = Map<string, { ino: number; offset: number; line: number }>;

export function auditFile(dir: string, stream: string, generation = 0): string {
  return join(dir, generation === 0 ? `${stream}.jsonl` : `${stream}.${generation}.jsonl`);
}

/**
 * The events matching the filter, oldest first. With a position: only those written since it
 * (an empty position reads everything), and the position is moved past them.
 */
export async function readAudit(dir: string, maxFiles: number, filter: AuditFilter = {}, position?: AuditPosition): Promise<AuditRead> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const streams = new Set(names.map((n) => /^(.+?)(?:\.[0-9]+)?\.jsonl$/.exec(n)?.[1]).filter((s): s is string => s !== undefined));
  const out: AuditRead = { events: [], warnings: [] };
  for (const stream of streams) {
    if (filter.session && stream !== filter.session && stream !== GLOBAL_STREAM) continue;
    const keep = (e: AuditEvent): boolean => matches(e, stream, filter);
    const at = position?.get(stream);
    // The newest file read so far, and how far: where the next look goes on from.
    let last = at;
    const read = async (g: number, from: (ino: number) => Place, all: boolean): Promise<void> => {
      last = (await readLines(auditFile(dir, stream, g), from, keep, out, all)) ?? last;
    };
    if (!at) {
      for (let g = maxFiles - 1; g >= 1; g--) await read(g, START, true);
    } else if ((await stat(auditFile(dir, stream)).catch(() => undefined))?.ino !== at.ino) {
      // Rotated since the last look: the rest of the file that was current, then the files that
      // came after it (all of them when it was rotated away altogether).
      let g = 1;
      while (g < maxFiles && (await stat(auditFile(dir, stream, g)).catch(() => undefined))?.ino !== at.ino) g++;
      if (g < maxFiles) await read(g, () => at, true);
      for (g--; g >= 1; g--) await read(g, START, true);
    }
    // Without a position, a last line with no end is read (and named) too; with one, it is left
    // for the next look, as it may still be being written.
    await read(0, (ino) => (last?.ino === ino ? last : START()), !position);
    if (last) position?.set(stream, last);
  }
  out.events.sort((a, b) => a.ts.localeCompare(b.ts));
  return out;
}

function matches(e: AuditEvent, stream: string, filter: AuditFilter): boolean {
  if (filter.session && e.session_id !== filter.session && !(stream === GLOBAL_STREAM && e.event === 'policy.change' && e.data.sessions.includes(filter.session))) return false;
  if (filter.since !== undefined && Date.parse(e.ts) < filter.since) return false;
  return !filter.events?.length || filter.events.includes(e.event);
}

interface Place {
  offset: number;
  line: number;
}

const START = (): Place => ({ offset: 0, line: 1 });

/**
 * The lines of a file from where `from` says for it (by its inode, taken from the open file, so
 * a rename in between cannot mix two files up); the last line only if ended, unless `all`.
 * Returns where the next read of that file starts, or undefined when there is no such file.
 */
async function readLines(file: string, from: (ino: number) => Place, keep: (e: AuditEvent) => boolean, out: AuditRead, all: boolean): Promise<{ ino: number } & Place | undefined> {
  let text: Buffer;
  let ino: number;
  let start: Place;
  try {
    const handle = await open(file, 'r');
    try {
      const st = await handle.stat();
      ino = st.ino;
      start = from(ino);
      text = Buffer.alloc(Math.max(0, st.size - start.offset));
      const { bytesRead } = await handle.read(text, 0, text.length, start.offset);
      text = text.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch {
    return undefined;
  }
  const end = all ? text.length : text.lastIndexOf(0x0a) + 1;
  const lines = text.subarray(0, end).toString('utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  lines.forEach((line, i) => {
    const where = `${file}:${start.line + i}`;
    if (!line.trim()) return;
    let data: unknown;
    try {
      data = JSON.parse(line);
    } catch {
      out.warnings.push(`${where}: not JSON; skipped`);
      return;
    }
    const parsed = AuditEventSchema.safeParse(data);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      out.warnings.push(`${issue ? formatIssue(where, issue, AuditEventSchema) : where}; skipped`);
      return;
    }
    if (keep(parsed.data)) out.events.push(parsed.data);
  });
  return { ino, offset: start.offset + end, line: start.line + lines.length };
}
