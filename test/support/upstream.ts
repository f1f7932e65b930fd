/**
 * Made-up upstream hosts for network tests (allowed.test, blocked.test, ...): HTTP and HTTPS
 * servers on the host, bound to the gateway address of a network the test created, so the
 * session proxy reaches them on the real ports 80 and 443 without touching anything else.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Upstream {
  address: string;
  /** A high port, for port-rule tests. */
  extraPort: number;
  /** Requests seen, as "host:port path". */
  seen: string[];
  close(): Promise<void>;
}

let cert: { key: Buffer; cert: Buffer } | undefined;
function selfSigned(): { key: Buffer; cert: Buffer } {
  if (cert) return cert;
  const dir = mkdtempSync(join(tmpdir(), 'paude-cert-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=paude-test', '-keyout', join(dir, 'k'), '-out', join(dir, 'c')], { stdio: 'ignore' });
    cert = { key: readFileSync(join(dir, 'k')), cert: readFileSync(join(dir, 'c')) };
    return cert;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function startUpstream(address: string): Promise<Upstream> {
  const seen: string[] = [];
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const host = req.headers.host ?? '?';
    seen.push(`${host} ${req.url ?? ''}`);
    const size = /^\/bytes\/([0-9]+)$/.exec(req.url ?? '')?.[1];
    if (size) {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
      res.end(Buffer.alloc(Number(size), 120));
      return;
    }
    const delay = /^\/slow\/([0-9]+)$/.exec(req.url ?? '')?.[1];
    const reply = (): void => void res.end(`hello from ${host}\n`);
    if (delay) setTimeout(reply, Number(delay));
    else reply();
  };
  const servers: Server[] = [createHttp(handler), createHttps(selfSigned(), handler), createHttp(handler)];
  const listen = (server: Server, port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, address, () => resolve((server.address() as AddressInfo).port));
    });
  await listen(servers[0]!, 80);
  await listen(servers[1]!, 443);
  const extraPort = await listen(servers[2]!, 0);
  return {
    address,
    extraPort,
    seen,
    close: async () => {
      await Promise.all(servers.filter((s) => s.listening).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}
