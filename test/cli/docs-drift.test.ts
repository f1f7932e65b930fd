/** The README, docs and generated files say what the code does. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { paudeJsonSchema } from '../../src/config/json-schema.js';
import { GENERATED_DOCS, refreshGeneratedDocs } from '../../src/config/reference.js';
import { runPaude } from '../support/run-cli.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (p: string): string => readFileSync(root + p, 'utf8');

describe('docs', () => {
  it.each(GENERATED_DOCS)('%s has an up-to-date generated block (run npm run docs:config)', (file) => {
    const doc = read(file);
    expect(doc).toMatch(/:begin/);
    expect(refreshGeneratedDocs(doc)).toBe(doc);
  });

  it('ships the JSON Schema generated from the zod schema', () => {
    expect(JSON.parse(read('assets/paude.schema.json'))).toEqual(paudeJsonSchema());
  });

  it('starts the README with the main job and the test command, and CI runs that test command', () => {
    const block = /```sh\n([\s\S]*?)```/.exec(read('README.md'))?.[1] ?? '';
    const commands = block.split('\n').filter(Boolean).map((l) => l.replace(/\s+#.*$/, '').trim());
    expect(commands).toHaveLength(2);
    expect(commands[1]).toBe('npm test');
    const ci = read('.ci/run');
    expect(ci).toMatch(new RegExp(`^${commands[1]} </dev/null$`, 'm'));
  });

  it('lists in the README exactly the commands paude --help lists', async () => {
    const help = await runPaude(['--help'], { cwd: root });
    const helpCommands = [...help.stdout.split('Commands:')[1]!.matchAll(/^ {2}(\w[\w-]*)/gm)].map((m) => m[1]).filter((c) => c !== 'help');
    const readmeCommands = [...read('README.md').matchAll(/^\| `paude (\w[\w-]*)/gm)].map((m) => m[1]);
    expect(new Set(readmeCommands)).toEqual(new Set(helpCommands));
  });
});
