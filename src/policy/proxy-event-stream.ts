/**
 * One stream of proxy events per session: its access log followed once (LogFollower), each line
 * parsed once (parseAccessLine), the agent's requests (isAgentRequest) handed out in batches to
 * every subscriber, and the derived count of blocked requests (isBlocked) kept as they pass.
 * Every reader of a session's requests goes through here: the BLOCKED column of `paude sessions`
 * and the dashboard, the dashboard's feed, `paude blocked` and the audit log's back-fill.
 *
 * Lifetime: a registry (createProxyEventStreams; one per SessionService, dashboard or test, no
 * module state) opens a log's stream for its first subscriber and stops and forgets it when the
 * last one leaves. A subscriber that follows (the default) makes the stream watch the log and
 * deliver by itself; one that does not (a count, a one-shot read) gets events when anyone polls.
 * A one-shot reader subscribes, polls to the end once and unsubscribes (readOnce).
 *
 * Joining late: a subscriber gets the events read after it joined, no replay, unless it asks for
 * the history. Then the part of the log the stream had already read is read once more for it
 * alone (the same follower class and parse, bounded at the line where it joined), and its live
 * events follow: each event once, in order. The stream keeps no backlog, so its memory does not
 * grow with the log. The dashboard's feed asks for the history: its first listing counts a
 * session's blocked requests before the feed knows which sessions it follows.
 *
 * Starting elsewhere: the audit log back-fills from the offset it stored, through a stream of its
 * own started there (`new ProxyEventStream(source, { from })` with readOnce), not a shared one: a
 * shared stream starts at 0 and keeps no backlog, so the audit's range is a read of its own, by
 * the same follower class, parse and filter.
 */
import { LogFollower, type LogLine } from './log-follower.js';
import { isAgentRequest, isBlocked, parseAccessLine, type ProxyEvent } from './proxy-event.js';

/** A session's access log. */
export interface ProxyEventSource {
  session: string;
  accessLog: string;
}

export type ProxyEventListener = (events: readonly ProxyEvent[]) => void;

export interface SubscribeOptions {
  /** Watch the log and deliver without being polled (default true). */
  follow?: boolean;
  /** First the events the stream read before this subscriber joined (default false). */
  history?: boolean;
}

export interface ProxyEventSubscription {
  /** Reads what the log holds now; resolves when this subscriber has had it (history first). */
  poll(): Promise<void>;
  /** The agent's requests the proxy refused, from where the stream started. */
  readonly blocked: number;
  unsubscribe(): void;
}

interface Subscriber {
  listener: ProxyEventListener | undefined;
  follow: boolean;
  /** Batches that arrived while its history was being read: delivered after it. */
  queue: (readonly ProxyEvent[])[] | undefined;
  ready: Promise<void>;
  gone: boolean;
}

/** The agent's requests among the lines, parsed: the one parse path of every reader. */
function agentEvents(lines: readonly LogLine[], session: string): ProxyEvent[] {
  const events: ProxyEvent[] = [];
  for (const l of lines) {
    const e = parseAccessLine(l.line, session, l.offset);
    if (e && isAgentRequest(e)) events.push(e);
  }
  return events;
}

export class ProxyEventStream {
  private readonly follower: LogFollower;
  private readonly subscribers = new Set<Subscriber>();
  private count = 0;
  /** Where the stream started reading (a line boundary). */
  readonly from: number;

  constructor(
    readonly source: ProxyEventSource,
    private readonly options: { from?: number; pollMs?: number; onIdle?: () => void } = {},
  ) {
    this.from = options.from ?? 0;
    this.follower = new LogFollower(source.accessLog, (lines) => this.deliver(agentEvents(lines, source.session)), this.from, options.pollMs);
  }

  /** The agent's requests the proxy refused, among those read so far. */
  get blocked(): number {
    return this.count;
  }

  /** Whether a watcher or timer is open (while a following subscriber is there). */
  get following(): boolean {
    return this.follower.following;
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /** Where the next line to read starts. */
  get offset(): number {
    return this.follower.offset;
  }

  subscribe(listener?: ProxyEventListener, options: SubscribeOptions = {}): ProxyEventSubscription {
    const sub: Subscriber = { listener, follow: options.follow ?? true, queue: undefined, ready: Promise.resolve(), gone: false };
    // Every line before this offset was delivered already; every later one will be, to sub too.
    const joinedAt = this.follower.offset;
    if (options.history && listener && joinedAt > this.from) {
      sub.queue = [];
      sub.ready = this.history(sub, joinedAt);
    }
    this.subscribers.add(sub);
    if (sub.follow) this.follower.start();
    const counted = (): number => this.count;
    return {
      poll: async () => {
        await sub.ready;
        await this.follower.poll();
      },
      get blocked() {
        return counted();
      },
      unsubscribe: () => this.leave(sub),
    };
  }

  private leave(sub: Subscriber): void {
    if (sub.gone) return;
    sub.gone = true;
    this.subscribers.delete(sub);
    if (![...this.subscribers].some((s) => s.follow)) this.follower.stop();
    if (this.subscribers.size === 0) this.options.onIdle?.();
  }

  private deliver(events: readonly ProxyEvent[]): void {
    if (events.length === 0) return;
    for (const e of events) if (isBlocked(e)) this.count++;
    for (const s of this.subscribers) {
      if (s.queue) s.queue.push(events);
      else s.listener?.(events);
    }
  }

  /** Reads [from, until) again for one late subscriber, then hands it what queued meanwhile. */
  private async history(sub: Subscriber, until: number): Promise<void> {
    const earlier: ProxyEvent[] = [];
    const reader = new LogFollower(this.source.accessLog, (lines) => earlier.push(...agentEvents(lines, this.source.session)), this.from, undefined, until);
    // A log that cannot be read now has no history to give: the live events still come.
    await reader.poll().catch(() => undefined);
    const queued = sub.queue ?? [];
    sub.queue = undefined;
    if (sub.gone) return;
    if (earlier.length > 0) sub.listener?.(earlier);
    for (const batch of queued) sub.listener?.(batch);
  }
}

/** The streams of one owner (a SessionService, a dashboard, a test): each log's stream shared. */
export interface ProxyEventStreams {
  subscribe(source: ProxyEventSource, listener?: ProxyEventListener, options?: SubscribeOptions): ProxyEventSubscription;
  /** The logs with a stream open now. */
  open(): string[];
  /** The open stream of a log, if there is one (to look at its state). */
  stream(accessLog: string): ProxyEventStream | undefined;
}

export function createProxyEventStreams(options: { pollMs?: number } = {}): ProxyEventStreams {
  const streams = new Map<string, ProxyEventStream>();
  return {
    subscribe(source, listener, subscribeOptions) {
      let stream = streams.get(source.accessLog);
      if (!stream) {
        const created: ProxyEventStream = new ProxyEventStream(source, {
          ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
          onIdle: () => {
            if (streams.get(source.accessLog) === created) streams.delete(source.accessLog);
          },
        });
        streams.set(source.accessLog, created);
        stream = created;
      }
      return stream.subscribe(listener, subscribeOptions);
    },
    open: () => [...streams.keys()],
    stream: (accessLog) => streams.get(accessLog),
  };
}

/** A one-shot read: subscribe (not following), read to the end once, unsubscribe. */
export async function readOnce(subscribe: (listener: ProxyEventListener, options: SubscribeOptions) => ProxyEventSubscription): Promise<ProxyEvent[]> {
  const events: ProxyEvent[] = [];
  const sub = subscribe(
    (batch) => {
      for (const e of batch) events.push(e);
    },
    { follow: false },
  );
  try {
    await sub.poll();
  } finally {
    sub.unsubscribe();
  }
  return events;
}
