/**
 * exec and attach over WebSocket, as the API server serves them to client-go and client-node:
 * subprotocol v5.channel.k8s.io (or v4), binary messages whose first byte is the channel
 * (0 stdin, 1 stdout, 2 stderr, 3 error/status, 4 resize as {"Width","Height"}; with v5 the
 * client sends [255, 0] to close its stdin). The end is a v4 status on channel 3 (Success, or
 * Failure NonZeroExitCode with the exit code as a cause), then a normal close.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type Docker from 'dockerode';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { Demuxer, errorMessage, hijack, sleep } from './engine.js';

export const SUBPROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'] as const;

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const ERROR = 3;
const RESIZE = 4;
const CLOSE = 255;

/** The best subprotocol the client offers, or undefined when it offers none the emulator speaks. */
export function chooseSubprotocol(header: string | undefined): string | undefined {
  const offered = (header ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return SUBPROTOCOLS.find((p) => offered.includes(p));
}

export interface StreamRequest {
  kind: 'exec' | 'attach';
  containerId: string;
  command: string[];
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

interface Size {
  Width: number;
  Height: number;
}

export class StreamServer {
  private readonly wss = new WebSocketServer({ noServer: true, handleProtocols: (protocols) => SUBPROTOCOLS.find((p) => protocols.has(p)) ?? false });
  private readonly sockets = new Set<WebSocket>();

  constructor(private readonly docker: Docker) {}

  /** Completes the upgrade and runs the exec or attach on the socket. */
  serve(req: IncomingMessage, socket: Duplex, head: Buffer, r: StreamRequest): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.sockets.add(ws);
      ws.on('close', () => this.sockets.delete(ws));
      void this.run(ws, r).catch((error: unknown) => {
        sendStatus(ws, { metadata: {}, status: 'Failure', message: errorMessage(error), reason: 'InternalError', code: 500 });
        ws.close(1000);
      });
    });
  }

  private async run(ws: WebSocket, r: StreamRequest): Promise<void> {
    // Messages may arrive before the engine side is ready: hold them until it is.
    const held: Buffer[] = [];
    const inbox: { deliver?: (m: Buffer) => void } = {};
    ws.on('message', (data: RawData) => {
      const m = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      if (inbox.deliver) inbox.deliver(m);
      else held.push(m);
    });
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    const tty = r.tty;
    const stderr = r.stderr && !tty; // a TTY merges stderr into stdout, as the kubelet does
    const container = this.docker.getContainer(r.containerId);
    let stream: Duplex;
    let resize: (s: Size) => Promise<unknown>;
    let exec: Docker.Exec | undefined;
    if (r.kind === 'exec') {
      exec = await container.exec({ Cmd: r.command, AttachStdin: r.stdin, AttachStdout: r.stdout, AttachStderr: stderr, Tty: tty });
      stream = await exec.start({ hijack: true, stdin: r.stdin, Tty: tty });
      const e = exec;
      resize = (s) => e.resize({ h: s.Height, w: s.Width });
    } else {
      stream = await hijack(this.docker, `/containers/${r.containerId}/attach?stream=1&stdin=${r.stdin ? 1 : 0}&stdout=${r.stdout ? 1 : 0}&stderr=${stderr ? 1 : 0}`);
      resize = (s) => container.resize({ h: s.Height, w: s.Width });
    }
    const send = (channel: number, data: Buffer): void => {
      if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.from([channel]), data]));
    };
    const demux = new Demuxer((which, data) => send(which === 'stderr' ? STDERR : STDOUT, data));
    const ended = new Promise<void>((resolve) => {
      stream.on('data', (chunk: Buffer) => (tty ? send(STDOUT, chunk) : demux.push(chunk)));
      stream.on('end', () => resolve());
      stream.on('close', () => resolve());
      stream.on('error', () => resolve());
    });
    let resizes = Promise.resolve();
    const deliver = (m: Buffer): void => {
      const channel = m[0];
      const payload = m.subarray(1);
      if (channel === STDIN) {
        if (r.stdin && !stream.writableEnded) stream.write(payload);
      } else if (channel === RESIZE) {
        const size = parseSize(payload);
        if (!tty || !size) return;
        // Podman answers a resize with 201, which dockerode takes for an error; a resize after
        // the process ended fails too. Neither matters.
        resizes = resizes.then(() =>
          resize(size).then(
            () => undefined,
            () => undefined,
          ),
        );
      } else if (channel === CLOSE && payload[0] === STDIN) {
        if (!stream.writableEnded) stream.end();
      }
    };
    for (const m of held.splice(0)) deliver(m);
    inbox.deliver = deliver;
    const outcome = await Promise.race([ended.then(() => 'ended' as const), closed.then(() => 'closed' as const)]);
    if (outcome === 'closed') {
      // The client went away: so does the engine connection (the process keeps running, as in Kubernetes).
      stream.destroy();
      return;
    }
    await resizes;
    if (exec) {
      const code = await exitCode(exec);
      if (code === 0 || code === undefined) sendStatus(ws, { metadata: {}, status: 'Success' });
      else
        sendStatus(ws, {
          metadata: {},
          status: 'Failure',
          message: `command terminated with non-zero exit code: error executing command [${r.command.join(' ')}], exit code ${code}`,
          reason: 'NonZeroExitCode',
          details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
        });
    } else sendStatus(ws, { metadata: {}, status: 'Success' });
    ws.close(1000);
  }

  /** Closes every open stream (the emulator is closing). */
  close(): void {
    for (const ws of this.sockets) ws.terminate();
    this.wss.close();
  }
}

/** A resize message: {"Width":n,"Height":n}, keys matched case-insensitively as Go's JSON decoder does. */
function parseSize(payload: Buffer): Size | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const entries = Object.entries(parsed as Record<string, unknown>).map(([k, v]) => [k.toLowerCase(), v] as const);
  const width = entries.find(([k]) => k === 'width')?.[1];
  const height = entries.find(([k]) => k === 'height')?.[1];
  if (typeof width !== 'number' || typeof height !== 'number' || width <= 0 || height <= 0) return undefined;
  return { Width: width, Height: height };
}

function sendStatus(ws: WebSocket, status: Record<string, unknown>): void {
  if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.from([ERROR]), Buffer.from(JSON.stringify(status))]));
}

/** The exec's exit code, once the engine has recorded the process's end. */
async function exitCode(exec: Docker.Exec): Promise<number | undefined> {
  for (let i = 0; i < 50; i++) {
    const info = await exec.inspect();
    if (!info.Running && info.ExitCode !== null) return info.ExitCode;
    await sleep(100);
  }
  return undefined;
}
