import { appendFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ProxyEvent } from './proxy-event.js';
import { createProxyEventStreams, ProxyEventStream, readOnce, type ProxyEventSource, type ProxyEventStreams, type ProxyEventSubscription } from './proxy-event-stream.js';

let dir: string;
let fileNo = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'paude-event-stream-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const SESSION = 'paude-abc123';
const newSource = (): ProxyEventSource => ({ session: SESSION, accessLog: join(dir, `access-${++fileNo}.log`) });

let clock = 1732683600;
const allowed = (host: string): string => `${++clock}.000 127.0.0.1 GET ${host} 80 200 615 TCP_MISS allow ${host} 12\n`;
const refused = (host: string): string => `${++clock}.000 127.0.0.1 GET ${host} 80 403 3950 TCP_DENIED deny not-allowed 0\n`;
/** The agent's readiness probe: a request to the proxy itself, no host, refused by squid. */
const probe = (): string => `${++clock}.000 127.0.0.1 GET - - 403 3900 TCP_DENIED - - 0\n`;

/** A subscriber that records what it was handed, batch by batch. */
function recorder(): { listener: (events: readonly ProxyEvent[]) => void; events: ProxyEvent[]; hosts: () => string[] } {
  const events: ProxyEvent[] = [];
  return { listener: (batch) => events.push(...batch), events, hosts: () => events.map((e) => e.host) };
}

describe('proxy-event stream: fan-out', () => {
  it('hands each event once to each of two subscribers, from one read of the log', async () => {
    const src = newSource();
    writeFileSync(src.accessLog, allowed('a.test') + refused('b.test'));
    const streams = createProxyEventStreams();
    const [one, two] = [recorder(), recorder()];
    const s1 = streams.subscribe(src, one.listener, { follow: false });
    const s2 = streams.subscribe(src, two.listener, { follow: false });
    await s1.poll();
    await s2.poll();
    appendFileSync(src.accessLog, allowed('c.test'));
    await s2.poll();
    await s1.poll();
    expect(one.hosts()).toEqual(['a.test', 'b.test', 'c.test']);
    expect(two.hosts()).toEqual(['a.test', 'b.test', 'c.test']);
    // One stream for the log, the same events (not copies made by two parsers).
    expect(streams.open()).toEqual([src.accessLog]);
    expect(one.events.every((e, i) => e === two.events[i])).toBe(true);
    s1.unsubscribe();
    s2.unsubscribe();
  });

  it('a following subscriber is delivered to without polling', async () => {
    const src = newSource();
    const streams = createProxyEventStreams({ pollMs: 20 });
    const got = recorder();
    const sub = streams.subscribe(src, got.listener);
    writeFileSync(src.accessLog, allowed('a.test'));
    await vi.waitFor(() => expect(got.hosts()).toEqual(['a.test']), { timeout: 5000, interval: 10 });
    appendFileSync(src.accessLog, refused('b.test'));
    await vi.waitFor(() => expect(got.hosts()).toEqual(['a.test', 'b.test']), { timeout: 5000, interval: 10 });
    sub.unsubscribe();
  });
});

describe('proxy-event stream: the blocked count', () => {
  it('counts the refused requests it delivers: the readiness probe is neither delivered nor counted', async () => {
    const src = newSource();
    writeFileSync(src.accessLog, probe() + allowed('a.test') + refused('b.test') + probe() + refused('c.test') + 'not a line of ours\n');
    const streams = createProxyEventStreams();
    const got = recorder();
    const sub = streams.subscribe(src, got.listener, { follow: false });
    await sub.poll();
    expect(got.hosts()).toEqual(['a.test', 'b.test', 'c.test']);
    expect(sub.blocked).toBe(2);
    expect(sub.blocked).toBe(got.events.filter((e) => e.decision === 'deny').length);
    appendFileSync(src.accessLog, refused('d.test'));
    await sub.poll();
    expect(sub.blocked).toBe(3);
    sub.unsubscribe();
  });
});

describe('proxy-event stream: lifetime', () => {
  it('the first subscriber opens the stream; the last to leave stops its watcher and timer and it is forgotten', async () => {
    const src = newSource();
    writeFileSync(src.accessLog, refused('a.test'));
    const streams = createProxyEventStreams();
    expect(streams.open()).toEqual([]);
    const live = streams.subscribe(src, recorder().listener);
    const counting = streams.subscribe(src, undefined, { follow: false });
    const stream = streams.stream(src.accessLog);
    expect(stream?.following).toBe(true);
    expect(stream?.subscriberCount).toBe(2);
    await counting.poll();
    // The following one leaves: nothing is watched any more, the count goes on for the other.
    live.unsubscribe();
    expect(stream?.following).toBe(false);
    expect(streams.open()).toEqual([src.accessLog]);
    expect(counting.blocked).toBe(1);
    counting.unsubscribe();
    expect(streams.open()).toEqual([]);
    expect(streams.stream(src.accessLog)).toBeUndefined();
    expect(stream?.subscriberCount).toBe(0);
    // Leaving twice changes nothing; a new subscriber gets a new stream, read from the start.
    counting.unsubscribe();
    const again = streams.subscribe(src, undefined, { follow: false });
    expect(streams.stream(src.accessLog)).not.toBe(stream);
    await again.poll();
    expect(again.blocked).toBe(1);
    again.unsubscribe();
    expect(streams.open()).toEqual([]);
  });

  it('a one-shot read subscribes, reads to the end once and leaves nothing open', async () => {
    const src = newSource();
    writeFileSync(src.accessLog, allowed('a.test') + refused('b.test'));
    const streams = createProxyEventStreams();
    const events = await readOnce((listener, options) => streams.subscribe(src, listener, options));
    expect(events.map((e) => e.host)).toEqual(['a.test', 'b.test']);
    expect(streams.open()).toEqual([]);
  });

  it('two registries are independent: each has its own streams and counts', async () => {
    const src = newSource();
    writeFileSync(src.accessLog, refused('a.test'));
    const first: ProxyEventStreams = createProxyEventStreams();
    const second: ProxyEventStreams = createProxyEventStreams();
    const a = first.subscribe(src, undefined, { follow: false });
    await a.poll();
    expect(first.open()).toEqual([src.accessLog]);
    expect(second.open()).toEqual([]);
    appendFileSync(src.accessLog, refused('b.test'));
    const b = second.subscribe(src, undefined, { follow: false });
    await b.poll();
    expect(b.blocked).toBe(2);
    expect(a.blocked).toBe(1);
    b.unsubscribe();
    expect(first.open()).toEqual([src.accessLog]);
    a.unsubscribe();
    expect(first.open()).toEqual([]);
  });
});

describe('proxy-event stream: joining late', () => {
  it('without the history, a late subscriber gets the events from where it joined', async () => {
    const src = newSource();
    writeFileSync(src.accessLog, refused('a.test') + allowed('b.test'));
    const streams = createProxyEventStreams();
    const early = streams.subscribe(src, undefined, { follow: false });
    await early.poll();
    const late = recorder();
    const sub = streams.subscribe(src, late.listener, { follow: false });
    appendFileSync(src.accessLog, refused('c.test'));
    await sub.poll();
    expect(late.hosts()).toEqual(['c.test']);
    // The count is the stream's, from the start of the log.
    expect(sub.blocked).toBe(2);
    early.unsubscribe();
    sub.unsubscribe();
  });

  it('with the history, it gets what the stream read before it joined first, then the rest, each once and in order', async () => {
    const src = newSource();
    writeFileSync(src.accessLog, refused('a.test') + probe() + allowed('b.test'));
    const streams = createProxyEventStreams();
    const early = recorder();
    const first = streams.subscribe(src, early.listener, { follow: false });
    await first.poll();
    appendFileSync(src.accessLog, refused('c.test'));
    // Joins while lines it has not seen are waiting to be read: they come once, after the history.
    const late = recorder();
    const sub = streams.subscribe(src, late.listener, { follow: false, history: true });
    const reading = first.poll();
    appendFileSync(src.accessLog, allowed('d.test'));
    await reading;
    await sub.poll();
    expect(late.hosts()).toEqual(['a.test', 'b.test', 'c.test', 'd.test']);
    expect(late.hosts()).toEqual(early.hosts());
    expect(late.events.map((e) => e.offset)).toEqual(early.events.map((e) => e.offset));
    expect(late.events.filter((e) => e.decision === 'deny')).toHaveLength(sub.blocked);
    first.unsubscribe();
    sub.unsubscribe();
  });

  it('a subscriber that leaves while its history is read gets nothing', async () => {
    const src = newSource();
    writeFileSync(src.accessLog, refused('a.test'));
    const streams = createProxyEventStreams();
    const first = streams.subscribe(src, undefined, { follow: false });
    await first.poll();
    const late = recorder();
    const sub: ProxyEventSubscription = streams.subscribe(src, late.listener, { follow: false, history: true });
    sub.unsubscribe();
    await first.poll();
    expect(late.events).toEqual([]);
    first.unsubscribe();
  });
});

describe('proxy-event stream: from an offset (the audit back-fill)', () => {
  it('a stream of its own started at a line boundary reads from there, through the same parse', async () => {
    const src = newSource();
    const head = refused('a.test') + allowed('b.test');
    writeFileSync(src.accessLog, head + probe() + refused('c.test'));
    const events = await readOnce((listener, options) => new ProxyEventStream(src, { from: Buffer.byteLength(head) }).subscribe(listener, options));
    expect(events.map((e) => [e.host, e.decision])).toEqual([['c.test', 'deny']]);
    expect(events[0]?.offset).toBeGreaterThan(Buffer.byteLength(head));
  });
});
