/** The layer check `npm run lint` runs (scripts/check-layers.mjs): fed trees with an upward import and a cycle, and the real src/. */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPT = join(root, 'scripts/check-layers.mjs');
const dirs: string[] = [];

async function tree(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'paude-layers-'));
  dirs.push(dir);
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  return dir;
}

async function check(dir: string): Promise<{ code: number; stderr: string }> {
  try {
    const r = await run(process.execPath, [SCRIPT, dir]);
    return { code: 0, stderr: r.stderr };
  } catch (error) {
    const e = error as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr };
  }
}

afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('layer check', () => {
  it('passes a tree whose imports go down or sideways, and type-only imports both ways', async () => {
    const dir = await tree({
      'errors.ts': 'export const E = 1;\n',
      'config/a.ts': "import { E } from '../errors.js';\nexport const A = E;\n",
      'policy/b.ts': "import { A } from '../config/a.js';\nimport type { C } from './c.js';\nexport const B: C = A;\n",
      'policy/c.ts': "import type { B } from './b.js';\nexport type C = typeof B;\n",
      'policy/b.test.ts': "import { X } from '../cli/x.js';\n",
      'cli/x.ts': "import { B } from '../policy/b.js';\nexport const X = B;\n",
    });
    expect(await check(dir)).toEqual({ code: 0, stderr: '' });
  });

  it('fails on an upward import, naming the file, the import and both layers', async () => {
    const dir = await tree({
      'config/a.ts': "import { B } from '../policy/b.js';\nexport const A = B;\n",
      'policy/b.ts': 'export const B = 1;\n',
    });
    const r = await check(dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('layers: config/a.ts imports policy/b.ts: config/ (layer 1) may not import policy/ (layer 2), a higher layer\n');
  });

  it('fails on an import cycle, also within one folder and through export ... from', async () => {
    const dir = await tree({
      'policy/a.ts': "import { B } from './b.js';\nexport const A = () => B;\n",
      'policy/b.ts': "export { C as B } from './c.js';\n",
      'policy/c.ts': "import { A } from './a.js';\nexport const C = () => A;\n",
    });
    const r = await check(dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('layers: import cycle: policy/a.ts -> policy/b.ts -> policy/c.ts -> policy/a.ts\n');
  });

  it('fails on a folder that is in no layer', async () => {
    const dir = await tree({ 'gadgets/g.ts': "import { E } from '../errors.js';\nexport const G = E;\n", 'errors.ts': 'export const E = 1;\n' });
    const r = await check(dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('gadgets/g.ts: its folder gadgets/ is in no layer');
  });

  it('finds nothing wrong in paude itself', async () => {
    expect(await check(join(root, 'src'))).toEqual({ code: 0, stderr: '' });
  });
});
