/**
 * Follows an append-only log file line by line from a byte offset, in bounded memory. The
 * offset after each line is reported with it, so a consumer that stores it resumes exactly
 * where it stopped (no line lost or repeated across paude restarts). A file that shrinks was
 * truncated and is read again from the start. Nothing here keeps a process alive on its own
 * (the watcher is not persistent, the timer is unref'd): whoever follows says when to stop.
 */
import { watch, type FSWatcher } from 'node:fs';
import { open, stat } from 'node:fs/promises';

export interface LogLine {
  line: string;
  /** Where the line starts. */
  offset: number;
  /** Where the next line starts: store this to resume after this line. */
  next: number;
}

const CHUNK = 64 * 1024;

export class LogFollower {
  private position: number;
  private partial = Buffer.alloc(0);
  /** Where the overlong line being skipped started, if one is. */
  private skipFrom: number | undefined;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reading: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly path: string,
    private readonly onLines: (lines: LogLine[]) => void,
    startOffset = 0,
    private readonly pollMs = 200,
    /** Read no further than this byte (a line boundary): a bounded read of a part already seen. */
    private readonly endOffset = Number.POSITIVE_INFINITY,
  ) {
    this.position = startOffset;
  }

  /** Whether start() left a watcher or a timer running (until stop()). */
  get following(): boolean {
    return this.watcher !== undefined || this.timer !== undefined;
  }

  /** Where to resume: the start of the first line not yet delivered. */
  get offset(): number {
    return this.skipFrom ?? this.position - this.partial.length;
  }

  /** Reads everything available now; resolves when done. Safe to call concurrently. */
  async poll(): Promise<void> {
    if (this.reading) {
      this.again = true;
      return this.reading;
    }
    this.reading = (async () => {
      do {
        this.again = false;
        await this.readToEnd();
      } while (this.again);
    })().finally(() => (this.reading = undefined));
    return this.reading;
  }

  start(): void {
    if (this.following) return;
    const tick = (): void => void this.poll().catch(() => undefined);
    try {
      this.watcher = watch(this.path, { persistent: false }, tick);
      this.watcher.on('error', () => undefined);
    } catch {
      // Not there yet: polling finds it.
    }
    this.timer = setInterval(tick, this.pollMs);
    this.timer.unref();
    tick();
  }

  stop(): void {
    this.watcher?.close();
    if (this.timer) clearInterval(this.timer);
    this.watcher = undefined;
    this.timer = undefined;
  }

  private async readToEnd(): Promise<void> {
    let size: number;
    try {
      size = Math.min((await stat(this.path)).size, this.endOffset);
    } catch {
      return;
    }
    if (size < this.position) {
      this.position = 0;
      this.partial = Buffer.alloc(0);
      this.skipFrom = undefined;
    }
    if (size <= this.position) return;
    const fh = await open(this.path, 'r');
    try {
      const buffer = Buffer.alloc(CHUNK);
      while (this.position < size) {
        const { bytesRead } = await fh.read(buffer, 0, Math.min(CHUNK, size - this.position), this.position);
        if (bytesRead === 0) break;
        const start = this.position - this.partial.length;
        this.position += bytesRead;
        this.emit(Buffer.concat([this.partial, buffer.subarray(0, bytesRead)]), start);
      }
    } finally {
      await fh.close();
    }
  }

  private emit(data: Buffer, base: number): void {
    const lines: LogLine[] = [];
    let from = 0;
    for (let nl = data.indexOf(10); nl !== -1; nl = data.indexOf(10, from)) {
      // A line longer than a chunk is not one of ours: it is dropped, whole.
      if (this.skipFrom === undefined && nl - from <= CHUNK) lines.push({ line: data.subarray(from, nl).toString('utf8'), offset: base + from, next: base + nl + 1 });
      this.skipFrom = undefined;
      from = nl + 1;
    }
    this.partial = Buffer.from(data.subarray(from));
    // ...and not kept in memory while it goes on.
    if (this.partial.length > CHUNK) {
      this.skipFrom ??= base + from;
      this.partial = Buffer.alloc(0);
    }
    if (lines.length > 0) this.onLines(lines);
  }
}
