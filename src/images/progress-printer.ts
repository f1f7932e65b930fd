/**
 * Build progress for a terminal: on a TTY one line that updates in place
 * (`building localhost/paude-proxy: step 3/6 RUN apt-get ...`, cut to the terminal width);
 * otherwise (CI logs, pipes) one line per step. Build output itself is not printed: a failed
 * build carries its last lines on the error. The pull of a missing base image before a build is
 * shown the same way: one updating line summarising every layer
 * (`pulling debian:bookworm-slim: 1/3 layers, 12.3 MB/45.6 MB`), or a line each time a layer
 * is done.
 */
import { assertNever } from '../errors.js';
import type { BuildProgress } from './build-progress.js';
import { describePull } from './pull-progress.js';

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
  let shown = '';
  /** Layers done when the last plain line about a pull was printed (-1: none yet). */
  let pullLine = -1;
  const show = (line: string): void => {
    if (tty) {
      const fitted = fitWidth(line, (out.columns ?? 80) - 1);
      if (open && fitted === shown) return;
      out.write(`${CLEAR_LINE}${fitted}`);
      shown = fitted;
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
        case 'pull': {
          const line = event.layers === 0 ? `pulling ${event.text} for the ${image}` : `pulling ${event.text}: ${describePull(event)}`;
          if (tty) show(line);
          else if (pullLine < 0 || event.done > pullLine) {
            show(line);
            pullLine = event.done;
          }
          return;
        }
        case 'pulled':
          close();
          pullLine = -1;
          out.write(`pulled ${event.text}\n`);
          return;
        case 'notice':
          close();
          out.write(`${event.text}\n`);
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
