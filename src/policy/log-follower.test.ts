import { appendFileSync, truncateSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { LogFollower, type LogLine } from './log-follower.js';

let dir: string;
let fileNo = 0;
const followers: LogFollower[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'paude-log-follower-'));
});
afterEach(() => {
  for (const f of followers.splice(0)) f.stop();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const newPath = (): string => join(dir, `access-${++fileNo}.log`);

/** A follower that records every line it emits. */
function follow(path: string, from = 0, pollMs?: number): { follower: LogFollower; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const follower = new LogFollower(path, (batch) => lines.push(...batch), from, pollMs);
  followers.push(follower);
  return { follower, lines };
}

const texts = (lines: readonly LogLine[]): string[] => lines.map((l) => l.line);

describe('LogFollower.poll', () => {
  it('emits each complete line with where it starts and where the next one starts', async () => {
    const path = newPath();
    writeFileSync(path, 'one\ntwo\n\nfüür\n');
    const { follower, lines } = follow(path);
    await follower.poll();
    expect(lines).toEqual([
      { line: 'one', offset: 0, next: 4 },
      { line: 'two', offset: 4, next: 8 },
      { line: '', offset: 8, next: 9 },
      // Offsets count bytes, not characters.
      { line: 'füür', offset: 9, next: 16 },
    ]);
    expect(follower.offset).toBe(16);
  });

  it('holds back a partial line and emits it once, whole, when its newline arrives', async () => {
    const path = newPath();
    writeFileSync(path, 'first\nsec');
    const { follower, lines } = follow(path);
    await follower.poll();
    expect(texts(lines)).toEqual(['first']);
    expect(follower.offset).toBe(6);
    appendFileSync(path, 'ond, still');
    await follower.poll();
    expect(texts(lines)).toEqual(['first']);
    appendFileSync(path, ' going\nthird\n');
    await follower.poll();
    await follower.poll();
    expect(lines).toEqual([
      { line: 'first', offset: 0, next: 6 },
      { line: 'second, still going', offset: 6, next: 26 },
      { line: 'third', offset: 26, next: 32 },
    ]);
  });

  it('resumes from a stored offset without repeating or missing a line', async () => {
    const path = newPath();
    writeFileSync(path, 'a\nb\nc\n');
    const first = follow(path);
    await first.follower.poll();
    const stored = first.lines[1]?.next ?? -1;
    appendFileSync(path, 'd\n');
    const second = follow(path, stored);
    await second.follower.poll();
    expect(second.lines).toEqual([
      { line: 'c', offset: 4, next: 6 },
      { line: 'd', offset: 6, next: 8 },
    ]);
  });

  it('is not troubled by a missing file, and reads it once it appears', async () => {
    const path = newPath();
    const { follower, lines } = follow(path);
    await expect(follower.poll()).resolves.toBeUndefined();
    expect(lines).toEqual([]);
    writeFileSync(path, 'hello\n');
    await follower.poll();
    expect(texts(lines)).toEqual(['hello']);
  });

  it('reads a truncated file again from the start', async () => {
    const path = newPath();
    writeFileSync(path, 'old line one\nold line two\nold partial');
    const { follower, lines } = follow(path);
    await follower.poll();
    expect(texts(lines)).toEqual(['old line one', 'old line two']);
    writeFileSync(path, 'new\n');
    await follower.poll();
    expect(lines.slice(2)).toEqual([{ line: 'new', offset: 0, next: 4 }]);
    appendFileSync(path, 'newer\n');
    await follower.poll();
    expect(lines.slice(3)).toEqual([{ line: 'newer', offset: 4, next: 10 }]);
  });

  it('drops a line of a megabyte without holding it, and the lines after it still arrive', async () => {
    const path = newPath();
    writeFileSync(path, 'before\n');
    const { follower, lines } = follow(path);
    await follower.poll();
    const huge = 'x'.repeat(1024 * 1024);
    // Written in pieces, polled in between, as a slow writer would.
    for (let i = 0; i < huge.length; i += 100_000) {
      appendFileSync(path, huge.slice(i, i + 100_000));
      await follower.poll();
      // Until the line ends, the resume point stays at its start, so a restart skips it again.
      if (i > 0) expect(follower.offset).toBe(7);
    }
    appendFileSync(path, '\nafter\n');
    const resumed = follow(path, follower.offset);
    await resumed.follower.poll();
    expect(texts(resumed.lines)).toEqual(['after']);
    await follower.poll();
    const start = 7 + huge.length + 1;
    expect(lines).toEqual([
      { line: 'before', offset: 0, next: 7 },
      { line: 'after', offset: start, next: start + 6 },
    ]);
  }, 15_000);

  // BUG (log-follower.ts): the comment says "a line longer than a chunk is ... dropped", but the
  // check runs on what is left after a read, so a line of 64 KiB..128 KiB that arrives with its
  // newline in the next read is emitted whole. Input: a file "a"*102400 + "\nafter\n", one poll.
  // Expected: only "after". Actual: the 100 KiB line, then "after". (Memory stays bounded.)
  it('drops a line of 100 KiB (longer than one 64 KiB chunk)', async () => {
    const path = newPath();
    writeFileSync(path, `${'a'.repeat(100 * 1024)}\nafter\n`);
    const { follower, lines } = follow(path);
    await follower.poll();
    expect(texts(lines)).toEqual(['after']);
  });

  // BUG (log-follower.ts readToEnd): truncation resets the position and the partial line but not
  // the "skipping an overlong line" flag. Input: a file holding 200 KiB without a newline, poll,
  // truncate, write "first\nsecond\n", poll. Expected: "first", "second". Actual: "second" only
  // (the first line after the truncation is silently lost).
  it('after a truncation in the middle of an overlong line, emits the first new line', async () => {
    const path = newPath();
    writeFileSync(path, 'b'.repeat(200 * 1024));
    const { follower, lines } = follow(path);
    await follower.poll();
    truncateSync(path, 0);
    appendFileSync(path, 'first\nsecond\n');
    await follower.poll();
    expect(texts(lines)).toEqual(['first', 'second']);
  });

  it('concurrent polls emit every line exactly once, in order', async () => {
    const path = newPath();
    const { follower, lines } = follow(path);
    const all = Array.from({ length: 3000 }, (_, i) => `line ${i} ${'p'.repeat(i % 97)}`);
    writeFileSync(path, all.slice(0, 1500).map((l) => `${l}\n`).join(''));
    const polls = Array.from({ length: 10 }, () => follower.poll());
    appendFileSync(path, all.slice(1500).map((l) => `${l}\n`).join(''));
    polls.push(...Array.from({ length: 10 }, () => follower.poll()));
    await Promise.all(polls);
    await Promise.all([follower.poll(), follower.poll()]);
    expect(texts(lines)).toEqual(all);
    for (let i = 1; i < lines.length; i++) expect(lines[i]?.offset).toBe(lines[i - 1]?.next);
  }, 15_000);
});

describe('LogFollower.start/stop', () => {
  it('picks up a file that does not exist yet, then follows appends without being polled', async () => {
    const path = newPath();
    const { follower, lines } = follow(path, 0, 20);
    follower.start();
    await new Promise((r) => setTimeout(r, 50));
    expect(lines).toEqual([]);
    writeFileSync(path, 'appeared\n');
    await vi.waitFor(() => expect(texts(lines)).toEqual(['appeared']), { timeout: 2000, interval: 10 });
    appendFileSync(path, 'more\n');
    await vi.waitFor(() => expect(texts(lines)).toEqual(['appeared', 'more']), { timeout: 2000, interval: 10 });
  });

  it('follows an existing file and stops emitting after stop()', async () => {
    const path = newPath();
    writeFileSync(path, 'one\n');
    const { follower, lines } = follow(path, 0, 20);
    follower.start();
    await vi.waitFor(() => expect(texts(lines)).toEqual(['one']), { timeout: 2000, interval: 10 });
    appendFileSync(path, 'two\n');
    await vi.waitFor(() => expect(texts(lines)).toEqual(['one', 'two']), { timeout: 2000, interval: 10 });
    follower.stop();
    await new Promise((r) => setTimeout(r, 30));
    appendFileSync(path, 'three\n');
    await new Promise((r) => setTimeout(r, 120));
    expect(texts(lines)).toEqual(['one', 'two']);
  });
});

describe('LogFollower: property', () => {
  const lineText = fc.string({ unit: 'grapheme', maxLength: 30 }).map((s) => s.replace(/[\n\r]/g, ''));
  const step = fc.record({ bytes: fc.integer({ min: 1, max: 40 }), poll: fc.boolean(), restart: fc.boolean() });

  it('random chunking, polling and restarts from the stored offset: every line exactly once, at its byte offset', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(lineText, { maxLength: 25 }), fc.array(step, { minLength: 1, maxLength: 20 }), async (all, steps) => {
        const path = newPath();
        const content = Buffer.from(all.map((l) => `${l}\n`).join(''));
        writeFileSync(path, '');
        const seen: LogLine[] = [];
        let stored = 0;
        const make = (): LogFollower => {
          const f = new LogFollower(path, (batch) => {
            seen.push(...batch);
            stored = batch[batch.length - 1]?.next ?? stored;
          }, stored);
          followers.push(f);
          return f;
        };
        let follower = make();
        let written = 0;
        for (let i = 0; written < content.length; i++) {
          const s = steps[i % steps.length] ?? { bytes: 1, poll: true, restart: false };
          appendFileSync(path, content.subarray(written, written + s.bytes));
          written = Math.min(content.length, written + s.bytes);
          if (s.poll) await follower.poll();
          // A restart forgets everything but the offset the consumer stored.
          if (s.restart) follower = make();
        }
        await follower.poll();
        await make().poll();

        let offset = 0;
        const expected = all.map((line) => {
          const next = offset + Buffer.byteLength(line) + 1;
          const l = { line, offset, next };
          offset = next;
          return l;
        });
        expect(seen).toEqual(expected);
      }),
      { numRuns: 150 },
    );
  }, 30_000);
});
