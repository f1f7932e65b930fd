/**
 * Audit events: one JSON object per line, schema-versioned, validated with zod when read back.
 * Every event says where it was observed: `host` (paude itself), `proxy` (the session's proxy,
 * outside the agent's reach) or `agent-hook` (reported from inside the box, which a hostile
 * agent could forge or suppress; see docs/SECURITY.md). Secrets are never part of an event.
 */
import { z } from 'zod';

export const AUDIT_VERSION = 1;

const base = {
  v: z.literal(AUDIT_VERSION),
  /** Unique and stable: the same fact recorded twice has the same id (so it is recorded once). */
  id: z.string().min(1),
  ts: z.string().datetime({ offset: true }),
  session_id: z.string(),
};

const entry = z.strictObject({ text: z.string(), source: z.string() });

export const AuditEventSchema = z.discriminatedUnion('event', [
  z.strictObject({
    ...base,
    event: z.literal('session.start'),
    source: z.literal('host'),
    data: z.strictObject({
      user: z.string(),
      workspace: z.string(),
      backend: z.string(),
      endpoint: z.string(),
      image: z.string(),
      command: z.array(z.string()),
      network_mode: z.string(),
      allow: z.array(entry),
      deny: z.array(entry),
    }),
  }),
  z.strictObject({
    ...base,
    event: z.literal('session.end'),
    source: z.literal('host'),
    data: z.strictObject({
      exit_code: z.number().int().nullable(),
      duration_ms: z.number().nonnegative(),
      how: z.string(),
      /** From the agent's telemetry (relayed by paude), when any arrived. */
      tokens: z.strictObject({ input: z.number(), output: z.number(), cache_read: z.number(), cache_creation: z.number(), cost_usd: z.number() }).optional(),
    }),
  }),
  z.strictObject({
    ...base,
    event: z.literal('policy.change'),
    source: z.literal('host'),
    data: z.strictObject({ who: z.string(), from: z.string(), effect: z.enum(['allow', 'deny']), entry: z.string(), scope: z.string(), sessions: z.array(z.string()) }),
  }),
  z.strictObject({
    ...base,
    event: z.literal('approval'),
    source: z.literal('host'),
    data: z.strictObject({ who: z.string(), from: z.string(), decision: z.enum(['allow', 'deny']), scope: z.string(), host: z.string(), port: z.number().int(), request: z.string() }),
  }),
  z.strictObject({
    ...base,
    event: z.literal('file'),
    source: z.literal('host'),
    /**
     * A change in the workspace, seen from the host (local engines). `unwatched`: it happened
     * while no paude watched and was found by comparing with the last look; `mtime` says when.
     */
    data: z.strictObject({
      path: z.string(),
      change: z.enum(['created', 'modified', 'deleted']),
      size: z.number().int().nonnegative().optional(),
      mtime: z.string().optional(),
      unwatched: z.literal(true).optional(),
    }),
  }),
  z.strictObject({
    ...base,
    event: z.literal('command'),
    /** Reported by Claude Code's hooks inside the box: a hostile agent could forge or suppress it. */
    source: z.literal('agent-hook'),
    data: z.strictObject({
      phase: z.enum(['pre', 'post']),
      tool: z.string(),
      /** The command (Bash), the file (file tools), or the input, shortened. */
      what: z.string(),
      tool_use_id: z.string().optional(),
      /** post only: since its pre event, when both were seen. */
      duration_ms: z.number().nonnegative().optional(),
      failed: z.boolean().optional(),
      offset: z.number().int(),
    }),
  }),
  z.strictObject({
    ...base,
    event: z.literal('quarantine'),
    source: z.literal('host'),
    /** A protected path the session created, moved out of the workspace to `moved_to` at `ts`. */
    data: z.strictObject({ path: z.string(), moved_to: z.string() }),
  }),
  z.strictObject({
    ...base,
    event: z.literal('proxy.restart'),
    source: z.literal('host'),
    /** The proxy had died under a running agent (which had no network meanwhile): started again, or not. */
    data: z.strictObject({ ok: z.boolean(), restarts: z.number().int().nonnegative(), error: z.string().optional() }),
  }),
  z.strictObject({
    ...base,
    event: z.literal('network'),
    source: z.literal('proxy'),
    data: z.strictObject({ host: z.string(), port: z.number().int(), method: z.string(), decision: z.enum(['allow', 'deny', 'pending']), rule: z.string(), status: z.number().int(), bytes: z.number().int(), offset: z.number().int() }),
  }),
]);

export type AuditEvent = z.infer<typeof AuditEventSchema>;
export type AuditEventType = AuditEvent['event'];
export const AUDIT_EVENT_TYPES: readonly AuditEventType[] = ['session.start', 'session.end', 'policy.change', 'approval', 'network', 'file', 'command', 'quarantine', 'proxy.restart'];

/** Who did it, for host events: the local user and machine. */
export function actor(env: NodeJS.ProcessEnv, host: string): string {
  return `${env.USER ?? env.LOGNAME ?? 'unknown'}@${host}`;
}
