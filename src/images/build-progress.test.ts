import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BuildStreamParser, KEPT_LINES, type BuildProgress } from './build-progress.js';

interface Samples {
  podman: { ok: string[]; fail: string[] };
  docker: { ok: string[]; fail: string[] };
}
const samples = JSON.parse(readFileSync(new URL('./build-stream-samples.json', import.meta.url), 'utf8')) as Samples;

function parse(chunks: readonly (string | Buffer)[]): { events: BuildProgress[]; parser: BuildStreamParser } {
  const events: BuildProgress[] = [];
  const parser = new BuildStreamParser((event) => events.push(event));
  for (const chunk of chunks) parser.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  parser.end();
  return { events, parser };
}

const steps = (events: BuildProgress[]): string[] => events.flatMap((e) => (e.kind === 'step' ? [`${e.step}/${e.total} ${e.text}`] : []));
const output = (events: BuildProgress[]): string[] => events.flatMap((e) => (e.kind === 'output' ? [e.text] : []));

const RUN = 'RUN grep -q hi /hello.txt && echo line one && echo line two >&2';

describe('BuildStreamParser on real Podman streams', () => {
  it('reads each "STEP n/m:" as a step and the rest as output', () => {
    const { events, parser } = parse(samples.podman.ok);
    expect(steps(events)).toEqual([
      '1/4 FROM localhost/paude-test-base:bookworm',
      '2/4 COPY hello.txt /hello.txt',
      `3/4 ${RUN}`,
      '4/4 LABEL "paude.image.hash"="0123456789abcdef"',
    ]);
    expect(output(events)).toEqual(expect.arrayContaining(['line one', 'line two', 'COMMIT localhost/paude-fixture:0123456789abcdef']));
    expect(parser.error).toBeUndefined();
    expect(parser.imageId).toBe('sha256:599f974c1c5fb9e45f0cc53fa00ae7f3c306169b1bdbab27a2f6d57540faab06');
  });

  it('reports the error and the step that failed', () => {
    const { parser } = parse(samples.podman.fail);
    expect(parser.error).toBe('building at STEP "RUN exit 3": while running runtime: exit status 3');
    expect(parser.currentStep).toEqual({ step: 4, total: 5, instruction: 'RUN exit 3' });
    expect(parser.lastLines.at(-1)).toBe('STEP 4/5: RUN exit 3');
    expect(parser.imageId).toBeUndefined();
  });
});

describe('BuildStreamParser on real Docker streams', () => {
  it('reads each "Step n/m :" as a step, joining the newline Docker sends apart, without colour codes', () => {
    const { events, parser } = parse(samples.docker.ok);
    expect(steps(events)).toEqual([
      '1/5 ARG BASE_IMAGE',
      '2/5 FROM ${BASE_IMAGE}',
      '3/5 COPY hello.txt /hello.txt',
      `4/5 ${RUN}`,
      '5/5 LABEL paude.image.hash=0123456789abcdef',
    ]);
    expect(output(events)).toEqual(expect.arrayContaining(['line one', 'line two']));
    expect(output(events).join('\n')).not.toContain('\u001b');
    expect(parser.imageId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(parser.error).toBeUndefined();
  });

  it('reports the error and the step that failed', () => {
    const { events, parser } = parse(samples.docker.fail);
    expect(parser.error).toBe("The command '/bin/sh -c exit 3' returned a non-zero code: 3");
    expect(parser.currentStep).toEqual({ step: 5, total: 6, instruction: 'RUN exit 3' });
    expect(steps(events).at(-1)).toBe('5/6 RUN exit 3');
    expect(parser.lastLines).toContain('Step 5/6 : RUN exit 3');
  });
});

describe('BuildStreamParser framing', () => {
  it.each(['podman', 'docker'] as const)('gives the same events whatever the chunk boundaries (%s)', (engine) => {
    for (const stream of [samples[engine].ok, samples[engine].fail]) {
      const whole = parse(stream);
      const bytes = Buffer.from(stream.join(''));
      const byByte = parse([...bytes].map((byte) => Buffer.from([byte])));
      expect(byByte.events).toEqual(whole.events);
      expect(parse([stream.join('')]).events).toEqual(whole.events);
      expect(byByte.parser.error).toEqual(whole.parser.error);
    }
  });

  it('keeps a character whose bytes arrive in two chunks', () => {
    const bytes = Buffer.from('{"stream":"déjà vu ✓\\n"}\n');
    const { events } = parse([bytes.subarray(0, 13), bytes.subarray(13, 22), bytes.subarray(22)]);
    expect(events).toEqual([{ kind: 'output', text: 'déjà vu ✓' }]);
  });

  it('handles Podman multi-stage prefixes, status messages, text that is not JSON and a last line without newline', () => {
    const { events, parser } = parse([
      '{"stream":"[1/2] STEP 1/3: FROM x AS build\\n"}\n',
      '{"status":"Pulling fs layer","id":"abc"}\n',
      'plain text\n',
      '{"stream":"no newline at the end"}',
    ]);
    expect(events).toEqual([
      { kind: 'step', step: 1, total: 3, text: 'FROM x AS build' },
      { kind: 'output', text: 'abc: Pulling fs layer' },
      { kind: 'output', text: 'plain text' },
      { kind: 'output', text: 'no newline at the end' },
    ]);
    expect(parser.error).toBeUndefined();
  });

  it(`keeps only the last ${KEPT_LINES} lines`, () => {
    const lines = Array.from({ length: 50 }, (_, i) => `{"stream":"line ${i}\\n"}\n`);
    const { parser } = parse(lines);
    expect(parser.lastLines).toHaveLength(KEPT_LINES);
    expect(parser.lastLines.at(-1)).toBe('line 49');
    expect(parser.lastLines[0]).toBe(`line ${50 - KEPT_LINES}`);
  });
});
