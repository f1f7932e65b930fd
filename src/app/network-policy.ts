/**
 * The network policy's use cases, written once for the CLI (`paude allow/deny/approve`) and the
 * dashboard: answering a held request, changing the policy at a scope, answering the requests
 * waiting for one host. Each records what it did in the audit log. Nothing here prints.
 */
import { join } from 'node:path';
import type { AuditLog } from '../audit/audit-log.js';
import { recordApproval, recordPolicyChange } from '../audit/audit-service.js';
import type { PaudePaths } from '../config/paths.js';
import { ApprovalBroker, type HeldRequest } from '../policy/approval-broker.js';
import { PolicyService, type StoredScope } from './policy-service.js';
import { canonicalEntry, type PolicyEffect } from '../policy/policy-stores.js';
import { ProxyStateDir } from '../policy/proxy-state.js';
import { isBlocked } from '../policy/proxy-event.js';
import { createProxyEventStreams, readOnce, type ProxyEventStreams } from '../policy/proxy-event-stream.js';
import { sessionDir, type SessionRecord } from '../sessions/session-record.js';

/** Who asked: recorded with each change and approval. */
export type Front = 'cli' | 'dashboard';

export interface PolicyDeps {
  paths: PaudePaths;
  audit: AuditLog | undefined;
  env: NodeJS.ProcessEnv;
  from: Front;
}

/** An answer to a held request: allow or deny, once or stored at a scope. */
export interface Answer {
  effect: PolicyEffect;
  scope: 'once' | StoredScope;
}

export interface Answered {
  /** The stored entry (scopes other than once). */
  entry?: string;
  /** The running sessions a stored entry now applies to. */
  sessions: string[];
}

/**
 * The entry that decides the same request again: the host for the web ports (which a bare host
 * means in the grammar), host:port for any other, so an approved :8443 is not held again.
 */
export function entryFor(host: string, port: number): string {
  return canonicalEntry(port === 80 || port === 443 ? host : `${host}:${port}`);
}

export function proxyStateOf(paths: PaudePaths, id: string): ProxyStateDir {
  return new ProxyStateDir(join(sessionDir(paths.sessionsDir, id), 'proxy'));
}

/** The requests the session's proxy holds now. */
export function heldRequests(paths: PaudePaths, id: string): Promise<HeldRequest[]> {
  return new ApprovalBroker(proxyStateOf(paths, id), id).pending();
}

/** Answers one held request of `record`'s session; a stored answer goes to the policy first. */
export async function answerHeld(deps: PolicyDeps, record: SessionRecord, held: Pick<HeldRequest, 'id' | 'host' | 'port'>, answer: Answer): Promise<Answered> {
  let result: Answered = { sessions: [] };
  if (answer.scope !== 'once') {
    const entry = entryFor(held.host, held.port);
    result = { entry, sessions: await changePolicy(deps, { effect: answer.effect, entry, scope: answer.scope, session: record }) };
  }
  // A stored answer may have released it already: answering a released request is no error.
  const broker = new ApprovalBroker(proxyStateOf(deps.paths, record.id), record.id);
  const decided = broker.decide(held.id, answer.effect);
  await (answer.scope === 'once' ? decided : decided.catch(() => undefined));
  await recordApproval(deps.audit, { session: record.id, request: held.id, host: held.host, port: held.port, decision: answer.effect, scope: answer.scope, from: deps.from }, deps.env);
  return result;
}

export interface Change {
  effect: PolicyEffect;
  entry: string;
  scope: StoredScope;
  /** The session concerned (needed at session scope; names the project at project scope). */
  session?: SessionRecord;
  /** The project meant when no session names it. */
  projectRoot?: string;
}

/** Stores a policy change and makes it effective now; returns the running sessions it concerns. */
export async function changePolicy(deps: PolicyDeps, change: Change): Promise<string[]> {
  const entry = canonicalEntry(change.entry);
  const projectRoot = change.session?.projectRoot ?? change.projectRoot;
  const sessions = await new PolicyService(deps.paths).apply({
    effect: change.effect,
    entry,
    scope: change.scope,
    ...(change.session ? { session: change.session } : {}),
    ...(projectRoot ? { projectRoot } : {}),
  });
  await recordPolicyChange(deps.audit, { ...(change.session ? { session: change.session.id } : {}), effect: change.effect, entry, scope: change.scope, sessions, from: deps.from }, deps.env);
  return sessions;
}

/** Answers, once, every request of the session held for this entry; returns how many. */
export async function answerWaiting(deps: PolicyDeps, record: SessionRecord, effect: PolicyEffect, entry: string): Promise<number> {
  const wanted = canonicalEntry(entry);
  const held = (await heldRequests(deps.paths, record.id)).filter((h) => canonicalEntry(h.host) === wanted || entryFor(h.host, h.port) === wanted);
  for (const h of held) await answerHeld(deps, record, h, { effect, scope: 'once' });
  return held.length;
}

/** Why a request was refused when no rule of the user's refused it (then allowing it helps). */
const UNDECIDED = new Set(['not-allowed', 'no-approver', 'timeout', 'denied']);

export interface Refused {
  host: string;
  port: number;
  /** The entry that allows it again: the host, or host:port off the web ports. */
  entry: string;
  /** The rule that refused it: not-allowed, no-approver, timeout, denied, or a deny entry. */
  rule: string;
  /** Refused by an entry of the denylist: an allow would not change that. */
  byDenyRule: boolean;
  time: number;
}

/** The latest request the session's proxy refused, if any (read once from its access log). */
export async function lastRefused(paths: PaudePaths, id: string, streams: ProxyEventStreams = createProxyEventStreams()): Promise<Refused | undefined> {
  const events = await readOnce((listener, options) => streams.subscribe({ session: id, accessLog: proxyStateOf(paths, id).accessLog }, listener, options));
  const last = events.filter(isBlocked).reduce<(typeof events)[number] | undefined>((latest, e) => (!latest || e.time >= latest.time ? e : latest), undefined);
  if (!last) return undefined;
  return { host: last.host, port: last.port, entry: entryFor(last.host, last.port), rule: last.rule, byDenyRule: !UNDECIDED.has(last.rule), time: last.time };
}

