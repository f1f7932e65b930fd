import { appendFile, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseSince } from '../cli/commands/audit.js';
import { AUDIT_VERSION, type AuditEvent } from './audit-event.js';
import { AuditLog } from './audit-log.js';
import type { AuditPosition } from './audit-reader.js';

const S = 'paude-abc123';
const line = (sec: number, host: string, decision: 'allow' | 'deny'): string => `${1764230400 + sec}.000 127.0.0.1 GET ${host} 80 ${decision === 'allow' ? 200 : 403} 10 ${decision === 'allow' ? 'TCP_MISS' : 'TCP_DENIED'} ${decision} ${decision === 'allow' ? host : 'not-allowed'} 1\n`;

const start = (id = `${S}:start`): AuditEvent => ({
  v: AUDIT_VERSION,
  id,
  ts: '2026-11-27T08:00:00.000Z',
  session_id: S,
  event: 'session.start',
  source: 'host',
  data: { user: 'ada@box', workspace: '/src/x', backend: 'podman', endpoint: 'unix:///run/podman/podman.sock', image: 'localhost/paude-agent:1', command: ['bash', '-l'], network_mode: 'restricted', allow: [{ text: 'api.anthropic.com', source: 'builtin' }], deny: [] },
});

describe('AuditLog', () => {
  const dirs: string[] = [];
  const dir = async (): Promise<string> => {
    const d = await mkdtemp(join(tmpdir(), 'paude-audit-'));
    dirs.push(d);
    return d;
  };
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  it('records a session’s proxy requests from its access log exactly once, resuming where it stopped', async () => {
    const d = await dir();
    const log = new AuditLog(join(d, 'audit'));
    const access = join(d, 'access.log');
    await writeFile(access, line(1, 'allowed.test', 'allow') + line(2, 'blocked.test', 'deny'));
    expect(await log.backfillNetwork(S, access)).toBe(2);
    // paude was gone for a while; the session went on.
    await appendFile(access, line(3, 'later.test', 'deny'));
    // A new process (nothing in memory) catches up from the log itself, and twice is once.
    const again = new AuditLog(join(d, 'audit'));
    expect(await again.backfillNetwork(S, access)).toBe(1);
    expect(await again.backfillNetwork(S, access)).toBe(0);
    const { events } = await again.read({ session: S, events: ['network'] });
    expect(events.map((e) => (e.event === 'network' ? `${e.data.decision} ${e.data.host}` : ''))).toEqual(['allow allowed.test', 'deny blocked.test', 'deny later.test']);
    expect(new Set(events.map((e) => e.id)).size).toBe(3);
  });

  it('back-fills requests once when several processes do it at once, while other events rotate the file', async () => {
    const d = await dir();
    const access = join(d, 'access.log');
    await writeFile(access, Array.from({ length: 40 }, (_, i) => line(i, `h${i}.test`, i % 3 ? 'allow' : 'deny')).join(''));
    // The keeper, paude stop and paude audit (three processes, each with its own AuditLog) settle
    // the same session at the same moment, while other events are recorded; every write rotates.
    const limits = { maxBytes: 300, maxFiles: 100 };
    const logs = [0, 1, 2].map(() => new AuditLog(join(d, 'audit'), limits));
    const others = Array.from({ length: 6 }, (_, i) => logs[i % 3]?.append([start(`${S}:other${i}`)]));
    const counts = await Promise.all([...logs.map((l) => l.backfillNetwork(S, access)), ...others]);
    // One of them recorded the 40 requests; the others found nothing left to record.
    expect(counts.slice(0, 3).sort()).toEqual([0, 0, 40]);
    await appendFile(access, line(41, 'late.test', 'deny'));
    expect((await Promise.all(logs.map((l) => l.backfillNetwork(S, access)))).sort()).toEqual([0, 0, 1]);
    const { events } = await logs[0]!.read({ session: S });
    expect(events.filter((e) => e.event === 'network')).toHaveLength(41);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  });

  it('back-fills a busy session’s 60,000 requests in one go (not a copy of the list per event)', async () => {
    const d = await dir();
    const access = join(d, 'access.log');
    await writeFile(access, Array.from({ length: 60_000 }, (_, i) => line(i, `h${i % 300}.test`, i % 10 ? 'allow' : 'deny')).join(''));
    const log = new AuditLog(join(d, 'audit'), { maxBytes: 100 * 1024 * 1024, maxFiles: 2 });
    // Seconds here; each event's append copied every event before it, which took minutes.
    expect(await log.backfillNetwork(S, access)).toBe(60_000);
    expect(await log.backfillNetwork(S, access)).toBe(0);
  }, 30_000);

  it('writes a fact with a known id once, keeps files apart per session, and filters on read', async () => {
    const d = await dir();
    const log = new AuditLog(d);
    await log.append([start()]);
    await log.append([start()]);
    await log.append([{ ...start('other:start'), session_id: 'paude-zzz999', id: 'paude-zzz999:start' }]);
    expect((await readdir(d)).sort()).toEqual(['paude-abc123.jsonl', 'paude-zzz999.jsonl']);
    expect((await log.read()).events).toHaveLength(2);
    expect((await log.read({ session: S })).events.map((e) => e.id)).toEqual([`${S}:start`]);
    expect((await log.read({ since: Date.parse('2026-11-28T00:00:00Z') })).events).toEqual([]);
    expect((await log.read({ events: ['session.end'] })).events).toEqual([]);
  });

  it('rotates by size and still reads the older files', async () => {
    const d = await dir();
    const log = new AuditLog(d, { maxBytes: 600, maxFiles: 3 });
    for (let i = 0; i < 6; i++) await log.append([{ ...start(`${S}:e${i}`), ts: `2026-11-27T08:00:0${i}.000Z` }]);
    const files = (await readdir(d)).sort();
    expect(files).toEqual(['paude-abc123.1.jsonl', 'paude-abc123.2.jsonl', 'paude-abc123.jsonl']);
    const ids = (await log.read()).events.map((e) => e.id);
    expect(ids.length).toBeGreaterThan(2);
    expect(ids).toEqual([...ids].sort());
  });

  it('reads only what was written since the last look (paude audit --follow), across rotations and half-written lines', async () => {
    const d = await dir();
    const log = new AuditLog(d, { maxBytes: 300, maxFiles: 3 });
    const ev = (i: number): AuditEvent => ({ ...start(`${S}:e${i}`), ts: `2026-11-27T08:00:${String(i).padStart(2, '0')}.000Z` });
    const position: AuditPosition = new Map();
    await log.append([ev(0), ev(1)]);
    expect((await log.readNew(position)).events.map((e) => e.id)).toEqual([`${S}:e0`, `${S}:e1`]);
    expect((await log.readNew(position)).events).toEqual([]);
    // Each of these appends rotates the file: what was current is read to its end first.
    await log.append([ev(2)]);
    await log.append([ev(3)]);
    expect((await readdir(d)).sort()).toEqual([`${S}.1.jsonl`, `${S}.2.jsonl`, `${S}.jsonl`]);
    expect((await log.readNew(position)).events.map((e) => e.id)).toEqual([`${S}:e2`, `${S}:e3`]);
    // A line still being written waits for its end, and is then read once.
    const half = JSON.stringify(ev(4));
    await appendFile(join(d, `${S}.jsonl`), half.slice(0, 40));
    expect(await log.readNew(position)).toEqual({ events: [], warnings: [] });
    await appendFile(join(d, `${S}.jsonl`), `${half.slice(40)}\nnot json\n`);
    const last = await log.readNew(position, { events: ['session.start'] });
    expect(last.events.map((e) => e.id)).toEqual([`${S}:e4`]);
    expect(last.warnings).toEqual([`${join(d, `${S}.jsonl`)}:3: not JSON; skipped`]);
    expect((await log.readNew(position)).events).toEqual([]);
  });

  it('names the file and line of a line that is not an event, and reads the rest', async () => {
    const d = await dir();
    const log = new AuditLog(d);
    await log.append([start()]);
    await appendFile(join(d, `${S}.jsonl`), 'not json\n{"v":1,"id":"x","ts":"2026-11-27T08:00:00Z","session_id":"s","event":"network","source":"agent","data":{}}\n');
    const { events, warnings } = await log.read();
    expect(events).toHaveLength(1);
    expect(warnings[0]).toBe(`${join(d, `${S}.jsonl`)}:2: not JSON; skipped`);
    expect(warnings[1]).toMatch(new RegExp(`^${join(d, `${S}.jsonl`)}:3: `));
    expect(await readFile(join(d, `${S}.jsonl`), 'utf8')).toContain('not json'); // reading changes nothing
  });

  it('refuses to write an event that is not one (a secret in a field of its own, a bad type)', async () => {
    const log = new AuditLog(await dir());
    await expect(log.append([{ ...start(), data: { ...start().data, api_key: 'sk-x' } } as unknown as AuditEvent])).rejects.toThrow();
  });
});

describe('AuditLog: hook reports', () => {
  it('records pre and post tool uses from the spool once each, with the duration, skipping cut lines', async () => {
    const d = await mkdtemp(join(tmpdir(), 'paude-audit-'));
    try {
      const log = new AuditLog(d);
      const hook = (phase: string, at: number, input: Record<string, unknown>, extra: Record<string, unknown> = {}): string =>
        JSON.stringify({ phase, at, event: { tool_name: 'Bash', tool_use_id: 'toolu_1', tool_input: input, ...extra } }) + '\n';
      let spool = hook('pre', 1764230400000, { command: 'make test' }) + '{"phase":"pre","at":1,"event":{"cut';
      spool += '\n' + hook('post', 1764230401500, { command: 'make test' }, { tool_response: { interrupted: true } });
      expect(await log.backfillHooks(S, Buffer.from(spool))).toBe(2);
      expect(await log.backfillHooks(S, Buffer.from(spool))).toBe(0);
      spool += JSON.stringify({ phase: 'pre', at: 1764230402000, event: { tool_name: 'Write', tool_input: { file_path: '/src/x/a.txt', content: 'secret stuff' } } }) + '\n';
      expect(await log.backfillHooks(S, Buffer.from(spool))).toBe(1);
      const { events } = await log.read({ events: ['command'] });
      expect(events.map((e) => (e.event === 'command' ? [e.data.phase, e.data.tool, e.data.what, e.data.duration_ms, e.data.failed] : []))).toEqual([
        ['pre', 'Bash', 'make test', undefined, undefined],
        ['post', 'Bash', 'make test', 1500, true],
        ['pre', 'Write', '/src/x/a.txt', undefined, undefined],
      ]);
      expect(events.every((e) => e.source === 'agent-hook')).toBe(true);
    } finally {
      await rm(d, { recursive: true, force: true });
    }
  });
});

describe('parseSince', () => {
  it('takes durations and dates, and says what it expects otherwise', () => {
    const now = Date.parse('2026-11-27T08:00:00Z');
    expect(parseSince('15m', now)).toBe(now - 15 * 60_000);
    expect(parseSince('2h', now)).toBe(now - 2 * 3_600_000);
    expect(parseSince('2026-11-27T07:00:00Z', now)).toBe(Date.parse('2026-11-27T07:00:00Z'));
    expect(() => parseSince('yesterday', now)).toThrow('--since expects a duration (30s, 15m, 2h, 7d) or a date/time (2026-11-27T08:00), not "yesterday"');
  });
});
