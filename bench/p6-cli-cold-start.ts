/** P6: CLI cold start, `paude --version` and `paude config path --json` vs `node -e 0`, each a fresh process. */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { guarded, type Benchmark } from './context.js';
import { median } from './stats.js';
import { row } from './table.js';

export const PAUDE_BIN = fileURLToPath(new URL('../bin/paude.js', import.meta.url));

export const p6CliColdStart: Benchmark = {
  id: 'p6',
  run: (ctx) =>
    guarded(ctx, 'P6 CLI cold start', '-', async () => {
      const runs = ctx.smoke ? 3 : 30;
      const dir = await mkdtemp(join(tmpdir(), 'paude-bench-cli-'));
      try {
        const env = { PATH: process.env.PATH, HOME: dir, PAUDE_CONFIG_DIR: join(dir, 'config'), PAUDE_DATA_DIR: join(dir, 'data'), PAUDE_CACHE_DIR: join(dir, 'cache') };
        const commands = { node: ['-e', '0'], version: [PAUDE_BIN, '--version'], configPath: [PAUDE_BIN, 'config', 'path', '--json'] };
        const times: Record<keyof typeof commands, number[]> = { node: [], version: [], configPath: [] };
        // Interleaved, so each command sees the same machine.
        for (let i = 0; i < runs + 1; i++) {
          for (const [name, args] of Object.entries(commands) as Array<[keyof typeof commands, string[]]>) {
            const ms = spawnMs(args, env, dir);
            if (i > 0) times[name].push(ms);
          }
        }
        ctx.log(`P6: ${runs} runs each`);
        const base = median(times.node);
        return [
          row({
            benchmark: 'P6 paude --version',
            engine: '-',
            figure: { value: median(times.version), unit: 'ms' },
            baseline: { value: base, unit: 'ms' },
            target: '<= 3x',
            ok: median(times.version) <= 3 * base,
            runs,
            details: { nodeMs: times.node, versionMs: times.version },
          }),
          row({
            benchmark: 'P6 paude config path --json',
            engine: '-',
            figure: { value: median(times.configPath), unit: 'ms' },
            baseline: { value: base, unit: 'ms' },
            target: '-',
            runs,
            details: { configPathMs: times.configPath },
          }),
        ];
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }),
};

/** Wall time of one process from spawn to exit; a failure is an error. */
function spawnMs(args: string[], env: NodeJS.ProcessEnv, cwd: string): number {
  const start = performance.now();
  const r = spawnSync(process.execPath, args, { env, cwd, encoding: 'utf8' });
  const ms = performance.now() - start;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status ?? r.signal}: ${r.stderr.trim().slice(-300)}`);
  return ms;
}
