/**
 * Fuzz: allowlist and denylist entries as people type them, into `paude allow` / `paude deny`,
 * --network-allow and the dashboard's editor. Each is refused in one line, or becomes a rule
 * whose canonical text reads back as the same rule and whose lines in the proxy's rules file
 * follow the grammar. squid.conf holds no entries (squid-config.ts): every rule reaches the
 * proxy through the rules file, which is what is checked here.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkNetworkFlag } from '../../src/cli/flags.js';
import { runCli, type CliContext } from '../../src/cli/program.js';
import { ConfigError, ExitCode, UsageError } from '../../src/errors.js';
import { EntryList, compileEntries } from '../../src/policy/effective-policy.js';
import { ENTRY_EXPECTATION, formatNetworkRule, parseNetworkEntry } from '../../src/config/network-entry.js';
import { quote } from '../../src/errors.js';
import { canonicalEntry } from '../../src/policy/policy-stores.js';
import { renderPolicyRules } from '../../src/policy/policy-rules.js';
import { isStrictCanonical, strangeRulesLines } from '../support/proxy-grammar.js';
import { RUNS, TIMEOUT, anyText, entryish, notOneLine, outcomes } from './arbitraries.js';

/** The refusal every front end shows: the entry, quoted, what is wrong, and the accepted forms. */
function expectEntryRefusal(message: string, raw: string): void {
  expect(notOneLine(message), message).toBeUndefined();
  expect(message.startsWith(`${quote(raw)} `), message).toBe(true);
  expect(message.endsWith(` (${ENTRY_EXPECTATION})`), message).toBe(true);
}

describe('allowlist entries: fuzz', () => {
  it('every entry is refused in one line, or becomes a canonical rule that reads back the same and renders as grammar lines in allow and deny', () => {
    const seen = outcomes();
    fc.assert(
      fc.property(entryish, (raw) => {
        let text: string;
        try {
          text = canonicalEntry(raw);
        } catch (error) {
          if (!(error instanceof ConfigError)) throw error;
          expectEntryRefusal(error.message, raw);
          // --network-allow refuses it with the same words.
          expect(() => checkNetworkFlag(raw)).toThrow(new UsageError(`--network-allow: ${error.message}`));
          seen.count('refused');
          return;
        }
        expect(() => checkNetworkFlag(raw)).not.toThrow();
        expect(isStrictCanonical(text), text).toBe(true);
        const rule = parseNetworkEntry(raw);
        expect(parseNetworkEntry(text)).toEqual(rule);
        expect(canonicalEntry(text)).toBe(text);
        if (rule.ok) expect(formatNetworkRule(rule.rule)).toBe(text);

        const allow = new EntryList();
        const deny = new EntryList();
        allow.add(raw, 'session');
        deny.add(raw, 'session');
        const rules = renderPolicyRules({ mode: 'ask', allow: allow.entries, deny: deny.entries, approvalTimeoutSeconds: 30 });
        expect(strangeRulesLines(rules), rules).toEqual([]);
        const lines = rules.trimEnd().split('\n').slice(3);
        expect(lines).toHaveLength(compileEntries(allow.entries, 'allow').length + compileEntries(deny.entries, 'deny').length);
        // Every line says which entry it comes from, in its canonical text.
        for (const line of lines) expect(line.split(' ')[4]).toBe(text);
        seen.count(rule.ok ? rule.rule.kind : 'accepted');
      }),
      { numRuns: RUNS },
    );
    seen.expectEach(100, 'refused', 'host', 'subdomains', 'domain', 'ip', 'group');
  }, TIMEOUT);

  describe('on the command line', () => {
    /** Entries, and now and then a word that looks like an option. */
    const typed = fc.oneof({ weight: 9, arbitrary: entryish }, { weight: 1, arbitrary: fc.tuple(fc.constantFrom('-', '--'), anyText(12)).map(([dash, rest]) => dash + rest) });
    let dir: string;
    let ctx: CliContext & { err: () => string };
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'paude-fuzz-allow-'));
      let err = '';
      const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
      const stderr = new Writable({
        write: (chunk: Buffer, _encoding, done) => {
          err += chunk.toString();
          done();
        },
      });
      ctx = {
        cwd: dir,
        env: { PAUDE_CONFIG_DIR: join(dir, 'config'), PAUDE_DATA_DIR: join(dir, 'data'), PAUDE_CACHE_DIR: join(dir, 'cache') },
        stdout: sink,
        stderr,
        stdin: process.stdin,
        err: () => {
          const text = err;
          err = '';
          return text;
        },
      };
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('paude allow and paude deny answer any entry, typed with or without "--" before it, with one line: what is wrong, or that no session is running', async () => {
      const seen = outcomes();
      await fc.assert(
        fc.asyncProperty(fc.constantFrom('allow', 'deny'), typed, fc.boolean(), async (command, raw, separator) => {
          const code = await runCli(separator ? [command, '--', raw] : [command, raw], ctx);
          const stderr = ctx.err();
          if (code === ExitCode.ok) {
            // `paude allow --help` (or -h) asks for help, which goes to stdout.
            expect(['-h', '--help']).toContain(raw);
            expect(stderr).toBe('');
            return;
          }
          expect(stderr.endsWith('\n'), stderr).toBe(true);
          const message = stderr.slice(0, -1);
          expect(notOneLine(message), stderr).toBeUndefined();
          expect(message.startsWith('paude: '), stderr).toBe(true);
          // Without "--", commander takes most words that start with "-" for options (not "-1"): a usage error.
          if (!separator && raw.startsWith('-') && code === ExitCode.usage) {
            seen.count('an option');
            return;
          }
          if (parseNetworkEntry(raw).ok) {
            expect(code).toBe(ExitCode.failure);
            expect(message).toBe('paude: no session is running; start one with paude, or name one with --session');
            seen.count('valid');
            return;
          }
          expect(code).toBe(ExitCode.config);
          expectEntryRefusal(message.slice('paude: '.length), raw);
          seen.count('refused');
        }),
        { numRuns: RUNS },
      );
      seen.expectEach(100, 'an option', 'valid', 'refused');
    }, TIMEOUT);
  });
});
