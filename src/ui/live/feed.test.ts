import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createProxyEventStreams, type ProxyEventSubscription } from '../../policy/proxy-event-stream.js';
import { ProxyStateDir } from '../../policy/proxy-state.js';
import type { FeedEvent } from '../services.js';
import { liveFeed } from './feed.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'paude-ui-feed-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const SESSION = 'paude-feed01';
let clock = 1732683600;
const refused = (host: string): string => `${++clock}.000 127.0.0.1 GET ${host} 80 403 3950 TCP_DENIED deny not-allowed 0\n`;

describe('the live feed', () => {
  it('follows again after a pause (an attach) without showing twice what it had shown', async () => {
    const state = new ProxyStateDir(join(dir, 'proxy'));
    mkdirSync(join(state.root, 'log'), { recursive: true });
    writeFileSync(state.accessLog, refused('a.test') + refused('b.test'));
    const streams = createProxyEventStreams({ pollMs: 20 });
    // The session service's BLOCKED count keeps the log's stream open while the feed is stopped.
    const counting: ProxyEventSubscription = streams.subscribe({ session: SESSION, accessLog: state.accessLog }, undefined, { follow: false });
    await counting.poll();
    const feed = liveFeed({ streams, stateOf: () => state });
    const seen: FeedEvent[] = [];
    const hosts = (): string[] => seen.map((e) => e.host);

    const unfollow = feed.followEvents(() => [SESSION], (events) => seen.push(...events));
    await vi.waitFor(() => expect(hosts()).toEqual(['a.test', 'b.test']));
    unfollow();
    appendFileSync(state.accessLog, refused('c.test'));
    await counting.poll();

    const again = feed.followEvents(() => [SESSION], (events) => seen.push(...events));
    await vi.waitFor(() => expect(hosts()).toContain('c.test'));
    appendFileSync(state.accessLog, refused('d.test'));
    await vi.waitFor(() => expect(hosts()).toContain('d.test'));
    again();
    counting.unsubscribe();
    expect(hosts()).toEqual(['a.test', 'b.test', 'c.test', 'd.test']);
  });
});
