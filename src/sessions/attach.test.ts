import { describe, expect, it } from 'vitest';
import { FarewellFilter } from './attach.js';

async function filtered(chunks: string[]): Promise<string> {
  const f = new FarewellFilter();
  const out: Buffer[] = [];
  f.on('data', (c: Buffer) => out.push(c));
  const done = new Promise((r) => f.once('end', r));
  for (const c of chunks) f.write(Buffer.from(c, 'latin1'));
  f.end();
  await done;
  return Buffer.concat(out).toString('latin1');
}

describe('FarewellFilter', () => {
  it("drops tmux's farewell line at the very end of the output", async () => {
    expect(await filtered(['screen\x1b[?25h', '[detached (from session paude)]\r\n'])).toBe('screen\x1b[?25h');
    expect(await filtered(['last line\r\n[exited]\r\n'])).toBe('last line\r\n');
  });

  it('keeps the same text when more output follows it', async () => {
    expect(await filtered(['echo [exited]\r\n', 'more'])).toBe('echo [exited]\r\nmore');
  });

  it('passes everything else through unchanged, bytes intact', async () => {
    const bytes = '\xff\xfe\x1b[31mred\x1b[0m ünïcode';
    expect(await filtered([bytes, 'x'])).toBe(`${bytes}x`);
  });
});
