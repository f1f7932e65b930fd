/**
 * What the dashboard asks of paude's core, in the dashboard's terms. The live implementation
 * (live-services.ts) is the same session, policy and approval services the CLI uses; component
 * tests pass a fake.
 */
import type { FeedEvent, HeldApproval, PolicyLine, Scope, SessionRow } from './store.js';

export interface DashboardServices {
  /** Sessions now, and a note when an engine did not answer. */
  listSessions(): Promise<{ rows: SessionRow[]; note?: string }>;
  /** Calls back with new proxy events of the given sessions; returns the stop. */
  followEvents(sessions: () => readonly string[], onEvents: (events: FeedEvent[]) => void): () => void;
  /** Held requests of the given sessions (the dashboard is a watcher: requests are held while it runs). */
  followApprovals(sessions: () => readonly string[], onChange: (held: HeldApproval[]) => void): () => void;
  decide(held: HeldApproval, scope: Scope | 'deny'): Promise<string>;
  policy(session: string): Promise<PolicyLine[]>;
  /** Checks an entry as you type: undefined when fine, else the same message as the CLI. */
  checkEntry(text: string): string | undefined;
  changePolicy(session: string, effect: 'allow' | 'deny', entry: string, scope: Exclude<Scope, 'once'>): Promise<string>;
  removeSessionEntry(session: string, effect: 'allow' | 'deny', entry: string): Promise<string>;
  /** A live preview of the session's screen; returns the close. */
  preview(session: string, onLines: (lines: string[]) => void): Promise<() => Promise<void>>;
  /** Hands the terminal to the session until it is detached (or ends); returns a line to show. */
  attach(session: string): Promise<string>;
  stop(session: string): Promise<string>;
  /** Removes the session (stopping it first): containers, volumes, metadata. */
  remove(session: string): Promise<string>;
  /** Starts a detached session (as `paude --detach [--shell]` in the workspace); resolves with its id. */
  newSession(workspace: string, what: 'shell' | 'claude', backend: 'auto' | 'podman' | 'docker'): Promise<string>;
  /** Where new sessions start by default (the directory paude ui was started in). */
  readonly cwd: string;
  /** A short message on the session's own screen (tmux's message line), for a few seconds. */
  notify(session: string, text: string): Promise<void>;
}
