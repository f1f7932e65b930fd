/**
 * The session's OTLP relay: an HTTP server on a unix socket in the session's proxy state
 * directory. The agent's exporter reaches it as http://127.0.0.1:4318 (a forwarder in the agent,
 * the session link, a forwarder in the proxy: no network, no policy question). It counts tokens
 * and cost (telemetry.json in the session directory, for `paude sessions` and the dashboard)
 * and forwards every export unchanged to the user's collector (telemetry.otel.endpoint),
 * keeping what it could not deliver and trying again. What the agent sends is untrusted: bodies
 * are limited in size and only parsed as JSON.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { chmod, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { EMPTY_TOTALS, TokenCounter, type TokenTotals } from './otlp-metrics.js';

export const RELAY_SOCKET = 'otel.sock';
export const AGENT_OTLP_PORT = 4318;
const MAX_BODY = 4 * 1024 * 1024;
const MAX_QUEUE = 200;

const Saved = z.strictObject({
  version: z.literal(1),
  totals: z.strictObject({ input: z.number(), output: z.number(), cacheRead: z.number(), cacheCreation: z.number(), costUsd: z.number() }),
  series: z.array(z.tuple([z.string(), z.enum(['input', 'output', 'cacheRead', 'cacheCreation', 'costUsd']), z.number()])),
  updatedAt: z.string(),
});

export const telemetryFile = (sessionDir: string): string => join(sessionDir, 'telemetry.json');

/** A session's token and cost totals so far; undefined when none have arrived (or the file is unreadable). */
export async function readTokenTotals(sessionDir: string): Promise<TokenTotals | undefined> {
  try {
    const parsed = Saved.safeParse(JSON.parse(await readFile(telemetryFile(sessionDir), 'utf8')));
    return parsed.success ? parsed.data.totals : undefined;
  } catch {
    return undefined;
  }
}

export interface RelayOptions {
  /** The user's collector base URL (telemetry.otel.endpoint): exports are forwarded to <endpoint>/v1/<signal>. */
  forwardTo?: string;
  /** Headers for the collector (OTEL_EXPORTER_OTLP_HEADERS): they stay on this host. */
  headers?: Record<string, string>;
  /** For tests: how to send to the collector. */
  post?: (url: string, body: Buffer, contentType: string) => Promise<number>;
}

export class OtlpRelay {
  private server: Server | undefined;
  private counter = new TokenCounter();
  private queue: Array<{ url: string; body: Buffer; contentType: string }> = [];
  private retry: NodeJS.Timeout | undefined;
  private saving: Promise<void> = Promise.resolve();

  constructor(
    private readonly stateDir: string,
    private readonly sessionDir: string,
    private readonly options: RelayOptions = {},
  ) {}

  get socket(): string {
    return join(this.stateDir, RELAY_SOCKET);
  }

  async start(): Promise<void> {
    // Totals survive the hand-over from the foreground paude to the keeper.
    try {
      const saved = Saved.safeParse(JSON.parse(await readFile(telemetryFile(this.sessionDir), 'utf8')));
      if (saved.success) this.counter = TokenCounter.from(saved.data.series);
    } catch {
      // none yet
    }
    await rm(this.socket, { force: true });
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      this.server?.once('error', reject);
      this.server?.listen(this.socket, resolve);
    });
    // The proxy's forwarder runs as squid's user.
    await chmod(this.socket, 0o666);
  }

  async stop(): Promise<void> {
    if (this.retry) clearTimeout(this.retry);
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
    await this.saving;
    await this.flush();
  }

  totals(): TokenTotals {
    return this.counter.totals();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const signal = /^\/v1\/(metrics|logs|traces)$/.exec(req.url ?? '')?.[1];
    if (req.method !== 'POST' || !signal) {
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY) {
        res.writeHead(413).end();
        req.destroy();
        return;
      }
      chunks.push(chunk as Buffer);
    }
    const body = Buffer.concat(chunks);
    const contentType = req.headers['content-type'] ?? 'application/json';
    if (signal === 'metrics' && contentType.startsWith('application/json')) {
      try {
        if (this.counter.add(JSON.parse(body.toString('utf8')))) this.save();
      } catch {
        // not JSON: forwarded as it came, not counted
      }
    }
    if (this.options.forwardTo) {
      this.queue.push({ url: `${this.options.forwardTo.replace(/\/+$/, '')}/v1/${signal}`, body, contentType });
      if (this.queue.length > MAX_QUEUE) this.queue.shift();
      void this.flush();
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  }

  private save(): void {
    const data = { version: 1 as const, totals: this.counter.totals(), series: this.counter.toJSON(), updatedAt: new Date().toISOString() };
    this.saving = this.saving.then(() => writeFileAtomic(telemetryFile(this.sessionDir), JSON.stringify(data) + '\n')).catch(() => undefined);
  }

  /** Sends what is queued, in order; on a failure keeps the rest and tries again later. */
  private async flush(): Promise<void> {
    const headers = this.options.headers ?? {};
    const post = this.options.post ?? ((url: string, body: Buffer, contentType: string) => defaultPost(url, body, contentType, headers));
    while (this.queue.length) {
      const next = this.queue[0];
      if (!next) break;
      const status = await post(next.url, next.body, next.contentType).catch(() => 0);
      if (status < 200 || status >= 300) {
        this.retry ??= setTimeout(() => {
          this.retry = undefined;
          void this.flush();
        }, 5000);
        return;
      }
      this.queue.shift();
    }
  }
}

async function defaultPost(url: string, body: Buffer, contentType: string, headers: Record<string, string>): Promise<number> {
  const res = await fetch(url, { method: 'POST', body, headers: { ...headers, 'content-type': contentType }, signal: AbortSignal.timeout(10_000) });
  return res.status;
}

export { EMPTY_TOTALS };
