/**
 * The audit log on disk: DATA/audit/<session>.jsonl for each session's story and
 * DATA/audit/paude.jsonl for what concerns no one session (a global allow), each rotated by
 * size (<name>.1.jsonl is the previous file). Events carry stable ids; facts recorded twice
 * (a back-fill after a crash, or by two processes at once) are written once. Reading, every
 * line validated, is audit-reader.ts.
 */
import { mkdir, open, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ProxyEventStream, readOnce } from '../policy/proxy-event-stream.js';
import { AuditEventSchema, AUDIT_VERSION, type AuditEvent } from './audit-event.js';
import { auditFile, GLOBAL_STREAM, readAudit, type AuditFilter, type AuditPosition, type AuditRead } from './audit-reader.js';
import { appendWhole, writeFailure } from '../fs/atomic-write.js';

export interface AuditLimits {
  maxBytes: number;
  maxFiles: number;
}

export const DEFAULT_LIMITS: AuditLimits = { maxBytes: 10 * 1024 * 1024, maxFiles: 5 };
/** A lock older than this was left by a killed process; waiting longer than this takes it anyway. */
const LOCK_STALE_MS = 5000;
const LOCK_WAIT_MS = 10_000;

export class AuditLog {
  private writing: Promise<void> = Promise.resolve();

  constructor(
    readonly dir: string,
    private readonly limits: AuditLimits = DEFAULT_LIMITS,
    /** Called after events were written (the webhook sink delivers then). */
    private readonly afterAppend?: () => void,
  ) {}

  private file(stream: string, generation = 0): string {
    return auditFile(this.dir, stream, generation);
  }

  /** Appends events (each to its session's file); ids already in that file are skipped. */
  append(events: readonly AuditEvent[]): Promise<void> {
    return this.serially(async () => {
      const byStream = new Map<string, AuditEvent[]>();
      for (const e of events) {
        const stream = e.session_id || GLOBAL_STREAM;
        const list = byStream.get(stream) ?? [];
        byStream.set(stream, list);
        list.push(AuditEventSchema.parse(e));
      }
      await this.makeDir();
      for (const [stream, list] of byStream) await this.locked(stream, () => this.write(stream, list));
      return true;
    });
  }

  /** One writer at a time in this process: a line is never interleaved with another. */
  private serially(work: () => Promise<boolean>): Promise<void> {
    this.writing = this.writing.then(work, work).then((wrote) => void (wrote && this.afterAppend?.()));
    return this.writing;
  }

  private async makeDir(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 }).catch((error: unknown) => {
      throw writeFailure(this.dir, error);
    });
  }

  /** Writes the events the stream's current file does not hold yet (its lock held). */
  private async write(stream: string, list: readonly AuditEvent[]): Promise<void> {
    const known = await this.ids(stream);
    const fresh = list.filter((e) => !known.has(e.id));
    if (fresh.length === 0) return;
    await this.rotate(stream);
    // Whole lines or nothing (a full disk): a half line would hide the events after it.
    await appendWhole(this.file(stream), fresh.map((e) => JSON.stringify(e)).join('\n') + '\n');
  }

  /**
   * One appender per stream across processes: the keeper, paude stop and paude audit may all
   * record the same session's requests and end at once, and the ids they check must not go
   * stale before they write. The lock is an empty file (it takes no space on a full disk); one
   * left by a killed holder is taken over after a few seconds.
   */
  private async locked(stream: string, work: () => Promise<void>): Promise<void> {
    const lock = join(this.dir, `${stream}.lock`);
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        await (await open(lock, 'wx', 0o600)).close();
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw writeFailure(lock, error);
        const since = (await stat(lock).catch(() => undefined))?.mtimeMs;
        if (since === undefined) continue;
        if (Date.now() - since > LOCK_STALE_MS || Date.now() > deadline) await rm(lock, { force: true });
        else await new Promise((r) => setTimeout(r, 10));
      }
    }
    try {
      await work();
    } finally {
      await rm(lock, { force: true });
    }
  }

  private async rotate(stream: string): Promise<void> {
    const size = (await stat(this.file(stream)).catch(() => undefined))?.size ?? 0;
    if (size < this.limits.maxBytes) return;
    await rm(this.file(stream, this.limits.maxFiles - 1), { force: true });
    for (let g = this.limits.maxFiles - 2; g >= 0; g--) await rename(this.file(stream, g), this.file(stream, g + 1)).catch(() => undefined);
  }

  /** The ids in the stream's current file (the previous files hold older facts only). */
  private async ids(stream: string): Promise<Set<string>> {
    const text = await readFile(this.file(stream), 'utf8').catch(() => '');
    const out = new Set<string>();
    for (const m of text.matchAll(/"id":"((?:[^"\\]|\\.)*)"/g)) out.add(JSON.parse(`"${m[1] ?? ''}"`) as string);
    return out;
  }

  /** Where the last recorded request's line starts in the proxy log (-1: none recorded). */
  private async networkCursor(session: string, event = 'network'): Promise<number> {
    for (let g = 0; g < this.limits.maxFiles; g++) {
      const text = await readFile(this.file(session, g), 'utf8').catch(() => undefined);
      if (text === undefined) continue;
      const lines = text.trimEnd().split('\n');
      for (let i = lines.length - 1; i >= 0; i--) {
        const m = new RegExp(`"event":"${event}".*"data":\\{.*"offset":([0-9]+)`).exec(lines[i] ?? '');
        if (m) return Number(m[1]);
      }
    }
    return -1;
  }

  /**
   * Records the proxy's requests of a session not recorded yet, from its access log: exactly
   * once, also after paude was not running (a detached session, a crash). Returns how many.
   */
  async backfillNetwork(session: string, accessLog: string): Promise<number> {
    return this.backfill(session, 'network', async (last) => {
      // A stream of its own from the start of the last recorded line (a line boundary), that
      // line itself skipped: the same follower, parse and filter as every other reader.
      const read = await readOnce((listener, options) => new ProxyEventStream({ session, accessLog }, { from: Math.max(0, last) }).subscribe(listener, options));
      return read
        .filter((e) => e.offset > last)
        .map(
          (e): AuditEvent => ({
            v: AUDIT_VERSION,
            id: `${session}:net:${e.offset}`,
            ts: new Date(e.time).toISOString(),
            session_id: session,
            event: 'network',
            source: 'proxy',
            data: { host: e.host, port: e.port, method: e.method, decision: e.decision, rule: e.rule, status: e.status, bytes: e.bytes, offset: e.offset },
          }),
        );
    });
  }

  /**
   * Records what a source holds after the last event of this kind recorded (its cursor). The
   * events are gathered outside the session's lock; under it the cursor is read again and only
   * what lies beyond it is written. So back-fills that run at once in several processes (the
   * keeper, paude stop, paude audit) record each fact once, also when the file was rotated
   * between one's reading and another's writing, and the lock is held for the writing only.
   */
  private async backfill(session: string, event: 'network' | 'command', collect: (cursor: number) => Promise<AuditEvent[]>): Promise<number> {
    const events = (await collect(await this.networkCursor(session, event))).map((e) => AuditEventSchema.parse(e));
    if (events.length === 0) return 0;
    let count = 0;
    await this.serially(async () => {
      await this.makeDir();
      await this.locked(session, async () => {
        const cursor = await this.networkCursor(session, event);
        const fresh = events.filter((e) => sourceOffset(e) > cursor);
        count = fresh.length;
        if (count) await this.write(session, fresh);
      });
      return count > 0;
    });
    return count;
  }

  /**
   * Records the tool uses Claude Code's hooks reported (the spool paude-hook writes in the
   * agent's home), exactly once, from where the last recorded one ended. Returns how many.
   */
  async backfillHooks(session: string, spool: Buffer): Promise<number> {
    return this.backfill(session, 'command', (last) => Promise.resolve(hookEvents(session, spool, last)));
  }

  /** The sessions the log has a story of (ended ones too). */
  async sessions(): Promise<string[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    return [...new Set(names.map((n) => /^(paude-[a-z0-9]+)(?:\.[0-9]+)?\.jsonl$/.exec(n)?.[1]).filter((s): s is string => s !== undefined))].sort();
  }

  async has(session: string, id: string): Promise<boolean> {
    return (await this.ids(session || GLOBAL_STREAM)).has(id);
  }

  /** Whether the event is in any of the stream's files (the current one or a rotated one). */
  async hasEver(session: string, id: string): Promise<boolean> {
    for (let g = 0; g < this.limits.maxFiles; g++) {
      const text = await readFile(this.file(session || GLOBAL_STREAM, g), 'utf8').catch(() => '');
      if (text.includes(`"id":${JSON.stringify(id)}`)) return true;
    }
    return false;
  }

  /** Events matching the filter, oldest first, with a warning for each line that is not one. */
  read(filter: AuditFilter = {}): Promise<AuditRead> {
    return readAudit(this.dir, this.limits.maxFiles, filter);
  }

  /** The same, of what was written since `position` (empty: everything), which it advances. */
  readNew(position: AuditPosition, filter: AuditFilter = {}): Promise<AuditRead> {
    return readAudit(this.dir, this.limits.maxFiles, filter, position);
  }
}

/** Where the line an event was read from starts in its source (access log, hook spool). */
function sourceOffset(e: AuditEvent): number {
  return e.event === 'network' || e.event === 'command' ? e.data.offset : -1;
}

/** The tool uses in a hook spool after the one recorded last (which starts at `last`). */
function hookEvents(session: string, spool: Buffer, last: number): AuditEvent[] {
  const events: AuditEvent[] = [];
  const started = new Map<string, number>();
  let offset = 0;
  for (const line of spool.toString('utf8').split('\n')) {
    const at = offset;
    offset += Buffer.byteLength(line) + 1;
    if (!line.trim()) continue;
    let entry: { phase?: unknown; at?: unknown; event?: Record<string, unknown> | null };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      continue; // cut short (an event over the hook's size limit)
    }
    const ev = entry.event ?? {};
    const id = typeof ev.tool_use_id === 'string' ? ev.tool_use_id : undefined;
    const time = typeof entry.at === 'number' ? entry.at : Date.now();
    if (entry.phase === 'pre' && id) started.set(id, time);
    if (at <= last) continue;
    if (entry.phase !== 'pre' && entry.phase !== 'post') continue;
    const tool = typeof ev.tool_name === 'string' ? ev.tool_name : 'unknown';
    const input = (ev.tool_input ?? {}) as Record<string, unknown>;
    const what = typeof input.command === 'string' ? input.command : typeof input.file_path === 'string' ? input.file_path : JSON.stringify(input);
    const response = (ev.tool_response ?? {}) as Record<string, unknown>;
    const began = id ? started.get(id) : undefined;
    events.push({
      v: AUDIT_VERSION,
      id: `${session}:hook:${at}`,
      ts: new Date(time).toISOString(),
      session_id: session,
      event: 'command',
      source: 'agent-hook',
      data: {
        phase: entry.phase,
        tool,
        what: what.length > 500 ? `${what.slice(0, 500)}…` : what,
        ...(id ? { tool_use_id: id } : {}),
        ...(entry.phase === 'post' && began !== undefined ? { duration_ms: Math.max(0, time - began) } : {}),
        ...(entry.phase === 'post' && (response.interrupted === true || response.is_error === true) ? { failed: true } : {}),
        offset: at,
      },
    });
  }
  return events;
}
