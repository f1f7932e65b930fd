/**
 * Small helpers over the engine's Docker-compatible API that dockerode does not give as needed:
 * a tar writer (files for putArchive), a raw hijacked connection (attach: dockerode sends its
 * options as a JSON body, which Podman reads as the container's stdin), the demultiplexer of
 * non-TTY streams, and error classification.
 */
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import type Docker from 'dockerode';

export interface TarEntry {
  /** Relative path; directories end with "/". */
  name: string;
  mode: number;
  uid?: number;
  gid?: number;
  data?: Buffer;
}

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

function header(name: string, size: number, mode: number, uid: number, gid: number, type: string): Buffer {
  const h = Buffer.alloc(512);
  h.write(name.slice(0, 100), 0, 'utf8');
  h.write(octal(mode & 0o7777, 8), 100);
  h.write(octal(uid, 8), 108);
  h.write(octal(gid, 8), 116);
  h.write(octal(size, 12), 124);
  h.write(octal(Math.floor(Date.now() / 1000), 12), 136);
  h.write(type, 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  h.fill(' ', 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148);
  return h;
}

const pad = (n: number): Buffer => Buffer.alloc((512 - (n % 512)) % 512);

/** A POSIX (pax) tar archive of the entries, long names included. */
export function tarball(entries: TarEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const isDir = e.name.endsWith('/');
    const data = isDir ? Buffer.alloc(0) : (e.data ?? Buffer.alloc(0));
    if (Buffer.byteLength(e.name) > 100) {
      // A pax extended header carries the full path.
      const record = (len: number): string => `${len} path=${e.name}\n`;
      let len = Buffer.byteLength(record(0));
      while (Buffer.byteLength(record(len)) !== len) len = Buffer.byteLength(record(len));
      const body = Buffer.from(record(len));
      blocks.push(header('PaxHeader', body.length, 0o644, 0, 0, 'x'), body, pad(body.length));
    }
    blocks.push(header(e.name, data.length, e.mode, e.uid ?? 0, e.gid ?? 0, isDir ? '5' : '0'));
    if (data.length) blocks.push(data, pad(data.length));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

interface ModemAddress {
  socketPath?: string;
  host?: string;
  port?: number | string;
  protocol?: string;
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
}

/** POSTs to an engine endpoint that upgrades to a raw stream (attach), and returns that stream. */
export function hijack(docker: Docker, path: string): Promise<Duplex> {
  const modem = (docker as unknown as { modem: ModemAddress }).modem;
  const headers = { Connection: 'Upgrade', Upgrade: 'tcp' };
  const options: http.RequestOptions & https.RequestOptions = modem.socketPath
    ? { socketPath: modem.socketPath, path, method: 'POST', headers }
    : { host: modem.host, port: modem.port, path, method: 'POST', headers, ca: modem.ca, cert: modem.cert, key: modem.key };
  const request = modem.protocol === 'https' ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const req = request(options);
    req.on('upgrade', (_res, socket, head) => {
      if (head.length > 0) socket.unshift(head);
      resolve(socket);
    });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString('utf8')));
      res.on('end', () => reject(Object.assign(new Error(`engine answered ${res.statusCode ?? 0} to ${path}: ${body.trim()}`), { statusCode: res.statusCode })));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * Splits the engine's multiplexed stream (8-byte headers: stream type, 3 zero bytes, big-endian
 * length) into its frames, across chunk boundaries.
 */
export class Demuxer {
  private pending: Buffer = Buffer.alloc(0);
  constructor(private readonly onFrame: (stream: 'stdout' | 'stderr', data: Buffer) => void) {}
  push(chunk: Buffer): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    while (this.pending.length >= 8) {
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + size) break;
      const kind = this.pending[0];
      const data = this.pending.subarray(8, 8 + size);
      this.pending = this.pending.subarray(8 + size);
      if (data.length) this.onFrame(kind === 2 ? 'stderr' : 'stdout', data);
    }
  }
}

export function statusCodeOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null || !('statusCode' in error)) return undefined;
  return typeof error.statusCode === 'number' ? error.statusCode : undefined;
}

/** Rethrows anything but a 404 (for engine calls where "already gone" is fine). */
export function ignoreNotFound(error: unknown): undefined {
  if (isNotFound(error)) return undefined;
  throw error;
}

export const isNotFound = (error: unknown): boolean => statusCodeOf(error) === 404;

export const errorMessage = (error: unknown): string => {
  if (error instanceof Error) {
    const json = (error as { json?: { message?: string } }).json;
    return json?.message ?? error.message;
  }
  return String(error);
};

export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
