/**
 * A terminal on a session: a tmux client in the agent container (paude-tmux-attach) connected
 * to the user's terminal in raw mode, with window size changes passed on. tmux redraws the
 * current screen on attach; the detach key (bound in the container's tmux) ends the client and
 * leaves the session running.
 */
import { Transform, type TransformCallback } from 'node:stream';
import type { AgentTerminal, SessionBackend } from '../backends/session-backend.js';
import { passthrough, type Stdio } from './terminal.js';
import { leaseClient } from './clients.js';
import { faultPoint } from '../faults.js';

/** Colour and attribute sequences (ESC [ ... m), which capture-pane -e keeps. */
const SGR = new RegExp(String.raw`\x1b\[[0-9;]*m`, 'g');

/** What tmux's client prints as it leaves; paude says it in its own words instead. */
const TMUX_FAREWELL = /\[(?:exited|detached \(from session paude\)|server exited|lost server)\]\r?\n$/;

/**
 * Passes the client's output on, except a farewell line at its very end: a chunk that ends in
 * one keeps it back until more output shows it was not the end.
 */
export class FarewellFilter extends Transform {
  private held: Buffer | undefined;
  /** The farewell the client ended with: it detached, or the session ended. */
  farewell: 'detached' | 'ended' | undefined;

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.held) this.push(this.held);
    this.held = undefined;
    const text = chunk.toString('latin1');
    const m = TMUX_FAREWELL.exec(text);
    if (m) {
      const cut = Buffer.byteLength(text.slice(0, m.index), 'latin1');
      if (cut > 0) this.push(chunk.subarray(0, cut));
      this.held = chunk.subarray(cut);
    } else this.push(chunk);
    done();
  }

  override _flush(done: TransformCallback): void {
    if (this.held) this.farewell = this.held.includes('detached') ? 'detached' : 'ended';
    done();
  }
}

export interface AttachOptions {
  /** The user's TERM, for tmux's client. */
  term: string;
  /** The session's directory on this host (for the client's lease, see clients.ts). */
  sessionDir: string;
  readOnly?: boolean;
  /** Called with the open terminal (benchmarks, tests). */
  onOpen?: (terminal: AgentTerminal) => void;
}

/**
 * Attaches the user's terminal until the client ends: 'detached' (the detach key), 'ended'
 * (the session's command ended), or undefined (the connection was lost: ask the engine).
 */
export async function attachTerminal(backend: SessionBackend, id: string, stdio: Stdio, options: AttachOptions): Promise<'detached' | 'ended' | undefined> {
  const rows = stdio.stdout.rows ?? 24;
  const cols = stdio.stdout.columns ?? 80;
  const lease = await leaseClient(options.sessionDir);
  faultPoint('attach.lease-claimed');
  try {
    const command = ['paude-tmux-attach', String(rows), String(cols), lease.token, ...(options.readOnly ? ['-r'] : [])];
    const terminal = await backend.openTerminal(id, command, { rows, cols }, { TERM: options.term });
    faultPoint('attach.terminal-opened');
    options.onOpen?.(terminal);
    const filter = new FarewellFilter();
    const output = terminal.output.pipe(filter);
    const pass = passthrough({ ...terminal, output }, stdio, true);
    try {
      await terminal.ended;
      // Let the last output reach the terminal before raw mode is left.
      await new Promise<void>((resolve) => (output.readableEnded ? resolve() : output.once('end', resolve)));
      return filter.farewell;
    } finally {
      pass.restore();
    }
  } finally {
    await lease.release();
  }
}

/**
 * Shows what a session's command left on its screen once tmux has given the terminal back:
 * its last screen and some history, as a command run directly would have left it.
 */
export async function showLastScreen(backend: SessionBackend, id: string, out: NodeJS.WritableStream): Promise<void> {
  const text = await backend.agentOutput(id).catch(() => '');
  const lines = text.replace(/\r/g, '').split('\n');
  const blank = (line: string): boolean => line.replace(SGR, '').trim() === '';
  while (lines.length && blank(lines[lines.length - 1] ?? '')) lines.pop();
  if (lines.length) out.write(`${lines.join('\n')}\x1b[0m\n`);
}
