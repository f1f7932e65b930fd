/**
 * The benchmarks' own HTTP server, bound to the gateway address of a network the run created,
 * so made-up hosts (bench.test, ...) resolve to it and no request leaves the machine.
 *   /             a short body
 *   /bytes/N      N bytes, streamed
 *   /slow/MS      a short body after MS milliseconds
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Upstream {
  address: string;
  port: number;
  close(): Promise<void>;
}

const CHUNK = Buffer.alloc(1024 * 1024, 120);
const MAX_BYTES = 1024 * 1024 * 1024;

export async function startUpstream(address: string, port = 80): Promise<Upstream> {
  const server = createServer((req, res) => handle(req, res));
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, resolve);
  });
  return {
    address,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? '/';
  const bytes = /^\/bytes\/([0-9]+)$/.exec(url)?.[1];
  if (bytes !== undefined && Number(bytes) <= MAX_BYTES) {
    void stream(res, Number(bytes));
    return;
  }
  const delay = /^\/slow\/([0-9]+)$/.exec(url)?.[1];
  const reply = (): void => void res.end(`hello from ${req.headers.host ?? '?'}\n`);
  if (delay !== undefined) setTimeout(reply, Math.min(Number(delay), 60_000));
  else reply();
}

async function stream(res: ServerResponse, size: number): Promise<void> {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(size) });
  let left = size;
  while (left > 0 && !res.destroyed) {
    const piece = left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left);
    left -= piece.length;
    if (!res.write(piece)) await drained(res);
  }
  res.end();
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
