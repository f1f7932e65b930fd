/**
 * Connects the user's terminal to the agent's: raw mode and window size when stdin is a
 * terminal, plain pipes otherwise (stdin's end is passed on, as `docker run -i` does).
 */
import type { AgentIo } from '../backends/session-backend.js';

export interface Stdio {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number; rows?: number; on(event: 'resize', cb: () => void): unknown; off?(event: 'resize', cb: () => void): unknown };
  stderr: NodeJS.WritableStream;
}

export interface Passthrough {
  restore(): void;
}

export function passthrough(io: AgentIo, stdio: Stdio, tty: boolean): Passthrough {
  const raw = tty && stdio.stdin.isTTY === true && typeof stdio.stdin.setRawMode === 'function';
  if (raw) stdio.stdin.setRawMode?.(true);
  const onResize = (): void => {
    if (stdio.stdout.rows && stdio.stdout.columns) void io.resize(stdio.stdout.rows, stdio.stdout.columns).catch(() => undefined);
  };
  if (tty) stdio.stdout.on('resize', onResize);
  const onData = (chunk: Buffer): void => void io.input.write(chunk);
  const onEnd = (): void => void io.input.end();
  stdio.stdin.on('data', onData);
  stdio.stdin.on('end', onEnd);
  io.output.pipe(stdio.stdout, { end: false });
  io.errors?.pipe(stdio.stderr, { end: false });
  let restored = false;
  return {
    restore: () => {
      if (restored) return;
      restored = true;
      stdio.stdin.off('data', onData);
      stdio.stdin.off('end', onEnd);
      stdio.stdout.off?.('resize', onResize);
      if (raw) stdio.stdin.setRawMode?.(false);
      stdio.stdin.pause();
    },
  };
}
