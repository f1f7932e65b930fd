import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExitCode, PaudeError, UsageError } from '../errors.js';
import { defaultSession, listSessionRecords, readSessionRecord, resolveSession, sessionDir, writeSessionRecord, type SessionRecord } from './session-record.js';

const APP = '/home/ada/src/app';
const OTHER = '/home/ada/src/other';

function record(id: string, projectRoot = APP): SessionRecord {
  return {
    version: 1,
    id,
    projectRoot,
    workdir: projectRoot,
    backend: 'podman',
    endpoint: 'unix:///run/user/1000/podman/podman.sock',
    startedAt: '2025-01-02T03:04:05.000Z',
    command: ['claude', '--continue'],
    policy: {
      mode: 'ask',
      approvalTimeoutSeconds: 30,
      allow: [
        { text: '@anthropic', source: 'provider' },
        { text: 'github.com', source: 'global' },
      ],
      deny: [{ text: 'gist.github.com', source: 'project' }],
    },
  };
}

let sessionsDir: string;

beforeEach(async () => {
  sessionsDir = join(await mkdtemp(join(tmpdir(), 'paude-sessions-')), 'sessions');
});

afterEach(async () => {
  await rm(join(sessionsDir, '..'), { recursive: true, force: true });
});

async function writeRaw(id: string, text: string): Promise<string> {
  const file = join(sessionsDir, id, 'session.json');
  await mkdir(join(sessionsDir, id), { recursive: true });
  await writeFile(file, text);
  return file;
}

function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

describe('session records on disk', () => {
  it('lists what was written, sorted by id', async () => {
    const b = record('paude-bbbbbb', OTHER);
    const a = record('paude-aaaaaa');
    await writeSessionRecord(sessionsDir, b);
    await writeSessionRecord(sessionsDir, a);
    await expect(listSessionRecords(sessionsDir)).resolves.toEqual({ records: [a, b], warnings: [] });
  });

  it('keeps a record private to the user (0600) in DATA/sessions/<id>/session.json', async () => {
    await writeSessionRecord(sessionsDir, record('paude-aaaaaa'));
    const file = join(sessionDir(sessionsDir, 'paude-aaaaaa'), 'session.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(record('paude-aaaaaa'));
  });

  it('replaces a record when it is written again', async () => {
    await writeSessionRecord(sessionsDir, record('paude-aaaaaa'));
    await writeSessionRecord(sessionsDir, { ...record('paude-aaaaaa'), workdir: `${APP}/web` });
    const { records } = await listSessionRecords(sessionsDir);
    expect(records.map((r) => r.workdir)).toEqual([`${APP}/web`]);
  });

  it('lists nothing, without a warning, when no session ever ran', async () => {
    await expect(listSessionRecords(sessionsDir)).resolves.toEqual({ records: [], warnings: [] });
  });

  it('skips, without a warning, sessions still starting (no session.json) and directories that are not session ids', async () => {
    await writeSessionRecord(sessionsDir, record('paude-aaaaaa'));
    await mkdir(join(sessionsDir, 'paude-starting'), { recursive: true });
    await writeRaw('notes', '{}');
    await writeRaw('PAUDE-ABCDEF', '{}');
    const { records, warnings } = await listSessionRecords(sessionsDir);
    expect(records.map((r) => r.id)).toEqual(['paude-aaaaaa']);
    expect(warnings).toEqual([]);
  });

  it('skips a corrupt record with one warning naming its file, and still lists the others', async () => {
    await writeSessionRecord(sessionsDir, record('paude-aaaaaa'));
    const file = await writeRaw('paude-broken', '{"version": 1, "id": "paude-bro');
    const { records, warnings } = await listSessionRecords(sessionsDir);
    expect(records.map((r) => r.id)).toEqual(['paude-aaaaaa']);
    expect(warnings).toEqual([`${file}: is not valid JSON; the session is shown from its engine labels only`]);
  });

  it('skips a record that does not match the schema with one warning naming the file and the field', async () => {
    await writeSessionRecord(sessionsDir, record('paude-aaaaaa'));
    const file = await writeRaw('paude-k8s123', JSON.stringify({ ...record('paude-k8s123'), backend: 'lxc' }));
    const { records, warnings } = await listSessionRecords(sessionsDir);
    expect(records.map((r) => r.id)).toEqual(['paude-aaaaaa']);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: backend: "lxc" is not allowed`));
    expect(warnings[0]).toMatch(/; the session is shown from its engine labels only$/);
  });

  it('refuses a record with a field it does not know (strict schema)', async () => {
    const file = await writeRaw('paude-extra1', JSON.stringify({ ...record('paude-extra1'), apiKey: 'sk-ant-x' }));
    const { records, warnings } = await listSessionRecords(sessionsDir);
    expect(records).toEqual([]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.startsWith(file)).toBe(true);
    expect(warnings[0]).toContain('apiKey');
  });
});

describe('resolveSession', () => {
  const records = [record('paude-ab12cd'), record('paude-ab34ef'), record('paude-xy7890', OTHER)];

  it('finds a session by its full id, or the id without "paude-"', () => {
    expect(resolveSession(records, 'paude-ab34ef').id).toBe('paude-ab34ef');
    expect(resolveSession(records, 'ab34ef').id).toBe('paude-ab34ef');
  });

  it('finds a session by a unique prefix, with or without "paude-"', () => {
    expect(resolveSession(records, 'x').id).toBe('paude-xy7890');
    expect(resolveSession(records, 'ab3').id).toBe('paude-ab34ef');
    expect(resolveSession(records, 'paude-ab1').id).toBe('paude-ab12cd');
  });

  it('prefers an exact id over a longer id it is a prefix of', () => {
    const rs = [record('paude-abcdefg'), record('paude-abcdef')];
    expect(resolveSession(rs, 'abcdef').id).toBe('paude-abcdef');
  });

  it('refuses an ambiguous prefix with a usage error listing the matches', () => {
    const error = thrown(() => resolveSession(records, 'ab'));
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(ExitCode.usage);
    expect(error.message).toBe('"ab" matches paude-ab12cd, paude-ab34ef; give more of the id');
  });

  it('names the running sessions when the id is unknown', () => {
    const error = thrown(() => resolveSession(records, 'zz'));
    expect(error).toBeInstanceOf(PaudeError);
    expect(error).not.toBeInstanceOf(UsageError);
    expect(error.message).toBe('no running session "zz" (running: paude-ab12cd, paude-ab34ef, paude-xy7890)');
  });

  it('says none is running when there are no sessions', () => {
    expect(thrown(() => resolveSession([], 'ab12cd')).message).toBe('no running session "ab12cd" (none is running)');
  });
});

describe('defaultSession', () => {
  it('picks the only session in this project, even when others run elsewhere', () => {
    const rs = [record('paude-aaaaaa', OTHER), record('paude-bbbbbb', APP), record('paude-cccccc', OTHER)];
    expect(defaultSession(rs, APP).id).toBe('paude-bbbbbb');
  });

  it('picks the only session at all when none is in this project', () => {
    expect(defaultSession([record('paude-aaaaaa', OTHER)], APP).id).toBe('paude-aaaaaa');
  });

  it('asks for --session when this project has several', () => {
    const rs = [record('paude-aaaaaa', APP), record('paude-bbbbbb', APP), record('paude-cccccc', OTHER)];
    const error = thrown(() => defaultSession(rs, APP));
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toBe('several sessions are running (paude-aaaaaa, paude-bbbbbb); name one with --session');
  });

  it('asks for --session when none is in this project and several run elsewhere', () => {
    const rs = [record('paude-aaaaaa', OTHER), record('paude-bbbbbb', '/srv/x')];
    const error = thrown(() => defaultSession(rs, APP));
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toContain('--session');
    expect(error.message).toContain('paude-aaaaaa, paude-bbbbbb');
  });

  it('says so when no session is running', () => {
    const error = thrown(() => defaultSession([], APP));
    expect(error).toBeInstanceOf(PaudeError);
    expect(error.message).toBe('no session is running; start one with paude, or name one with --session');
  });
});

/** Problems found by test/fuzz/session-refs.test.ts and fixed; these keep them fixed. */
describe('session references: regressions', () => {
  // The reference was put in the message between plain quotes, so `paude blocked $'a\nb'` (or an
  // escape sequence) split the message or reached the terminal raw.
  it('quotes a reference with a newline or an escape so the message stays one line', () => {
    expect(thrown(() => resolveSession([record('paude-ab12cd')], 'zz\n\u001b[2J')).message).toBe('no running session "zz\\n\\u001b[2J" (running: paude-ab12cd)');
    expect(thrown(() => resolveSession([record('paude-ab12cd'), record('paude-ab34ef')], 'ab\u0085')).message).toBe('no running session "ab\\u0085" (running: paude-ab12cd, paude-ab34ef)');
  });

  // An empty id was read as "no id given", so readSessionRecord(dir, '') (paude _keeper '') gave
  // the first session's record.
  it('finds no record for an empty id, even when sessions exist', async () => {
    await writeSessionRecord(sessionsDir, record('paude-ab12cd'));
    expect(await listSessionRecords(sessionsDir, '')).toEqual({ records: [], warnings: [] });
    expect(await readSessionRecord(sessionsDir, '')).toBeUndefined();
    expect(await readSessionRecord(sessionsDir, 'paude-ab12cd')).toEqual(record('paude-ab12cd'));
  });
});
