/** What every benchmark gets, and the per-engine loop most of them share. */
import type { BenchEngine, EngineProbe } from './engines.js';
import type { RootlessProbe } from './rootless.js';
import { row, type Row } from './table.js';

export interface BenchContext {
  /** Few iterations: keeps the benchmarks working in CI, measures nothing worth comparing. */
  smoke: boolean;
  engines: EngineProbe[];
  /** The rootless Podman of a normal user, for the benchmarks that measure it too (P1). */
  rootless?: RootlessProbe;
  /** Progress, to stderr (stdout is the table). */
  log(line: string): void;
  /** Errors so far; in smoke mode any of them fails the run. */
  errors: Array<{ benchmark: string; engine: string; error: unknown }>;
}

export interface Benchmark {
  /** Selects it with --only. */
  id: string;
  run(ctx: BenchContext): Promise<Row[]>;
}

/** Runs `body` on each engine in turn; an engine that is missing or fails gives a row that says so. */
export async function perEngine(ctx: BenchContext, benchmark: string, body: (b: BenchEngine) => Promise<Row[]>): Promise<Row[]> {
  const rows: Row[] = [];
  for (const probe of ctx.engines) {
    if (!probe.available) {
      rows.push(row({ benchmark, engine: probe.name, target: '-', runs: 0, note: `not run: ${probe.reason}` }));
      continue;
    }
    rows.push(...(await guarded(ctx, benchmark, probe.name, () => body(probe.bench))));
  }
  return rows;
}

/** A benchmark that throws becomes an error row (and an error the runner counts). */
export async function guarded(ctx: BenchContext, benchmark: string, engine: string, body: () => Promise<Row[]>): Promise<Row[]> {
  try {
    return await body();
  } catch (error) {
    ctx.errors.push({ benchmark, engine, error });
    const message = error instanceof Error ? error.message : String(error);
    ctx.log(`${benchmark} [${engine}] failed: ${error instanceof Error ? (error.stack ?? message) : message}`);
    return [row({ benchmark, engine, target: '-', runs: 0, ok: false, note: `error: ${message.split('\n')[0]?.slice(0, 100) ?? ''}` })];
  }
}
