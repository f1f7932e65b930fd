import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { syslogMessage, syslogSender } from './syslog.js';

const line = JSON.stringify({ v: 1, id: 'x', ts: '2026-11-27T08:00:00.000Z', session_id: 'paude-abc123', event: 'network', source: 'proxy', data: {} });

describe('syslog sink', () => {
  it('formats an event as RFC 5424: priority from the facility, the time and type of the event, the event as JSON', () => {
    expect(syslogMessage(line, 'local0', 'box')).toBe(`<134>1 2026-11-27T08:00:00.000Z box paude ${process.pid} network - ${line}`);
    expect(syslogMessage(line, 'auth', 'box').startsWith('<38>1 ')).toBe(true);
  });

  it('sends over UDP', async () => {
    const server = createSocket('udp4');
    const got: string[] = [];
    await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
    server.on('message', (m) => got.push(m.toString()));
    const send = syslogSender(`udp://127.0.0.1:${server.address().port}`, 'local0');
    expect(await send([line, line])).toBe(true);
    for (let i = 0; i < 50 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    server.close();
    expect(got).toHaveLength(2);
    expect(got[0]).toMatch(/^<134>1 2026-11-27T08:00:00.000Z \S+ paude \d+ network - \{/);
  });

  it('sends over TCP with octet counting, and says false when nobody listens', async () => {
    let data = '';
    const server = createServer((s) => s.on('data', (d: Buffer) => (data += d.toString())));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    expect(await syslogSender(`tcp://127.0.0.1:${port}`, 'local0')([line])).toBe(true);
    for (let i = 0; i < 50 && !data; i++) await new Promise((r) => setTimeout(r, 10));
    const msg = syslogMessage(line, 'local0');
    expect(data.replace(/ \d+ network/, ' PID network')).toBe(`${Buffer.byteLength(msg)} ${msg}`.replace(/ \d+ network/, ' PID network'));
    await new Promise((r) => server.close(r));
    expect(await syslogSender(`tcp://127.0.0.1:${port}`, 'local0')([line])).toBe(false);
  });
});
