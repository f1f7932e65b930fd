/**
 * ProxyEvent: one request seen by a session's proxy, parsed from the access log (final
 * decisions) or from the pending directory (held requests).
 */
import { z } from 'zod';

export type ProxyDecision = 'allow' | 'deny' | 'pending';

export interface ProxyEvent {
  /** Milliseconds since the epoch. */
  time: number;
  session: string;
  decision: ProxyDecision;
  host: string;
  port: number;
  method: string;
  /** HTTP status the agent got (0 while pending). */
  status: number;
  bytes: number;
  /** The rule that decided: an allowlist entry, or not-allowed / approved / denied / timeout / no-approver / open-mode. */
  rule: string;
  client: string;
  /** How long squid took, in ms. */
  elapsedMs: number;
  /** Byte offset of the line in its log: with the session, a unique and stable id. */
  offset: number;
}

const field = z.string().min(1).max(300).regex(/^[\x21-\x7e]+$/);
const AccessLine = z.tuple([
  // Squid writes ten digits of seconds until the year 2286; eleven leave room and keep every
  // time one a Date can hold (`paude blocked --json` prints it as one).
  z.string().regex(/^[0-9]{1,11}\.[0-9]{3}$/),
  field,
  z.string().regex(/^[A-Z_-]{1,20}$/),
  field,
  z.string().regex(/^(-|[0-9]{1,5})$/),
  z.string().regex(/^[0-9]{1,3}$/),
  z.string().regex(/^[0-9]{1,15}$/),
  z.string().regex(/^[A-Z_]+(\/[A-Z_]+)?$/),
  z.enum(['allow', 'deny', '-']),
  field,
  z.string().regex(/^[0-9]{1,10}$/),
]);

/** Parses one access log line; returns undefined for a line that is not ours (never throws). */
export function parseAccessLine(line: string, session: string, offset: number): ProxyEvent | undefined {
  const parsed = AccessLine.safeParse(line.split(' '));
  if (!parsed.success) return undefined;
  const [ts, client, method, host, port, status, bytes, squidResult, decision, rule, elapsed] = parsed.data;
  // A request squid refused before asking the helper (another client, a blocked destination) has no note.
  const final = decision === '-' ? (squidResult.startsWith('TCP_DENIED') ? 'deny' : 'allow') : decision;
  return {
    time: Math.round(Number(ts) * 1000),
    session,
    decision: final,
    host,
    port: port === '-' ? (method === 'CONNECT' ? 443 : 80) : Number(port),
    method,
    status: Number(status),
    bytes: Number(bytes),
    rule: rule === '-' ? (final === 'deny' ? 'proxy' : 'unknown') : rule,
    client,
    elapsedMs: Number(elapsed),
    offset,
  };
}

/**
 * Whether the event is the agent's traffic. The agent's readiness probe (a request to the proxy
 * itself, no host) is not: no feed, count or audit record shows it.
 */
export function isAgentRequest(e: ProxyEvent): boolean {
  return e.host !== '-';
}

/** What BLOCKED counts, everywhere: an agent's request the proxy refused. */
export function isBlocked(e: ProxyEvent): boolean {
  return isAgentRequest(e) && e.decision === 'deny';
}
