/**
 * Sinks beyond the file: audit events delivered in order to a webhook (a JSON array per batch,
 * POSTed) or syslog (syslog.ts). The audit files are the spool: a cursor per file (byte offset of the first event not yet delivered)
 * is kept next to them and advanced only after the receiver answered 2xx, so an outage delays
 * events and loses none; whichever paude runs next carries on. Deliveries never block a
 * session: they run in the background with a timeout, and what a process could not deliver
 * before exiting is delivered by the next one. Events carry stable ids for receivers that
 * must not see a fact twice after a crash between delivery and cursor update.
 */
import { createHash } from 'node:crypto';
import { open, readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../fs/atomic-write.js';

const BATCH_BYTES = 512 * 1024;
const Cursor = z.strictObject({ version: z.literal(1), offsets: z.record(z.string(), z.number().int().nonnegative()) });

export interface WebhookOptions {
  url: string;
  headers?: Record<string, string>;
  /** For tests: how to send. */
  post?: (url: string, body: string, headers: Record<string, string>) => Promise<number>;
  timeoutMs?: number;
}

/** Delivers a batch of event lines (JSON, in order); resolves true when they were taken. */
export type Sender = (lines: string[]) => Promise<boolean>;

/** The webhook: a JSON array per batch, POSTed; 2xx means taken. */
export function webhookSender(options: WebhookOptions): Sender {
  const post = options.post ?? ((url, body, headers) => defaultPost(url, body, headers, options.timeoutMs ?? 10_000));
  return async (lines) => {
    const status = await post(options.url, `[${lines.join(',')}]`, { 'content-type': 'application/json', ...options.headers }).catch(() => 0);
    return status >= 200 && status < 300;
  };
}

/** A sink fed from the audit files (its spool); the key names its cursor (one per destination). */
export class SpoolSink {
  private running: Promise<boolean> | undefined;
  private again = false;
  private retry: NodeJS.Timeout | undefined;
  private delay = 2000;

  constructor(
    private readonly dir: string,
    private readonly key: string,
    private readonly send: Sender,
  ) {}

  private get cursorFile(): string {
    return join(this.dir, `.sink-${createHash('sha256').update(this.key).digest('hex').slice(0, 12)}.json`);
  }

  private async cursor(): Promise<Record<string, number>> {
    try {
      const parsed = Cursor.safeParse(JSON.parse(await readFile(this.cursorFile, 'utf8')));
      return parsed.success ? parsed.data.offsets : {};
    } catch {
      return {};
    }
  }

  /**
   * Delivers what is pending in every current audit file; resolves true when all of it was
   * delivered. Concurrent calls share one run. (Rotated-away files are not sent: a file
   * rotates at megabytes, long after an outage would have been noticed.)
   */
  deliver(): Promise<boolean> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      let ok: boolean;
      do {
        this.again = false;
        ok = await this.run().catch(() => false);
      } while (ok && this.again);
      this.schedule(ok);
      return ok;
    })().finally(() => (this.running = undefined));
    return this.running;
  }

  /** While this process lives, an undelivered batch is tried again, backing off to a minute. */
  private schedule(ok: boolean): void {
    if (ok) {
      this.delay = 2000;
      return;
    }
    if (this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      void this.deliver();
    }, this.delay);
    this.retry.unref();
    this.delay = Math.min(60_000, this.delay * 2);
  }

  private async run(): Promise<boolean> {
    const offsets = await this.cursor();
    const names = (await readdir(this.dir).catch(() => [] as string[])).filter((n) => n.endsWith('.jsonl') && !n.startsWith('.') && !/\.[0-9]+\.jsonl$/.test(n)).sort();
    for (const name of names) {
      const file = join(this.dir, name);
      const size = (await stat(file).catch(() => undefined))?.size ?? 0;
      let at = offsets[name] ?? 0;
      if (at > size) at = 0; // the file was rotated under us: its successor starts over
      while (at < size) {
        const handle = await open(file, 'r');
        let chunk: Buffer;
        try {
          const buf = Buffer.alloc(Math.min(BATCH_BYTES, size - at));
          const { bytesRead } = await handle.read(buf, 0, buf.length, at);
          chunk = buf.subarray(0, bytesRead);
        } finally {
          await handle.close();
        }
        const end = chunk.lastIndexOf(0x0a);
        if (end === -1) break; // a line still being written
        const lines = chunk.subarray(0, end).toString('utf8').split('\n').filter(Boolean);
        if (!(await this.send(lines).catch(() => false))) {
          await this.save(offsets);
          return false;
        }
        at += end + 1;
        offsets[name] = at;
      }
    }
    await this.save(offsets);
    return true;
  }

  private async save(offsets: Record<string, number>): Promise<void> {
    await writeFileAtomic(this.cursorFile, JSON.stringify({ version: 1, offsets }) + '\n');
  }
}

async function defaultPost(url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<number> {
  const res = await fetch(url, { method: 'POST', body, headers, signal: AbortSignal.timeout(timeoutMs) });
  await res.arrayBuffer().catch(() => undefined);
  return res.status;
}
