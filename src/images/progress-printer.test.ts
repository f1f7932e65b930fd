import { describe, expect, it } from 'vitest';
import type { BuildProgress } from './build-progress.js';
import { createProgressPrinter, fitWidth, type ProgressOutput } from './progress-printer.js';

const build: BuildProgress[] = [
  { kind: 'step', step: 1, total: 3, text: 'FROM localhost/paude-test-base:bookworm' },
  { kind: 'output', text: 'some output' },
  { kind: 'step', step: 2, total: 3, text: 'RUN apt-get update && apt-get install -y --no-install-recommends squid ca-certificates' },
  { kind: 'step', step: 3, total: 3, text: 'COPY squid.conf /etc/squid/squid.conf' },
  { kind: 'done', text: 'localhost/paude-proxy:962d77f7e4d31788' },
];

function terminal(isTTY: boolean, columns?: number): ProgressOutput & { written: string } {
  return {
    isTTY,
    columns,
    written: '',
    write(text: string) {
      this.written += text;
    },
  };
}

/** What a terminal shows: each \r + clear-line starts the line again. */
function screen(written: string): string[] {
  const lines: string[] = [];
  for (const line of written.split('\n')) lines.push(line.split('\r\u001b[2K').at(-1) ?? '');
  return lines;
}

describe('createProgressPrinter', () => {
  it('prints one line per step, and the result, when not on a TTY', () => {
    const out = terminal(false);
    const printer = createProgressPrinter(out, 'localhost/paude-proxy');
    build.forEach((event) => printer.onProgress(event));
    expect(out.written).toBe(
      [
        'building localhost/paude-proxy: step 1/3 FROM localhost/paude-test-base:bookworm',
        'building localhost/paude-proxy: step 2/3 RUN apt-get update && apt-get install -y --no-install-recommends squid ca-certificates',
        'building localhost/paude-proxy: step 3/3 COPY squid.conf /etc/squid/squid.conf',
        'built localhost/paude-proxy:962d77f7e4d31788',
        '',
      ].join('\n'),
    );
  });

  it('updates one line cut to the terminal width on a TTY, then leaves the result', () => {
    const out = terminal(true, 40);
    const printer = createProgressPrinter(out, 'localhost/paude-proxy');
    printer.onProgress(build[0]!);
    expect(screen(out.written)).toEqual(['building localhost/paude-proxy: step 1…']);
    printer.onProgress(build[2]!);
    expect(out.written).not.toContain('\n');
    expect(screen(out.written).at(-1)).toHaveLength(39);
    build.slice(3).forEach((event) => printer.onProgress(event));
    expect(screen(out.written)).toEqual(['built localhost/paude-proxy:962d77f7e4d31788', '']);
  });

  it('clears the updating line when closed after a failure', () => {
    const out = terminal(true, 120);
    const printer = createProgressPrinter(out, 'localhost/paude-proxy');
    printer.onProgress(build[0]!);
    printer.close();
    expect(screen(out.written)).toEqual(['']);
    printer.close();
    expect(out.written.endsWith('\r\u001b[2K')).toBe(true);
  });
});

describe('createProgressPrinter with a base image pull', () => {
  const pull = (done: number, layers: number, current: number, total: number, extracting = false): BuildProgress => ({ kind: 'pull', text: 'debian:bookworm-slim', layers, done, current, total, extracting });
  const events: BuildProgress[] = [
    pull(0, 0, 0, 0),
    { kind: 'notice', text: 'paude does not run credential helpers (docker-credential-desktop, named in /h/.docker/config.json), so r.test is asked without credentials; pull the image yourself if it needs them' },
    pull(0, 2, 0, 0),
    pull(0, 2, 1_000_000, 30_000_000),
    pull(0, 2, 9_000_000, 30_000_000),
    pull(1, 2, 20_000_000, 30_000_000),
    pull(2, 2, 30_000_000, 30_000_000, true),
    pull(2, 2, 30_000_000, 30_000_000),
    { kind: 'pulled', text: 'debian:bookworm-slim' },
    build[0]!,
  ];

  it('prints a line when the pull starts and each time a layer is done, when not on a TTY', () => {
    const out = terminal(false);
    const printer = createProgressPrinter(out, 'proxy image');
    events.forEach((event) => printer.onProgress(event));
    expect(out.written.split('\n')).toEqual([
      'pulling debian:bookworm-slim for the proxy image',
      'paude does not run credential helpers (docker-credential-desktop, named in /h/.docker/config.json), so r.test is asked without credentials; pull the image yourself if it needs them',
      'pulling debian:bookworm-slim: 1/2 layers, 20 MB/30 MB',
      'pulling debian:bookworm-slim: 2/2 layers, 30 MB/30 MB, unpacking',
      'pulled debian:bookworm-slim',
      'building proxy image: step 1/3 FROM localhost/paude-test-base:bookworm',
      '',
    ]);
  });

  it('summarises every layer in one updating line on a TTY, and writes it only when it changes', () => {
    const out = terminal(true, 120);
    const printer = createProgressPrinter(out, 'proxy image');
    printer.onProgress(events[0]!);
    expect(screen(out.written)).toEqual(['pulling debian:bookworm-slim for the proxy image']);
    printer.onProgress(events[1]!);
    printer.onProgress(events[3]!);
    expect(screen(out.written)).toEqual([expect.stringMatching(/^paude does not run credential helpers/) as string, 'pulling debian:bookworm-slim: 0/2 layers, 1.0 MB/30 MB']);
    const before = out.written;
    printer.onProgress(events[3]!);
    expect(out.written).toBe(before);
    events.slice(4).forEach((event) => printer.onProgress(event));
    expect(screen(out.written).slice(1)).toEqual(['pulled debian:bookworm-slim', 'building proxy image: step 1/3 FROM localhost/paude-test-base:bookworm']);
  });
});

describe('fitWidth', () => {
  it('cuts by characters, not bytes, and removes control characters', () => {
    expect(fitWidth('RUN\techo "héllo"\n', 40)).toBe('RUN echo "héllo" ');
    expect(fitWidth('abcdef', 4)).toBe('abc…');
    expect(fitWidth('abcdef', 6)).toBe('abcdef');
    expect(fitWidth('✓✓✓✓', 3)).toBe('✓✓…');
    expect(fitWidth('abc', 0)).toBe('');
  });
});
