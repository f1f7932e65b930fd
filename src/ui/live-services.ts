/**
 * The dashboard's services over paude's core: the session service (engines + records), the
 * policy service, the approval broker and the proxy-event stream per session, the screen
 * model for previews, attach for the terminal hand-over. Nothing here renders.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SessionBackend } from '../backends/session-backend.js';
import type { ResolvedConfig } from '../config/load-config.js';
import { ApprovalBroker } from '../policy/approval-broker.js';
import { describeEntryProblem, parseNetworkEntry } from '../config/network-entry.js';
import { PolicyService } from '../app/policy-service.js';
import type { ProxyEvent } from '../policy/proxy-event.js';
import { createProxyEventStreams, type ProxyEventSubscription } from '../policy/proxy-event-stream.js';
import { ProxyStateDir } from '../policy/proxy-state.js';
import { attachSession } from '../app/attach-session.js';
import { SessionScreen } from '../sessions/screen.js';
import { SessionService, type SessionView } from '../sessions/session-service.js';
import { sessionDir } from '../sessions/session-record.js';
import type { DashboardServices } from './services.js';
import { openAuditLog } from '../audit/audit-service.js';
import { answerHeld, changePolicy, type PolicyDeps } from '../app/network-policy.js';
import { removeSession, stopSession, type EndDeps } from '../app/session-end.js';
import type { FeedEvent, HeldApproval, SessionRow } from './store.js';

export function liveServices(resolved: ResolvedConfig, env: NodeJS.ProcessEnv, stdio: { stdin: NodeJS.ReadStream; stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream }, cwd = process.cwd()): DashboardServices {
  // One proxy-event stream per session for the whole dashboard: the BLOCKED column (through the
  // session service) and the feed read each log once, and count what the feed shows.
  const streams = createProxyEventStreams();
  const service = new SessionService(resolved.paths, resolved.config.backend, env, streams);
  const audit = openAuditLog(resolved);
  const policy = new PolicyService(resolved.paths);
  const deps: PolicyDeps = { paths: resolved.paths, audit, env, from: 'dashboard' };
  const ends: EndDeps = { service, audit, env };
  const views = new Map<string, SessionView>();
  const stateOf = (id: string): ProxyStateDir => new ProxyStateDir(join(sessionDir(resolved.paths.sessionsDir, id), 'proxy'));
  const view = (id: string): SessionView => {
    const v = views.get(id);
    if (!v) throw new Error(`${id} is not listed (any more)`);
    return v;
  };
  const backendOf = (id: string): SessionBackend => {
    const b = view(id).backendHandle;
    if (!b) throw new Error(`${id} is on an engine that does not answer`);
    return b;
  };

  return {
    cwd,

    newSession(workspace, what, backend) {
      // The same `paude --detach` a user would type, in that workspace: its configuration, its
      // trust rules. Its output is kept for the error message.
      const bin = fileURLToPath(new URL('../../bin/paude.js', import.meta.url));
      const args = [bin, '--detach', ...(what === 'shell' ? ['--shell'] : []), ...(backend === 'auto' ? [] : ['--backend', backend])];
      return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, args, { cwd: workspace, env, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        child.on('error', reject);
        child.on('close', (code) => {
          const id = out.trim();
          if (code === 0 && id) resolve(id);
          else reject(new Error(err.trim().split('\n').filter((l) => !l.startsWith('building') && !l.startsWith('built')).pop()?.replace(/^paude: /, '') ?? `paude --detach exited ${code}`));
        });
      });
    },

    async listSessions() {
      const list = await service.list({ clients: false });
      views.clear();
      for (const s of list.sessions) views.set(s.id, s);
      const rows: SessionRow[] = list.sessions.map((s) => ({
        id: s.id,
        status: s.status === 'stopped' && s.detail ? `stopped (${s.detail})` : s.status,
        backend: s.backend,
        blocked: s.blocked,
        attachable: s.record?.tmux === true && ['attached', 'detached'].includes(s.status),
        ...(s.workspace ? { workspace: s.workspace } : {}),
        ...(s.started ? { started: s.started } : {}),
        ...(s.network ? { network: s.network } : {}),
        ...(s.tokens ? { tokens: s.tokens } : {}),
      }));
      return { rows, ...(list.unreachable.length ? { note: list.unreachable.join('; ') } : {}) };
    },

    followEvents(sessions, onEvents) {
      // A subscription per session to its stream (shared with the BLOCKED count), from the start
      // of its log: a session listed before the feed knew it gets the history first. Every 200 ms
      // the events that arrived are handed on as one sorted batch.
      const subscribed = new Map<string, ProxyEventSubscription>();
      let batch: FeedEvent[] = [];
      const feedEvent = (e: ProxyEvent): FeedEvent => ({ key: `${e.session}:${e.offset}`, time: e.time, session: e.session, host: e.host, port: e.port, method: e.method, decision: e.decision, rule: e.rule });
      const tick = (): void => {
        const wanted = new Set(sessions());
        for (const [id, sub] of subscribed) {
          if (wanted.has(id)) continue;
          sub.unsubscribe();
          subscribed.delete(id);
        }
        for (const id of wanted) {
          if (subscribed.has(id)) continue;
          const listener = (events: readonly ProxyEvent[]): void => {
            for (const e of events) batch.push(feedEvent(e));
          };
          subscribed.set(id, streams.subscribe({ session: id, accessLog: stateOf(id).accessLog }, listener, { history: true }));
        }
        const out = batch;
        batch = [];
        if (out.length) onEvents(out.sort((a, b) => a.time - b.time));
      };
      const timer = setInterval(tick, 200);
      return () => {
        clearInterval(timer);
        for (const sub of subscribed.values()) sub.unsubscribe();
        subscribed.clear();
      };
    },

    followApprovals(sessions, onChange) {
      const brokers = new Map<string, { broker: ApprovalBroker; leave: Promise<() => Promise<void>> }>();
      let last = '';
      const tick = async (): Promise<void> => {
        const wanted = new Set(sessions());
        for (const [id, b] of brokers) {
          if (wanted.has(id)) continue;
          brokers.delete(id);
          void b.leave.then((leave) => leave()).catch(() => undefined);
        }
        for (const id of wanted) {
          if (brokers.has(id)) continue;
          const broker = new ApprovalBroker(stateOf(id), id);
          // Being a watcher is what makes the proxy hold requests (ask mode) instead of denying.
          brokers.set(id, { broker, leave: broker.present() });
        }
        const held: HeldApproval[] = [];
        for (const { broker } of brokers.values()) held.push(...(await broker.pending().catch(() => [])));
        held.sort((a, b) => a.since - b.since);
        const key = held.map((h) => `${h.session}/${h.id}`).join(',');
        if (key !== last) {
          last = key;
          onChange(held.map((h) => ({ session: h.session, id: h.id, host: h.host, port: h.port, method: h.method, since: h.since })));
        }
      };
      const timer = setInterval(() => void tick().catch(() => undefined), 250);
      void tick().catch(() => undefined);
      return () => {
        clearInterval(timer);
        for (const b of brokers.values()) void b.leave.then((leave) => leave()).catch(() => undefined);
      };
    },

    async decide(held, scope) {
      const record = view(held.session).record;
      if (!record) throw new Error(`${held.session} has no record; answer it with paude approve ${held.id}`);
      const answer = scope === 'deny' ? { effect: 'deny' as const, scope: 'once' as const } : { effect: 'allow' as const, scope };
      const done = await answerHeld(deps, record, held, answer);
      if (scope === 'deny') return `denied ${held.host}:${held.port} once in ${held.session}`;
      const what = done.entry ?? `${held.host}:${held.port}`;
      return `allowed ${what} ${scope === 'once' ? 'once' : `for the ${scope}`}${scope === 'global' ? '' : ` (${held.session})`}`;
    },

    async policy(session) {
      const record = view(session).record;
      if (!record) return [];
      const p = await policy.effectivePolicy(record);
      return [...p.allow.map((e) => ({ effect: 'allow' as const, text: e.text, source: e.source })), ...p.deny.map((e) => ({ effect: 'deny' as const, text: e.text, source: e.source }))];
    },

    checkEntry(text) {
      const parsed = parseNetworkEntry(text);
      return parsed.ok ? undefined : describeEntryProblem(text, parsed.problem);
    },

    async changePolicy(session, effect, entry, scope) {
      const record = view(session).record;
      const updated = await changePolicy(deps, { effect, entry, scope, ...(record ? { session: record } : {}) });
      return `${effect === 'allow' ? 'allowed' : 'denied'} ${entry} for the ${scope}; in effect now in ${updated.join(', ') || 'no running session'}`;
    },

    async removeSessionEntry(session, effect, entry) {
      const record = view(session).record;
      if (!record) return `${session} has no record`;
      const removed = await policy.removeSessionEntry(record, effect, entry);
      return removed ? `removed ${entry} from ${session}'s ${effect} list` : `${entry} is not ${session}'s own entry (only session entries are removed here; others live in config)`;
    },

    async preview(session, onLines) {
      const screen = await SessionScreen.open(backendOf(session), session, sessionDir(resolved.paths.sessionsDir, session));
      const emit = (): void => onLines(screen.snapshot().lines);
      const off = screen.onChange(emit);
      emit();
      return async () => {
        off();
        await screen.close();
      };
    },

    async attach(session) {
      const outcome = await attachSession({ sessionsDir: resolved.paths.sessionsDir, env }, view(session), stdio);
      if (outcome.kind === 'detached') return `detached from ${session}`;
      const moved = outcome.quarantined.length ? `; it created ${outcome.quarantined.join(', ')} (protected), moved to the quarantine` : '';
      return `${session} has ended (exit ${outcome.code})${moved}`;
    },

    async notify(session, text) {
      await backendOf(session)
        .exec(session, ['tmux', 'display-message', '-d', '5000', '-t', 'paude', text.replace(/#/g, '##')])
        .catch(() => undefined);
    },

    async remove(session) {
      // As paude rm --force: a remote session's copy of the workspace is brought back first.
      await removeSession(ends, view(session));
      return `removed ${session}`;
    },

    async stop(session) {
      const moved = await stopSession(ends, view(session));
      return `stopped ${session}${moved.length ? `; it had created ${moved.join(', ')} (protected), moved to the quarantine` : ''}`;
    },
  };
}
