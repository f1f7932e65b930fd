/**
 * Build progress for a terminal: on a TTY one line that updates in place
 * (`building localhost/paude-proxy: step 3/6 RUN apt-get ...`, cut to the terminal width);
 * otherwise (CI logs, pipes) one line per step. Build output itself is not printed: a failed
 * build carries its last lines on the error.
 */
import { assertNever } from '../errors.js';
import type { BuildProgress } from './build-progress.js';

export interface ProgressOutput {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressPrinter {
  onProgress(event: BuildProgress): void;
  /** Ends an updating line left open (call it when the build fails). */
  close(): void;
}

const CLEAR_LINE = '\r\u001b[2K';

export function createProgressPrinter(out: ProgressOutput, image: string): ProgressPrinter {
  const tty = out.isTTY === true;
  let open = false;
  const show = (line: string): void => {
    if (tty) {
      out.write(`${CLEAR_LINE}${fitWidth(line, (out.columns ?? 80) - 1)}`);
      open = true;
    } else {
      out.write(`${line}\n`);
    }
  };
  const close = (): void => {
    if (open) out.write(CLEAR_LINE);
    open = false;
  };
  return {
    onProgress(event) {
      switch (event.kind) {
        case 'step':
          show(`building ${image}: step ${event.step}/${event.total} ${event.text}`);
          return;
        case 'output':
          return;
        case 'done':
          close();
          out.write(`built ${event.text}\n`);
          return;
        default:
          assertNever(event, 'build progress event');
      }
    },
    close,
  };
}

/** One terminal line: no control characters, at most `width` characters (code points). */
export function fitWidth(text: string, width: number): string {
  // eslint-disable-next-line no-control-regex -- control characters would break the updating line
  const chars = [...text.replace(/[\u0000-\u001f\u007f]+/g, ' ')];
  if (chars.length <= width) return chars.join('');
  return width <= 1 ? chars.slice(0, Math.max(width, 0)).join('') : `${chars.slice(0, width - 1).join('')}…`;
}
