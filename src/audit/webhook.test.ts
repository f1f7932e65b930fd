import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SpoolSink, webhookSender } from './webhook.js';

describe('WebhookSink', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  it('delivers every event once and in order, after an outage, and a new process carries on where the last stopped', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'paude-webhook-'));
    dirs.push(dir);
    const ev = (n: number): string => JSON.stringify({ id: `e${n}` });
    await writeFile(join(dir, 'paude-aaa111.jsonl'), `${ev(1)}\n${ev(2)}\n`);
    await writeFile(join(dir, 'paude-aaa111.1.jsonl'), `${ev(0)}\n`); // rotated: not sent
    const received: string[] = [];
    let up = false;
    const post = (_url: string, body: string): Promise<number> => {
      if (!up) return Promise.resolve(503);
      received.push(...(JSON.parse(body) as Array<{ id: string }>).map((e) => e.id));
      return Promise.resolve(204);
    };
    const sink = new SpoolSink(dir, 'http://hook.test/audit', webhookSender({ url: 'http://hook.test/audit', post }));
    expect(await sink.deliver()).toBe(false);
    expect(received).toEqual([]);
    await appendFile(join(dir, 'paude-aaa111.jsonl'), `${ev(3)}\n`);
    up = true;
    const again = new SpoolSink(dir, 'http://hook.test/audit', webhookSender({ url: 'http://hook.test/audit', post }));
    expect(await again.deliver()).toBe(true);
    expect(await again.deliver()).toBe(true);
    expect(received).toEqual(['e1', 'e2', 'e3']);
    // A half-written last line waits for its end.
    await appendFile(join(dir, 'paude-aaa111.jsonl'), '{"id":"e4"');
    expect(await again.deliver()).toBe(true);
    expect(received).toEqual(['e1', 'e2', 'e3']);
    await appendFile(join(dir, 'paude-aaa111.jsonl'), '}\n');
    await again.deliver();
    expect(received).toEqual(['e1', 'e2', 'e3', 'e4']);
  });
});
