/** One row per figure, and the one table `npm run bench` prints. */

export type Unit = 'ms' | 's' | 'MB/s' | 'lines/s' | 'MB' | 'requests';

export interface Measure {
  value: number;
  unit: Unit;
}

export interface Row {
  benchmark: string;
  /** podman, docker, or '-' for benchmarks that use no engine. */
  engine: string;
  figure?: Measure;
  baseline?: Measure;
  /** figure / baseline, unless the benchmark says otherwise. */
  ratio?: number;
  target: string;
  /** undefined: no target (informational), or the benchmark did not run. */
  ok?: boolean;
  /** Repetitions the medians are over. */
  runs: number;
  /** Why there is no figure (not run, or the error). */
  note?: string;
  /** Everything else worth keeping in the results file (samples, profiles). */
  details?: Record<string, unknown>;
}

export function row(r: Omit<Row, 'ratio'> & { ratio?: number }): Row {
  const ratio = r.ratio ?? (r.figure && r.baseline && r.baseline.value !== 0 ? r.figure.value / r.baseline.value : undefined);
  return { ...r, ratio };
}

export function formatMeasure(m: Measure | undefined): string {
  if (!m) return '-';
  const v = m.value;
  const digits = m.unit === 'requests' || Math.abs(v) >= 1000 ? 0 : Math.abs(v) >= 100 ? 1 : Math.abs(v) >= 10 ? 2 : 3;
  const text = m.unit === 'lines/s' ? Math.round(v).toLocaleString('en-US') : v.toFixed(digits);
  return `${text} ${m.unit}`;
}

const HEADERS = ['benchmark', 'engine', 'figure', 'baseline', 'ratio', 'target', 'ok'] as const;

export function renderTable(rows: readonly Row[]): string {
  const cells = rows.map((r) => [
    r.runs > 1 ? `${r.benchmark} (n=${r.runs})` : r.benchmark,
    r.engine,
    r.note && !r.figure ? r.note : formatMeasure(r.figure),
    formatMeasure(r.baseline),
    r.ratio === undefined || !Number.isFinite(r.ratio) ? '-' : `${r.ratio.toFixed(r.ratio < 0.01 && r.ratio > 0 ? 4 : 2)}x`,
    r.target,
    r.ok === undefined ? '-' : r.ok ? 'yes' : 'NO',
  ]);
  const widths = HEADERS.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]?.length ?? 0)));
  const line = (c: readonly string[]): string => c.map((x, i) => x.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(HEADERS), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}
