/**
 * Connects the user's terminal to an engine stream: raw mode and window size when stdin is a
 * terminal, plain pipes otherwise (stdin's end is passed on, as `docker run -i` does).
 */
import type { Duplex } from 'node:stream';

export interface Stdio {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number; rows?: number; on(event: 'resize', cb: () => void): unknown; off?(event: 'resize', cb: () => void): unknown };
  stderr: NodeJS.WritableStream;
}

export interface Passthrough {
  /** Resolves when the engine side has ended and everything it sent was written. */
  ended: Promise<void>;
  restore(): void;
}

export function passthrough(stream: Duplex, stdio: Stdio, options: { tty: boolean; demux?: (s: Duplex, out: NodeJS.WritableStream, err: NodeJS.WritableStream) => void; resize?: (rows: number, cols: number) => void }): Passthrough {
  const raw = options.tty && stdio.stdin.isTTY === true && typeof stdio.stdin.setRawMode === 'function';
  if (raw) stdio.stdin.setRawMode?.(true);
  const onResize = (): void => {
    if (stdio.stdout.rows && stdio.stdout.columns) options.resize?.(stdio.stdout.rows, stdio.stdout.columns);
  };
  if (options.tty) {
    stdio.stdout.on('resize', onResize);
    onResize();
  }
  const onData = (chunk: Buffer): void => void stream.write(chunk);
  const onEnd = (): void => void stream.end();
  stdio.stdin.on('data', onData);
  stdio.stdin.on('end', onEnd);
  if (options.tty || !options.demux) stream.pipe(stdio.stdout, { end: false });
  else options.demux(stream, stdio.stdout, stdio.stderr);
  const ended = new Promise<void>((resolve) => {
    stream.once('end', resolve);
    stream.once('close', resolve);
    stream.once('error', () => resolve());
  });
  let restored = false;
  return {
    ended,
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
