/**
 * Fuzz: session ids and prefixes as users type them (`paude attach/stop/rm/sync/blocked/audit
 * ID`, `--session ID`). A reference picks one of the sessions paude knows, whose id is the only
 * thing that then reaches a path, an engine's label filter or squid.conf; or it is refused in
 * one line that shows what was typed. Nothing typed becomes a path of its own.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pickSession } from '../../src/cli/commands/audit.js';
import { PaudeError, UsageError } from '../../src/errors.js';
import { quote } from '../../src/errors.js';
import { DEFAULT_BLOCKED_DESTINATIONS, SESSION_ID, renderSquidConfig } from '../../src/policy/squid-config.js';
import { listSessionRecords, readSessionRecord, resolveSession, sessionDir, type SessionRecord } from '../../src/sessions/session-record.js';
import { SessionService, type SessionView } from '../../src/sessions/session-service.js';
import { strangeSquidConfLines } from '../support/proxy-grammar.js';
import { RUNS, TIMEOUT, anyText, insertAt, notOneLine, outcomes, trouble } from './arbitraries.js';

/** Ids from a four-letter alphabet, so that prefixes are often shared. */
const sessionId = fc.array(fc.constantFrom('a', 'b', '1', '2'), { minLength: 4, maxLength: 7 }).map((chars) => `paude-${chars.join('')}`);

/** What someone might type for a session: an id, a prefix with or without "paude-", a near miss, a traversal, or anything. */
function refFor(ids: readonly string[]): fc.Arbitrary<string> {
  const known = ids.length > 0 ? fc.constantFrom(...ids) : sessionId;
  return fc.oneof(
    known,
    fc.tuple(known, fc.nat(), fc.boolean()).map(([id, cut, short]) => (short ? id.slice('paude-'.length) : id).slice(0, 1 + (cut % id.length))),
    fc.tuple(known, trouble, fc.nat()).map(([id, bad, at]) => insertAt(id, bad, at)),
    sessionId,
    fc.constantFrom('', '..', '../..', '/', '.', 'paude-', 'paude-../../etc', '../sessions/paude-aaaa', '*', 'paude-*', '\u0000', '%2e%2e', '-1', 'PAUDE-AAAA'),
    anyText(24),
  );
}

const sessionsAndRef = fc.uniqueArray(sessionId, { maxLength: 4 }).chain((ids) => fc.tuple(fc.constant(ids), refFor(ids)));

function record(id: string): SessionRecord {
  return {
    version: 1,
    id,
    projectRoot: '/work/project',
    workdir: '/work/project',
    backend: 'podman',
    endpoint: 'unix:///run/podman/podman.sock',
    startedAt: '2026-11-27T08:00:00.000Z',
    command: ['claude'],
    policy: { mode: 'restricted', approvalTimeoutSeconds: 30, allow: [], deny: [] },
  };
}

/** What a reference must mean: the exact id, else the one id it is a prefix of (with "paude-" added when missing). */
function meant(ids: readonly string[], ref: string): string | undefined {
  const wanted = ref.startsWith('paude-') ? ref : `paude-${ref}`;
  if (ids.includes(wanted)) return wanted;
  const matches = ids.filter((id) => id.startsWith(wanted));
  return matches.length === 1 ? matches[0] : undefined;
}

/** A refusal shows what was typed, quoted, in one line. */
function expectRefusal(error: unknown, ref: string): void {
  if (!(error instanceof PaudeError)) throw new Error(`expected a PaudeError, got ${String(error)}`, { cause: error });
  expect(notOneLine(error.message), error.message).toBeUndefined();
  expect(error.message).toContain(quote(ref));
}

/** A session that is picked is one of those offered, and its directory is a child of the sessions directory. */
function expectKnownSession(id: string, ids: readonly string[], ref: string): void {
  expect(ids).toContain(id);
  expect(id).toBe(meant(ids, ref));
  expect(id).toMatch(SESSION_ID);
  const dir = sessionDir('/data/sessions', id);
  expect(dirname(dir)).toBe('/data/sessions');
  expect(basename(dir)).toBe(id);
}

describe('session references: fuzz', () => {
  it('resolveSession (allow/deny --session, blocked) picks the one recorded session a reference means, or refuses in one line quoting it', () => {
    const seen = outcomes();
    fc.assert(
      fc.property(sessionsAndRef, ([ids, ref]) => {
        const records = ids.map(record);
        try {
          const picked = resolveSession(records, ref);
          expect(records).toContain(picked);
          expectKnownSession(picked.id, ids, ref);
          seen.count(picked.id === ref ? 'picked by id' : 'picked by prefix');
        } catch (error) {
          expect(meant(ids, ref)).toBeUndefined();
          expectRefusal(error, ref);
          seen.count(error instanceof UsageError ? 'ambiguous' : 'unknown');
        }
      }),
      { numRuns: RUNS },
    );
    seen.expectEach(100, 'picked by id', 'picked by prefix', 'ambiguous', 'unknown');
  }, TIMEOUT);

  it('SessionService.find (attach, stop, rm, sync) picks the one listed session a reference means, or refuses in one line quoting it', async () => {
    const views: SessionView[] = [];
    const service = new (class extends SessionService {
      // The engines' answer, without engines: the sessions of this case.
      override list(): ReturnType<SessionService['list']> {
        const listed = { sessions: views, unreachable: [], warnings: [], reached: 1 };
        return Promise.resolve(listed);
      }
    })({ configDir: '/x', dataDir: '/x', cacheDir: '/x', globalConfigFile: '/x/paude.json', trustFile: '/x/trust.json', sessionsDir: '/x/sessions', watchersDir: '/x/watchers' }, { type: 'auto' }, {});
    await fc.assert(
      fc.asyncProperty(sessionsAndRef, async ([ids, ref]) => {
        views.splice(0, views.length, ...ids.map((id): SessionView => ({ id, status: 'detached', backend: 'podman', endpoint: 'unix:///run/podman/podman.sock', blocked: 0 })));
        try {
          const picked = await service.find(ref);
          expect(views).toContain(picked);
          expectKnownSession(picked.id, ids, ref);
        } catch (error) {
          expect(meant(ids, ref)).toBeUndefined();
          expectRefusal(error, ref);
        }
      }),
      { numRuns: RUNS },
    );
  }, TIMEOUT);

  it('paude audit picks the one session the log knows that a reference means, or refuses in one line quoting it', () => {
    fc.assert(
      fc.property(sessionsAndRef, ([ids, ref]) => {
        try {
          expectKnownSession(pickSession(ref, [...ids]), ids, ref);
        } catch (error) {
          expect(meant(ids, ref)).toBeUndefined();
          expectRefusal(error, ref);
        }
      }),
      { numRuns: RUNS },
    );
  }, TIMEOUT);

  describe('an id straight from the command line', () => {
    let data: string;
    let sessions: string;
    const REAL = 'paude-real01';
    beforeAll(async () => {
      data = await mkdtemp(join(tmpdir(), 'paude-fuzz-sessions-'));
      sessions = join(data, 'sessions');
      await mkdir(join(sessions, REAL), { recursive: true });
      await writeFile(join(sessions, REAL, 'session.json'), JSON.stringify(record(REAL)));
      // Records where a reference that escaped the sessions directory would find them.
      for (const dir of [data, join(data, 'x'), join(sessions, 'x'), join(sessions, REAL, 'x')]) {
        await mkdir(dir, { recursive: true });
        await writeFile(join(dir, 'session.json'), JSON.stringify(record('paude-decoy1')));
      }
    });
    afterAll(async () => {
      await rm(data, { recursive: true, force: true });
    });

    const ids = fc.oneof(refFor([REAL]), fc.constantFrom('../session.json/..', '..', '../x', 'x', `${REAL}/x`, `${REAL}/..`, `${REAL}/../${REAL}`, `${REAL}\u0000`));

    it('reads a session record only at <sessions>/<id> for a well-formed id, and renders squid.conf for well-formed ids only, in its grammar', async () => {
      const seen = outcomes();
      await fc.assert(
        fc.asyncProperty(ids, async (id) => {
          const read = await readSessionRecord(sessions, id);
          const listed = await listSessionRecords(sessions, id);
          if (id === REAL) {
            expect(read?.id).toBe(REAL);
            expect(listed.records.map((r) => r.id)).toEqual([REAL]);
            seen.count('read');
          } else {
            expect(read).toBeUndefined();
            expect(listed).toEqual({ records: [], warnings: [] });
          }
          let conf: string;
          try {
            conf = renderSquidConfig({
              sessionId: id,
              agentAddress: '127.0.0.1',
              listenPort: 3128,
              stateDir: '/run/paude',
              helperPath: '/usr/lib/paude/policy-helper',
              errorDirectory: '/etc/paude/squid-errors',
              blockedDestinations: DEFAULT_BLOCKED_DESTINATIONS,
            });
          } catch (error) {
            expect(SESSION_ID.test(id)).toBe(false);
            expect((error as Error).message).toMatch(/^refusing to render squid\.conf: invalid session id /);
            return;
          }
          expect(id).toMatch(SESSION_ID);
          expect(strangeSquidConfLines(conf)).toEqual([]);
          seen.count('rendered');
        }),
        { numRuns: RUNS },
      );
      seen.expectEach(100, 'read', 'rendered');
    }, TIMEOUT);
  });
});
