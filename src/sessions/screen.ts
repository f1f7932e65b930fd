/**
 * A live copy of a session's screen: a read-only tmux client in the agent container (it
 * neither types nor changes the window's size) whose output feeds a headless xterm. The
 * dashboard shows it as a preview and has something to show at once when the user attaches.
 */
import xterm from '@xterm/headless';
import type { AgentTerminal, SessionBackend } from '../backends/session-backend.js';
import { detachClient, leaseClient, type ClientLease } from './clients.js';

export interface ScreenSnapshot {
  rows: number;
  cols: number;
  /** The visible lines, trailing spaces trimmed. */
  lines: string[];
  cursor: { row: number; col: number };
}

export class SessionScreen {
  private readonly term: xterm.Terminal;
  private terminal: AgentTerminal | undefined;
  private lease: ClientLease | undefined;
  private readonly listeners = new Set<() => void>();
  private closed = false;

  private constructor(
    private readonly backend: SessionBackend,
    private readonly id: string,
    private readonly sessionDir: string,
    readonly rows: number,
    readonly cols: number,
  ) {
    this.term = new xterm.Terminal({ rows, cols, allowProposedApi: true, scrollback: 0 });
  }

  /** Opens a preview at the size of the session's window (what the agent draws for). */
  static async open(backend: SessionBackend, id: string, sessionDir: string): Promise<SessionScreen> {
    const size = await backend.exec(id, ['tmux', 'display-message', '-p', '-t', 'paude', '#{window_height} #{window_width}']);
    const [rows, cols] = size.stdout.trim().split(' ').map(Number);
    if (size.exitCode !== 0 || !rows || !cols) throw new Error(`${id} has no terminal to show (${size.stderr.trim() || 'no tmux session'})`);
    const screen = new SessionScreen(backend, id, sessionDir, rows, cols);
    await screen.connect();
    return screen;
  }

  private async connect(): Promise<void> {
    this.lease = await leaseClient(this.sessionDir);
    const terminal = await this.backend.openTerminal(this.id, ['paude-tmux-attach', String(this.rows), String(this.cols), this.lease.token, '-r'], { rows: this.rows, cols: this.cols }, { TERM: 'xterm-256color' });
    this.terminal = terminal;
    terminal.output.on('data', (chunk: Buffer) => this.term.write(chunk, () => this.emit()));
    void terminal.ended.then(() => this.emit());
  }

  private emit(): void {
    for (const l of this.listeners) l();
  }

  /** Called after each change has been applied; returns the unsubscribe. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  snapshot(): ScreenSnapshot {
    const buffer = this.term.buffer.active;
    const lines: string[] = [];
    for (let i = 0; i < this.rows; i++) lines.push(buffer.getLine(buffer.viewportY + i)?.translateToString(true) ?? '');
    return { rows: this.rows, cols: this.cols, lines, cursor: { row: buffer.cursorY, col: buffer.cursorX } };
  }

  /** Resolves when the screen shows text matching the pattern (or rejects after timeoutMs). */
  async waitFor(pattern: RegExp, timeoutMs = 10_000): Promise<void> {
    if (pattern.test(this.snapshot().lines.join('\n'))) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`the screen of ${this.id} did not show ${pattern} within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.onChange(() => {
        if (!pattern.test(this.snapshot().lines.join('\n'))) return;
        clearTimeout(timer);
        off();
        resolve();
      });
    });
  }

  /** Ends the preview: its tmux client is detached, not left behind in the container. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.lease) {
      await detachClient(this.backend, this.id, this.lease.token);
      await this.lease.release();
    }
    this.terminal?.input.end();
    this.term.dispose();
    this.listeners.clear();
  }
}
