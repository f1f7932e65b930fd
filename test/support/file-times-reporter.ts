/**
 * Prints, at the end of a run, the test files that took longest from their start to their end
 * (wall time seen by the main process, so concurrent tests in one file count once), with each
 * one's share of the run. CI has a time budget; this says where it goes.
 */
import type { Reporter, TestModule } from 'vitest/node';

const SHOWN = 15;

export default class FileTimesReporter implements Reporter {
  private readonly started = new Map<string, number>();
  private readonly took: Array<{ file: string; project: string; ms: number }> = [];
  private readonly runStart = Date.now();

  onTestModuleStart(module: TestModule): void {
    this.started.set(module.moduleId + module.project.name, Date.now());
  }

  onTestModuleEnd(module: TestModule): void {
    const start = this.started.get(module.moduleId + module.project.name);
    if (start !== undefined) this.took.push({ file: module.relativeModuleId, project: module.project.name, ms: Date.now() - start });
  }

  onTestRunEnd(): void {
    if (this.took.length === 0) return;
    const run = Date.now() - this.runStart;
    const slowest = [...this.took].sort((a, b) => b.ms - a.ms).slice(0, SHOWN);
    const lines = slowest.map((t) => `${(t.ms / 1000).toFixed(1).padStart(7)} s ${((100 * t.ms) / run).toFixed(0).padStart(3)}%  ${t.file} (${t.project})`);
    process.stdout.write(`\nslowest test files (wall time; the run took ${(run / 1000).toFixed(0)} s):\n${lines.join('\n')}\n`);
  }
}
