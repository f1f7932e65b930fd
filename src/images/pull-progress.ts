/**
 * Reads the JSON stream of the Docker-compatible pull API (`POST /images/create?fromImage=`),
 * one object a line, and summarises the per-layer messages into one progress figure: layers
 * done of layers seen, bytes downloaded of bytes known. The engines word it differently
 * (real samples of both are in pull-stream-samples.json):
 * - Docker: `Pulling fs layer`, `Waiting`, `Downloading` (progressDetail current/total),
 *   `Verifying Checksum`, `Download complete`, `Extracting` (current/total), `Pull complete`,
 *   `Already exists`; then `Digest: ...` and `Status: ...` without an id.
 * - Podman 4.3: `Pulling fs layer`, `Downloading`, `Download complete` (the end of a layer: it
 *   reports no extraction), `Already exists`; the config blob and the image id come as layers too.
 * An `error`/`errorDetail` object ends a failed pull on both (Podman answers HTTP 200 first).
 */
import { JsonLines } from './json-lines.js';

export interface PullProgress {
  kind: 'pull';
  /** The image, as the user named it. */
  text: string;
  layers: number;
  /** Layers downloaded (or already present). */
  done: number;
  /** Bytes downloaded, of the layers whose size is known. */
  current: number;
  total: number;
  /** Some layer is being unpacked (Docker). */
  extracting: boolean;
}

interface Layer {
  current: number;
  total: number;
  done: boolean;
  extracting: boolean;
}

export class PullStreamParser {
  /** The engine's error message, if it reported one. */
  error: string | undefined;
  private readonly layers = new Map<string, Layer>();
  private readonly input = new JsonLines((line) => this.message(line));
  private last = '';

  constructor(
    private readonly image: string,
    private readonly emit: (event: PullProgress) => void = () => undefined,
  ) {}

  push(chunk: Buffer | string): void {
    this.input.push(chunk);
  }

  end(): void {
    this.input.end();
  }

  /** The figure now (also what the last event said). */
  summary(): PullProgress {
    let done = 0;
    let current = 0;
    let total = 0;
    let extracting = false;
    for (const layer of this.layers.values()) {
      if (layer.done) done++;
      if (layer.extracting) extracting = true;
      if (layer.total > 0) {
        total += layer.total;
        current += Math.min(layer.current, layer.total);
      }
    }
    return { kind: 'pull', text: this.image, layers: this.layers.size, done, current, total, extracting };
  }

  private message(raw: string): void {
    const trimmed = raw.trim();
    if (trimmed === '') return;
    const message = parseMessage(trimmed);
    if (message === undefined) return;
    const error = message.errorDetail?.message ?? message.error;
    if (typeof error === 'string') {
      this.error = error.trim();
      return;
    }
    if (typeof message.status !== 'string' || typeof message.id !== 'string' || message.id === '') return;
    // Docker's first line is `Pulling from <repo>` with the tag as its id: not a layer.
    if (message.status.startsWith('Pulling from ')) return;
    this.layerStatus(message.id, message.status, message.progressDetail);
  }

  private layerStatus(id: string, status: string, detail: ProgressDetail | undefined): void {
    let layer = this.layers.get(id);
    if (layer === undefined) this.layers.set(id, (layer = { current: 0, total: 0, done: false, extracting: false }));
    // Byte counts only: whole, non-negative and small enough to add up exactly.
    const bytes = (value: unknown): number | undefined => (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value < 2 ** 48 ? value : undefined);
    const current = bytes(detail?.current);
    const total = bytes(detail?.total) || undefined;
    switch (status) {
      case 'Downloading':
        if (total !== undefined) layer.total = total;
        if (current !== undefined) layer.current = Math.max(layer.current, current);
        break;
      case 'Download complete':
      case 'Verifying Checksum':
        layer.current = layer.total;
        layer.done = true;
        break;
      case 'Extracting':
        layer.current = layer.total;
        layer.done = true;
        layer.extracting = current === undefined || total === undefined || current < total;
        break;
      case 'Pull complete':
      case 'Already exists':
        layer.current = layer.total;
        layer.done = true;
        layer.extracting = false;
        break;
      default:
        // `Pulling fs layer`, `Waiting`, and whatever an engine adds: the layer is counted, no more.
        break;
    }
    const summary = this.summary();
    const key = `${summary.layers}/${summary.done}/${summary.current}/${summary.total}/${summary.extracting}`;
    if (key === this.last) return;
    this.last = key;
    this.emit(summary);
  }
}

interface ProgressDetail {
  current?: unknown;
  total?: unknown;
}

interface PullMessage {
  status?: unknown;
  id?: unknown;
  progressDetail?: ProgressDetail;
  error?: unknown;
  errorDetail?: { message?: unknown };
}

function parseMessage(line: string): PullMessage | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null ? value : undefined;
  } catch {
    return undefined;
  }
}

/** `12.3 MB`: sizes for a progress line (decimal units, as the engines print them). */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit] ?? 'TB'}`;
}

/** `2/3 layers, 12.3 MB/45.6 MB` (and `, unpacking` while Docker extracts). */
export function describePull(event: PullProgress): string {
  const layers = `${event.done}/${event.layers} layer${event.layers === 1 ? '' : 's'}`;
  const bytes = event.total > 0 ? `, ${formatBytes(event.current)}/${formatBytes(event.total)}` : '';
  return `${layers}${bytes}${event.extracting ? ', unpacking' : ''}`;
}
