/**
 * What the dashboard asks of paude's core, in the dashboard's terms. The live implementation
 * (live-services.ts, over live/) is the same session, policy and approval services the CLI uses;
 * component tests pass a fake.
 */
import type { SessionStatus } from '../sessions/session-service.js';

export interface SessionRow {
  id: string;
  status: SessionStatus;
  /** How it stopped or why it is in error, when known (the list shows it with "stopped"). */
  detail?: string;
  backend: string;
  workspace?: string;
  started?: string;
  network?: string;
  blocked: number;
  /** Whether it runs in tmux (can be attached and previewed). */
  attachable: boolean;
  /** From the agent's telemetry (paude's relay), when any arrived. */
  tokens?: { input: number; output: number; cacheRead: number; cacheCreation: number; costUsd: number };
}

export interface FeedEvent {
  key: string;
  time: number;
  session: string;
  host: string;
  port: number;
  method: string;
  decision: 'allow' | 'deny' | 'pending';
  rule: string;
}

export interface HeldApproval {
  session: string;
  id: string;
  host: string;
  port: number;
  method: string;
  since: number;
}

export interface PolicyLine {
  effect: 'allow' | 'deny';
  text: string;
  source: string;
}

export type Scope = 'once' | 'session' | 'project' | 'global';

export interface DashboardServices {
  /** Sessions now, and a note when an engine did not answer. */
  listSessions(): Promise<{ rows: SessionRow[]; note?: string }>;
  /** Calls back with new proxy events of the given sessions; returns the stop. */
  followEvents(sessions: () => readonly string[], onEvents: (events: FeedEvent[]) => void): () => void;
  /** Held requests of the given sessions (the dashboard is a watcher: requests are held while it follows). */
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
  /**
   * Starts a detached session (as `paude --detach [--shell]` in the workspace would); resolves
   * with its id. What the start says meanwhile (image builds) comes as progress lines.
   */
  newSession(workspace: string, what: 'shell' | 'claude', backend: 'auto' | 'podman' | 'docker', onProgress?: (line: string) => void): Promise<string>;
  /** Where new sessions start by default (the directory paude ui was started in). */
  readonly cwd: string;
  /** A short message on the session's own screen (tmux's message line), for a few seconds. */
  notify(session: string, text: string): Promise<void>;
}
