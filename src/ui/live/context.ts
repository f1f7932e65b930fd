/**
 * What the live services share: one session service (and its proxy-event streams, which the
 * feed reads too), the audit log, the policy service, and the sessions as last listed, which the
 * other calls act on (a session not listed any more is one sentence, not a stale handle).
 */
import { join } from 'node:path';
import { PolicyService } from '../../app/policy-service.js';
import type { PolicyDeps } from '../../app/network-policy.js';
import type { EndDeps } from '../../app/session-end.js';
import { openAuditLog } from '../../audit/audit-service.js';
import type { ResolvedConfig } from '../../config/load-config.js';
import { createProxyEventStreams, type ProxyEventStreams } from '../../policy/proxy-event-stream.js';
import { ProxyStateDir } from '../../policy/proxy-state.js';
import { sessionDir } from '../../sessions/session-record.js';
import { SessionService, type SessionView } from '../../sessions/session-service.js';

export interface LiveContext {
  resolved: ResolvedConfig;
  env: NodeJS.ProcessEnv;
  streams: ProxyEventStreams;
  service: SessionService;
  policy: PolicyService;
  policyDeps: PolicyDeps;
  endDeps: EndDeps;
  /** The sessions of the last listing, by id. */
  views: Map<string, SessionView>;
  /** A listed session; throws a sentence when it is not (any more). */
  view(id: string): SessionView;
  stateOf(id: string): ProxyStateDir;
}

export function createLiveContext(resolved: ResolvedConfig, env: NodeJS.ProcessEnv): LiveContext {
  // One proxy-event stream per session for the whole dashboard: the BLOCKED column (through the
  // session service) and the feed read each log once, and count what the feed shows.
  const streams = createProxyEventStreams();
  const service = new SessionService(resolved.paths, resolved.config.backend, env, streams);
  const audit = openAuditLog(resolved);
  const views = new Map<string, SessionView>();
  const view = (id: string): SessionView => {
    const v = views.get(id);
    if (!v) throw new Error(`${id} is not listed (any more)`);
    return v;
  };
  return {
    resolved,
    env,
    streams,
    service,
    policy: new PolicyService(resolved.paths),
    policyDeps: { paths: resolved.paths, audit, env, from: 'dashboard' },
    endDeps: { service, audit, env },
    views,
    view,
    stateOf: (id) => new ProxyStateDir(join(sessionDir(resolved.paths.sessionsDir, id), 'proxy')),
  };
}
