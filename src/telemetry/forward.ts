/**
 * Sending one OTLP export to the user's collector, over OTLP/HTTP or OTLP/gRPC, and saying
 * whether it may be tried again. The body goes as the agent sent it (HTTP) or as the protobuf
 * message it carries (gRPC, a unary Export call with the bytes as they are). @grpc/grpc-js is
 * loaded only when a collector speaks gRPC.
 */
import type * as Grpc from '@grpc/grpc-js';

export type OtlpProtocol = 'http/json' | 'http/protobuf' | 'grpc';
export type OtlpSignal = 'metrics' | 'logs' | 'traces';

export interface Export {
  signal: OtlpSignal;
  /** As received (possibly gzip-encoded, see encoding). */
  body: Buffer;
  /** The decoded protobuf or JSON bytes. */
  raw: Buffer;
  contentType: string;
  encoding?: string;
}

/** delivered; or refused for good (OTLP says not to retry); or worth another try later. */
export type Outcome = 'delivered' | 'refused' | 'retry';

export type Sender = (e: Export) => Promise<Outcome>;

const RETRYABLE_HTTP = new Set([408, 429, 502, 503, 504]);

export function httpSender(endpoint: string, headers: Record<string, string>): Sender {
  const base = endpoint.replace(/\/+$/, '');
  return async (e) => {
    try {
      const res = await fetch(`${base}/v1/${e.signal}`, {
        method: 'POST',
        body: e.body,
        headers: { ...headers, 'content-type': e.contentType, ...(e.encoding ? { 'content-encoding': e.encoding } : {}) },
        signal: AbortSignal.timeout(10_000),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return 'delivered';
      return RETRYABLE_HTTP.has(res.status) || res.status >= 500 ? 'retry' : 'refused';
    } catch {
      return 'retry';
    }
  };
}

const SERVICE: Record<OtlpSignal, string> = {
  metrics: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
  logs: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
  traces: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
};

/**
 * gRPC: `http://host:port` is plaintext, `https://` TLS with the system's roots. Only protobuf
 * can travel this way; a JSON export (the agent was told to send protobuf) is refused.
 */
/**
 * A CommonJS module's exports from a dynamic import: Node's loader names them, paude's bundle
 * (scripts/bundle.mjs) gives them as the default export only.
 */
function commonJs(loaded: typeof Grpc): typeof Grpc {
  return 'credentials' in loaded ? loaded : (loaded as unknown as { default: typeof Grpc }).default;
}

export function grpcSender(endpoint: string, headers: Record<string, string>): Sender & { close(): void } {
  const url = new URL(endpoint);
  let client: Grpc.Client | undefined;
  let grpc: typeof Grpc | undefined;
  const identity = (b: Buffer): Buffer => b;
  const send = async (e: Export): Promise<Outcome> => {
    if (!/^application\/(x-)?protobuf/i.test(e.contentType)) return 'refused';
    grpc ??= commonJs(await import('@grpc/grpc-js'));
    const g = grpc;
    client ??= new g.Client(url.host, url.protocol === 'https:' ? g.credentials.createSsl() : g.credentials.createInsecure());
    const metadata = new g.Metadata();
    for (const [k, v] of Object.entries(headers)) metadata.set(k.toLowerCase(), v);
    const c = client;
    const outcome = await new Promise<Outcome>((resolve) => {
      c.makeUnaryRequest(SERVICE[e.signal], identity, identity, e.raw, metadata, { deadline: Date.now() + 10_000 }, (error) => {
        if (!error) resolve('delivered');
        else resolve(RETRYABLE_GRPC.has(error.code) ? 'retry' : 'refused');
      });
    });
    if (outcome === 'retry') {
      // The relay's own backoff decides when to try again: a fresh channel then, not one still
      // waiting out grpc-js's reconnect backoff.
      c.close();
      if (client === c) client = undefined;
    }
    return outcome;
  };
  return Object.assign(send, { close: () => client?.close() });
}

/** CANCELLED, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, OUT_OF_RANGE, UNAVAILABLE, DATA_LOSS. */
const RETRYABLE_GRPC = new Set([1, 4, 8, 10, 11, 14, 15]);
