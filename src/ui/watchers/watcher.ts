/**
 * A watcher feeds the store from one source (a poll, a follow) while it is started. The
 * controller starts them all and stops them all: when the terminal is handed to a session
 * nothing of the dashboard runs (k9s's suspend), and they start again on its return.
 */
export interface Watcher {
  start(): void;
  /** Resolves when the source is let go (a preview's terminal closed). */
  stop(): Promise<void>;
}
