/**
 * P6: CLI cold start, `paude --version`, `paude config path --json` and `paude sessions --json`
 * (on each engine, which it asks for its sessions) vs `node -e 0`, each a fresh process.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
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
        const commands: Record<string, { args: string[]; env: NodeJS.ProcessEnv }> = {
          node: { args: ['-e', '0'], env },
          version: { args: [PAUDE_BIN, '--version'], env },
          configPath: { args: [PAUDE_BIN, 'config', 'path', '--json'], env },
        };
        // `paude sessions --json` on each engine there is, with a configuration of its own.
        const engines = ctx.engines.flatMap((e) => (e.available ? [{ name: e.name, socket: e.bench.socketPath }] : []));
        for (const e of engines) {
          const config = join(dir, `config-${e.name}`);
          await mkdir(config, { recursive: true });
          await writeFile(join(config, 'paude.json'), JSON.stringify({ backend: e.name === 'podman' ? { type: 'podman', podman: { socket: `unix://${e.socket}` } } : { type: 'docker', docker: { host: `unix://${e.socket}` } } }));
          commands[`sessions-${e.name}`] = { args: [PAUDE_BIN, 'sessions', '--json'], env: { ...env, PAUDE_CONFIG_DIR: config } };
        }
        const times: Record<string, number[]> = Object.fromEntries(Object.keys(commands).map((name) => [name, []]));
        // Interleaved, so each command sees the same machine.
        for (let i = 0; i < runs + 1; i++) {
          for (const [name, c] of Object.entries(commands)) {
            const ms = spawnMs(c.args, c.env, dir);
            if (i > 0) times[name]?.push(ms);
          }
        }
        ctx.log(`P6: ${runs} runs each`);
        const at = (name: string): number[] => times[name] ?? [];
        const base = median(at('node'));
        return [
          row({
            benchmark: 'P6 paude --version',
            engine: '-',
            figure: { value: median(at('version')), unit: 'ms' },
            baseline: { value: base, unit: 'ms' },
            target: '<= 3x',
            ok: median(at('version')) <= 3 * base,
            runs,
            details: { nodeMs: at('node'), versionMs: at('version') },
          }),
          row({
            benchmark: 'P6 paude config path --json',
            engine: '-',
            figure: { value: median(at('configPath')), unit: 'ms' },
            baseline: { value: base, unit: 'ms' },
            target: '-',
            runs,
            details: { configPathMs: at('configPath') },
          }),
          ...engines.map((e) =>
            row({
              benchmark: 'P6 paude sessions --json',
              engine: e.name,
              figure: { value: median(at(`sessions-${e.name}`)), unit: 'ms' },
              baseline: { value: base, unit: 'ms' },
              target: '-',
              runs,
              details: { sessionsMs: at(`sessions-${e.name}`) },
            }),
          ),
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
