/**
 * Reads the JSON stream of the Docker-compatible build API (one object a line: stream, status,
 * aux, error/errorDetail) into our own progress events. Podman and Docker word it differently:
 * Podman says `STEP 2/6: COPY ...` and ends each `stream` with a newline; Docker's classic
 * builder says `Step 2/6 : COPY ...`, sends the newline as a separate object and wraps stderr
 * in ANSI colour codes. Real samples of both are in build-stream-samples.json.
 */
import { JsonLines } from './json-lines.js';
import type { PullProgress } from './pull-progress.js';

/** What ensureImage reports: build steps and output, and the pull of a missing base image before them. */
export type BuildProgress =
  | { kind: 'step'; text: string; step: number; total: number }
  | { kind: 'output'; text: string }
  | { kind: 'done'; text: string }
  | PullProgress
  | { kind: 'pulled'; text: string }
  /** One line the user should see (say, credentials paude could not use). */
  | { kind: 'notice'; text: string };

export interface BuildStep {
  step: number;
  total: number;
  /** The instruction as the engine printed it, e.g. `RUN apt-get install -y squid`. */
  instruction: string;
}

/** How many output lines a failed build keeps for --debug. */
export const KEPT_LINES = 20;

// `[1/2] ` prefixes a Podman step in a multi-stage build.
const STEP_LINE = /^(?:\[[^\]]*\]\s*)?(?:STEP|Step)\s+(\d+)\/(\d+)\s*:\s*(.*)$/;
// eslint-disable-next-line no-control-regex -- stripping the terminal escapes is the point
const ANSI_ESCAPE = /\u001b\[[0-9;?]*[A-Za-z]/g;

export class BuildStreamParser {
  /** The step running now (the one that failed, if the build fails). */
  currentStep: BuildStep | undefined;
  /** The image id the engine reported (`aux.ID`). */
  imageId: string | undefined;
  /** The engine's error message, if it reported one. */
  error: string | undefined;
  private readonly lines: string[] = [];
  // Chunks are bytes: a character may be split between two of them.
  private readonly input = new JsonLines((line) => this.message(line));
  private text = '';

  constructor(private readonly emit: (event: BuildProgress) => void = () => undefined) {}

  /** The last KEPT_LINES lines of build output, steps included. */
  get lastLines(): readonly string[] {
    return this.lines;
  }

  push(chunk: Buffer | string): void {
    this.input.push(chunk);
  }

  /** Call when the stream ends: handles a last message or line without its newline. */
  end(): void {
    this.input.end();
    if (this.text !== '') this.line(this.text);
    this.text = '';
  }

  private message(raw: string): void {
    const trimmed = raw.trim();
    if (trimmed === '') return;
    const message = parseMessage(trimmed);
    if (message === undefined) {
      this.line(trimmed); // not JSON: keep it as output rather than lose it
      return;
    }
    if (typeof message.stream === 'string') this.streamText(message.stream);
    if (typeof message.status === 'string') this.line(typeof message.id === 'string' ? `${message.id}: ${message.status}` : message.status);
    if (typeof message.aux?.ID === 'string') this.imageId = message.aux.ID;
    const error = message.errorDetail?.message ?? message.error;
    if (typeof error === 'string') this.error = error.trim();
  }

  private streamText(text: string): void {
    const lines = (this.text + text).split('\n');
    this.text = lines.pop() ?? '';
    for (const line of lines) this.line(line);
  }

  private line(raw: string): void {
    const text = raw.replace(ANSI_ESCAPE, '').replace(/\r$/, '').trimEnd();
    if (text === '') return;
    this.lines.push(text);
    if (this.lines.length > KEPT_LINES) this.lines.shift();
    const step = STEP_LINE.exec(text);
    if (step) {
      this.currentStep = { step: Number(step[1]), total: Number(step[2]), instruction: step[3] ?? '' };
      this.emit({ kind: 'step', text: this.currentStep.instruction, step: this.currentStep.step, total: this.currentStep.total });
    } else {
      this.emit({ kind: 'output', text });
    }
  }
}

interface BuildMessage {
  stream?: unknown;
  status?: unknown;
  id?: unknown;
  aux?: { ID?: unknown };
  error?: unknown;
  errorDetail?: { message?: unknown };
}

function parseMessage(line: string): BuildMessage | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null ? value : undefined;
  } catch {
    return undefined;
  }
}
