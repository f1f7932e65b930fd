/**
 * `npm run bench [-- --smoke] [-- --only p4,p7]`: runs the benchmarks one after another on a
 * quiet machine (images are built first), prints one table, and writes the rows with their
 * samples and the machine to bench/results/<timestamp>.json. Missed targets are reported, not
 * failed; in --smoke mode a benchmark that throws makes the exit code 1.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, hostname, release, totalmem } from 'node:os';
import type { BenchContext, Benchmark } from './context.js';
import { openEngine, type EngineProbe } from './engines.js';
import { openRootless } from './rootless.js';
import { eventsThroughput } from './events-throughput.js';
import { p1WarmStart } from './p1-warm-start.js';
import { p1bFirstScreen } from './p1b-first-screen.js';
import { p4ProxyLatency } from './p4-proxy-latency.js';
import { p2Attach } from './p2-attach.js';
import { p6CliColdStart } from './p6-cli-cold-start.js';
import { p7PolicyReload } from './p7-policy-reload.js';
import { p8ColdFirstRun } from './p8-cold-first-run.js';
import { p5Dashboard } from './p5-dashboard.js';
import { scaling } from './scaling.js';
import { renderTable, type Row } from './table.js';

// Engine-free ones first; P1 before the network sandbox is up, so nothing else runs beside it.
const BENCHMARKS: Benchmark[] = [p6CliColdStart, eventsThroughput, p5Dashboard, p1WarmStart, p1bFirstScreen, p2Attach, p4ProxyLatency, p7PolicyReload, p8ColdFirstRun, scaling];
// What each needs built; P6 only asks an engine for its sessions.
const NEEDS = { engine: ['p6'], proxy: ['p1', 'p1b', 'p2', 'p4', 'p7', 'p8', 'scaling'], agent: ['p1', 'p1b', 'p2', 'p8', 'scaling'], rootless: ['p1'] };

async function main(argv: string[]): Promise<number> {
  const smoke = argv.includes('--smoke');
  const onlyArg = argv.find((a) => a.startsWith('--only'));
  const only = onlyArg === undefined ? undefined : (onlyArg.includes('=') ? onlyArg.split('=')[1] : argv[argv.indexOf(onlyArg) + 1])?.split(',');
  const selected = BENCHMARKS.filter((b) => !only || only.includes(b.id));
  if (argv.includes('--help') || selected.length === 0) {
    console.log(`usage: npm run bench -- [--smoke] [--only ${BENCHMARKS.map((b) => b.id).join(',')}]`);
    return selected.length === 0 ? 2 : 0;
  }
  const log = (line: string): void => void process.stderr.write(`bench: ${line}\n`);
  const startedAt = new Date();
  const runId = `${startedAt.getTime().toString(36)}${randomBytes(2).toString('hex')}`;
  const usesEngines = selected.some((b) => NEEDS.proxy.includes(b.id) || NEEDS.engine.includes(b.id));
  const engines: EngineProbe[] = usesEngines ? await Promise.all([openEngine('podman', runId, log), openEngine('docker', runId, log)]) : [];
  const rootless = selected.some((b) => NEEDS.rootless.includes(b.id)) ? await openRootless(runId, log) : undefined;
  const ctx: BenchContext = { smoke, engines, log, errors: [], ...(rootless ? { rootless } : {}) };
  if (rootless && !rootless.available) {
    log(`rootless Podman not available: ${rootless.reason}`);
    if (process.env.CI) ctx.errors.push({ benchmark: 'engines', engine: 'podman rootless', error: new Error(rootless.reason) });
  }
  // Each engine's images and cleanups, the rootless one's included.
  const built: EngineProbe[] = rootless?.available ? [...engines, rootless.probe] : engines;
  for (const e of engines) {
    if (!e.available) {
      log(`${e.name} not available: ${e.reason}`);
      if (process.env.CI) ctx.errors.push({ benchmark: 'engines', engine: e.name, error: new Error(e.reason) });
    }
  }

  let interrupted = false;
  const cleanup = async (): Promise<void> => {
    for (const e of built) {
      if (!e.available) continue;
      try {
        await e.bench.cleanup();
      } catch (error) {
        ctx.errors.push({ benchmark: 'cleanup', engine: e.name, error });
        const causes = error instanceof AggregateError ? error.errors.map((x: unknown) => `\n  - ${x instanceof Error ? x.message : String(x)}`).join('') : '';
        log(`cleanup on ${e.name} failed: ${String(error)}${causes}`);
      }
    }
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) return;
    interrupted = true;
    log(`${signal}: removing what this run created`);
    void cleanup().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const rows: Row[] = [];
  try {
    // Images first, on both engines at once, so no build runs beside a measurement.
    const ids = selected.map((b) => b.id);
    await Promise.allSettled(
      built.flatMap((e) =>
        e.available ? [...(ids.some((id) => NEEDS.proxy.includes(id)) ? [e.bench.proxyImage()] : []), ...(ids.some((id) => NEEDS.agent.includes(id)) ? [e.bench.agentImage()] : [])] : [],
      ),
    );
    for (const b of selected) {
      const started = Date.now();
      log(`${b.id}: running${smoke ? ' (smoke)' : ''}`);
      rows.push(...(await b.run(ctx)));
      log(`${b.id}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
  } finally {
    await cleanup();
  }

  const table = renderTable(rows);
  const footer = `${smoke ? 'SMOKE run: figures are not meaningful. ' : ''}Medians over n runs; ratio = figure / baseline. ${hostname()}, ${cpus().length} x ${cpus()[0]?.model ?? '?'}.`;
  console.log(table);
  console.log(`\n${footer}`);
  const versions: Array<[string, EngineProbe]> = [...engines.map((e): [string, EngineProbe] => [e.name, e]), ...(rootless?.available ? [['podman rootless', rootless.probe] as [string, EngineProbe]] : [])];
  const file = await writeResults(startedAt, smoke, versions, rows, { table, footer, full: !smoke && only === undefined });
  console.log(`results: ${file}`);
  for (const e of ctx.errors) log(`error in ${e.benchmark} [${e.engine}]: ${e.error instanceof Error ? e.error.message : String(e.error)}`);
  return smoke && ctx.errors.length > 0 ? 1 : 0;
}

/**
 * bench/results/<timestamp>.json for every run (git-ignored); a full run (every benchmark, not
 * smoke) also replaces latest.json and latest.md, which are committed so runs can be compared.
 */
async function writeResults(startedAt: Date, smoke: boolean, engines: Array<[string, EngineProbe]>, rows: Row[], print: { table: string; footer: string; full: boolean }): Promise<string> {
  const dir = new URL('./results/', import.meta.url);
  await mkdir(dir, { recursive: true });
  const name = `${startedAt.toISOString().replace(/[:.]/g, '-')}${smoke ? '-smoke' : ''}.json`;
  const machine = {
    hostname: hostname(),
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryGB: Math.round(totalmem() / 1024 ** 3),
    kernel: release(),
    node: process.version,
    engines: Object.fromEntries(engines.map(([name, e]) => [name, e.available ? e.bench.engine.version : `not available: ${e.reason}`])),
  };
  const url = new URL(name, dir);
  const json = `${JSON.stringify({ startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), smoke, machine, rows }, null, 2)}\n`;
  await writeFile(url, json);
  if (print.full) {
    await writeFile(new URL('latest.json', dir), json);
    const about = `${machine.cpus} x ${machine.cpuModel ?? '?'}, ${machine.memoryGB} GB, Linux ${machine.kernel}, Node ${machine.node}; ${Object.entries(machine.engines).map(([k, v]) => `${k} ${String(v)}`).join(', ')}`;
    await writeFile(new URL('latest.md', dir), `# Latest full benchmark run\n\n${startedAt.toISOString()} on ${about}.\n\n\`\`\`\n${print.table}\n\n${print.footer}\n\`\`\`\n`);
  }
  return url.pathname;
}

process.exitCode = await main(process.argv.slice(2));
