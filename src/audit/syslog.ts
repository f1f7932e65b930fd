/**
 * The syslog sink: each audit event as one RFC 5424 message (the event type as MSGID, the event
 * as JSON in the message), over UDP (`udp://host[:514]`) or TCP with octet-counting framing
 * (`tcp://host[:514]`). UDP cannot say whether a message arrived; TCP delivery is confirmed by
 * the connection closing cleanly.
 */
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { hostname } from 'node:os';
import type { Sender } from './webhook.js';

export const DEFAULT_SYSLOG = 'udp://127.0.0.1:514';

export const FACILITIES: Record<string, number> = { kern: 0, user: 1, mail: 2, daemon: 3, auth: 4, syslog: 5, lpr: 6, news: 7, uucp: 8, cron: 9, authpriv: 10, ftp: 11, local0: 16, local1: 17, local2: 18, local3: 19, local4: 20, local5: 21, local6: 22, local7: 23 };
const INFO = 6;

/** One audit event line as an RFC 5424 message. */
export function syslogMessage(line: string, facility: string, host = hostname()): string {
  let ts = '-';
  let msgid = 'audit';
  try {
    const e = JSON.parse(line) as { ts?: string; event?: string };
    ts = e.ts ?? '-';
    msgid = (e.event ?? 'audit').replace(/[^\x21-\x7e]/g, '').slice(0, 32) || 'audit';
  } catch {
    // sent as it is
  }
  const pri = (FACILITIES[facility] ?? FACILITIES.local0 ?? 16) * 8 + INFO;
  return `<${pri}>1 ${ts} ${host.replace(/\s/g, '') || '-'} paude ${process.pid} ${msgid} - ${line}`;
}

export function syslogSender(address: string, facility: string): Sender {
  const url = new URL(address);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = url.port ? Number(url.port) : 514;
  if (url.protocol === 'tcp:') {
    return (lines) =>
      new Promise<boolean>((resolve) => {
        const socket = connect({ host, port });
        socket.setTimeout(10_000, () => socket.destroy());
        socket.once('error', () => resolve(false));
        socket.once('connect', () => {
          const frames = lines.map((l) => {
            const msg = syslogMessage(l, facility);
            return `${Buffer.byteLength(msg)} ${msg}`;
          });
          socket.end(frames.join(''), () => resolve(true));
        });
      });
  }
  return (lines) =>
    new Promise<boolean>((resolve) => {
      const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
      let pending = lines.length;
      let ok = true;
      if (pending === 0) return resolve(true);
      for (const l of lines) {
        socket.send(syslogMessage(l, facility), port, host, (error) => {
          if (error) ok = false;
          if (--pending === 0) {
            socket.close();
            resolve(ok);
          }
        });
      }
    });
}
