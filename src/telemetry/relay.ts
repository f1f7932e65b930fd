/**
 * The session's OTLP relay: an HTTP server on a unix socket in the session's proxy state
 * directory. The agent's exporter reaches it as http://127.0.0.1:4318 (a forwarder in the agent,
 * the session link, a forwarder in the proxy: no network, no policy question). It counts tokens
 * and cost (telemetry.json in the session directory, for `paude sessions` and the dashboard)
 * and forwards every export unchanged to the user's collector (telemetry.otel.endpoint),
 * over OTLP/HTTP or gRPC, keeping what it could not deliver and trying again. What the agent
 * sends is untrusted: bodies are limited in size (also after gzip), and only decoded as OTLP
 * JSON or protobuf.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { http } from '../node-http.js';
import { chmod, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { z } from 'zod';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { grpcSender, httpSender, type Export, type OtlpProtocol, type OtlpSignal, type Sender } from './forward.js';
import { EMPTY_TOTALS, TokenCounter, type TokenTotals } from './otlp-metrics.js';
import { decodeMetricsRequest } from './otlp-proto.js';

export const RELAY_SOCKET = 'otel.sock';
export const AGENT_OTLP_PORT = 4318;
const MAX_BODY = 4 * 1024 * 1024;
const MAX_QUEUE = 200;
const FIRST_BACKOFF = 1000;
const MAX_BACKOFF = 30_000;

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
  /** The user's collector (telemetry.otel.endpoint): OTLP/HTTP to <endpoint>/v1/<signal>, or gRPC. */
  forwardTo?: string;
  /** How the collector is spoken to (default http/protobuf: the body goes as the agent sent it). */
  protocol?: OtlpProtocol;
  /** Headers for the collector (OTEL_EXPORTER_OTLP_HEADERS): they stay on this host. */
  headers?: Record<string, string>;
  /** For tests: how to send to the collector. */
  send?: Sender;
  /**
   * Where exports the collector had not taken when the relay stopped are kept (one file per
   * stop); the next relay forwarding to the same collector sends them first.
   */
  spoolDir?: string;
}

const Spooled = z.strictObject({
  version: z.literal(1),
  endpoint: z.string(),
  protocol: z.enum(['http/json', 'http/protobuf', 'grpc']),
  exports: z.array(z.strictObject({ signal: z.enum(['metrics', 'logs', 'traces']), contentType: z.string(), encoding: z.string().optional(), body: z.base64(), raw: z.base64().optional() })).max(MAX_QUEUE),
});

const gunzipAsync = promisify(gunzip);
const isProtobuf = (contentType: string): boolean => /^application\/(x-)?protobuf/.test(contentType);

export class OtlpRelay {
  private server: Server | undefined;
  private counter = new TokenCounter();
  private queue: Export[] = [];
  private readonly sender: (Sender & { close?(): void }) | undefined;
  private retry: NodeJS.Timeout | undefined;
  private stopped = false;
  private backoff = FIRST_BACKOFF;
  private saving: Promise<void> = Promise.resolve();

  constructor(
    private readonly stateDir: string,
    private readonly sessionDir: string,
    private readonly options: RelayOptions = {},
  ) {
    const headers = options.headers ?? {};
    this.sender = options.send ?? (options.forwardTo ? (options.protocol === 'grpc' ? grpcSender(options.forwardTo, headers) : httpSender(options.forwardTo, headers)) : undefined);
  }

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
    await this.unspool();
    await rm(this.socket, { force: true });
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      this.server?.once('error', reject);
      this.server?.listen(this.socket, resolve);
    });
    // The proxy's forwarder runs as squid's user.
    await chmod(this.socket, 0o666);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
    await this.saving;
    await this.flush();
    this.sender?.close?.();
    await this.spool();
  }

  private spoolKey(): { endpoint: string; protocol: OtlpProtocol } | undefined {
    return this.options.forwardTo && this.options.spoolDir ? { endpoint: this.options.forwardTo, protocol: this.options.protocol ?? 'http/protobuf' } : undefined;
  }

  /** Keeps what is still queued for the next relay (a session ends while its collector is down). */
  private async spool(): Promise<void> {
    const key = this.spoolKey();
    if (!key || !this.options.spoolDir || !this.queue.length) return;
    const exports = this.queue.map((e) => ({ signal: e.signal, contentType: e.contentType, ...(e.encoding ? { encoding: e.encoding, raw: e.raw.toString('base64') } : {}), body: e.body.toString('base64') }));
    await mkdir(this.options.spoolDir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(join(this.options.spoolDir, `${Date.now()}-${process.pid}.json`), JSON.stringify({ version: 1, ...key, exports }) + '\n').catch(() => undefined);
    this.queue = [];
  }

  /** Takes up what earlier relays kept for the same collector, oldest first; unreadable files are left alone. */
  private async unspool(): Promise<void> {
    const key = this.spoolKey();
    if (!key || !this.options.spoolDir) return;
    const names = (await readdir(this.options.spoolDir).catch(() => [] as string[])).filter((n) => /^\d+-\d+\.json$/.test(n)).sort((a, b) => parseInt(a, 10) - parseInt(b, 10));
    for (const name of names) {
      const file = join(this.options.spoolDir, name);
      try {
        const saved = Spooled.safeParse(JSON.parse(await readFile(file, 'utf8')));
        if (!saved.success || saved.data.endpoint !== key.endpoint || saved.data.protocol !== key.protocol) continue;
        await rm(file);
        for (const e of saved.data.exports) this.queue.push({ signal: e.signal, contentType: e.contentType, ...(e.encoding ? { encoding: e.encoding } : {}), body: Buffer.from(e.body, 'base64'), raw: Buffer.from(e.raw ?? e.body, 'base64') });
      } catch {
        // another relay took it first, or it is not ours to read
      }
    }
    while (this.queue.length > MAX_QUEUE) this.queue.shift();
    if (this.queue.length) void this.flush();
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
    // Media types and content codings are case-insensitive (RFC 9110): GZIP is gzip. What is
    // forwarded keeps the sender's spelling.
    const contentType = req.headers['content-type'] ?? 'application/json';
    const type = contentType.toLowerCase();
    const encoding = req.headers['content-encoding']?.trim().toLowerCase();
    let raw = body;
    if (encoding === 'gzip') {
      try {
        raw = await gunzipAsync(body, { maxOutputLength: MAX_BODY });
      } catch {
        res.writeHead(400).end();
        return;
      }
    } else if (encoding && encoding !== 'identity') {
      res.writeHead(415).end();
      return;
    }
    if (signal === 'metrics') await this.count(raw, type);
    if (this.sender) {
      this.queue.push({ signal: signal as OtlpSignal, body, raw, contentType, ...(encoding && encoding !== 'identity' ? { encoding } : {}) });
      if (this.queue.length > MAX_QUEUE) this.queue.shift();
      void this.flush();
    }
    res.writeHead(200, { 'content-type': type.startsWith('application/json') ? 'application/json' : 'application/x-protobuf' }).end(type.startsWith('application/json') ? '{}' : '');
  }

  /** Adds an export to the totals; what cannot be decoded is forwarded as it came, not counted. */
  private async count(raw: Buffer, contentType: string): Promise<void> {
    let payload: unknown;
    if (contentType.startsWith('application/json')) {
      try {
        payload = JSON.parse(raw.toString('utf8'));
      } catch {
        return;
      }
    } else if (isProtobuf(contentType)) payload = await decodeMetricsRequest(raw);
    if (payload !== undefined && this.counter.add(payload)) this.save();
  }

  private save(): void {
    const data = { version: 1 as const, totals: this.counter.totals(), series: this.counter.toJSON(), updatedAt: new Date().toISOString() };
    this.saving = this.saving.then(() => writeFileAtomic(telemetryFile(this.sessionDir), JSON.stringify(data) + '\n')).catch(() => undefined);
  }

  private flushing: Promise<void> | undefined;

  /** Sends what is queued, in order, one send at a time; on a failure that may pass keeps the rest and tries again later. */
  private flush(): Promise<void> {
    this.flushing ??= this.drain().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async drain(): Promise<void> {
    while (this.sender && this.queue.length) {
      const next = this.queue[0];
      if (!next) break;
      const outcome = await this.sender(next);
      if (outcome === 'retry') {
        if (!this.stopped) {
          this.retry ??= setTimeout(() => {
            this.retry = undefined;
            void this.flush();
          }, this.backoff);
          this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF);
        }
        return;
      }
      // Delivered, or refused for good (a malformed export would otherwise block the rest).
      this.queue.shift();
      this.backoff = FIRST_BACKOFF;
    }
  }
}

export { EMPTY_TOTALS };
