import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../errors.js';
import { runCli } from './program.js';

/** Runs the CLI in this process with no configuration or data, and returns its exit code and stderr. */
async function run(argv: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const code = await runCli(argv, {
    cwd: '/nonexistent/paude-cli-test',
    env: { PAUDE_CONFIG_DIR: '/nonexistent/paude-cli-test/config', PAUDE_DATA_DIR: '/nonexistent/paude-cli-test/data', PAUDE_CACHE_DIR: '/nonexistent/paude-cli-test/cache' },
    stdout: new Writable({ write: (_chunk, _encoding, done) => done() }),
    stderr: new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        stderr += chunk.toString();
        done();
      },
    }),
    stdin: process.stdin,
  });
  return { code, stderr };
}

/** Problems found by test/fuzz and fixed; these keep them fixed. */
describe('runCli: regressions', () => {
  // Commander quotes a mistyped option as it was typed, so `paude allow $'-x\nhttp_access allow all'`
  // printed two lines, and its "(Did you mean ...?)" always went on a second line.
  it('reports an unknown option that contains a newline or an escape on one line, with the newline escaped', async () => {
    expect(await run(['allow', '-x\nhttp_access allow all'])).toEqual({ code: ExitCode.usage, stderr: "paude: unknown option '-x\\nhttp_access allow all'\n" });
    expect(await run(['allow', '-\u001b[2J\u0085'])).toEqual({ code: ExitCode.usage, stderr: "paude: unknown option '-\\u001b[2J\\u0085'\n" });
  });

  it('quotes a bad option value with a newline or an escape, so the message stays one line', async () => {
    const bad = '1\nhttp_access allow all\u001b[2J';
    const shown = '"1\\nhttp_access allow all\\u001b[2J"';
    for (const argv of [['stop', '--time', bad, 'paude-abc123'], ['audit', '--since', bad], ['audit', '--event', bad], ['approve', 'x', '--scope', bad]]) {
      const r = await run(argv);
      expect(r.code, argv.join(' ')).toBe(ExitCode.usage);
      expect(r.stderr, argv.join(' ')).toContain(shown);
      expect(r.stderr.split('\n'), argv.join(' ')).toHaveLength(2);
    }
  });

  it('keeps the "did you mean" suggestion on the same line as the error', async () => {
    expect(await run(['allow', '--sesion', 'x'])).toEqual({ code: ExitCode.usage, stderr: "paude: unknown option '--sesion' (Did you mean --session?)\n" });
  });
});
