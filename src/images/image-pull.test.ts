import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anyText, notOneLine, RUNS, TIMEOUT } from '../../test/fuzz/arbitraries.js';
import { ExitCode } from '../errors.js';
import type { BuildProgress } from './build-progress.js';
import { BasePullError, explainPullFailure, parseImageName, pullImage } from './image-pull.js';

interface Samples {
  podman: { pull: string[]; unknownImage: string[]; plainHttpRegistry: string[]; connectionRefused: string[]; unauthorized: string[] };
  docker: { pull: string[] };
  httpErrors: { docker: Record<string, { status: number; body: { message: string } }>; podman: Record<string, { status: number; body: { message: string } }> };
}
const samples = JSON.parse(readFileSync(new URL('./pull-stream-samples.json', import.meta.url), 'utf8')) as Samples;

describe('parseImageName', () => {
  it('splits registry, repository, tag and digest the way the engines do', () => {
    expect(parseImageName('debian:bookworm-slim')).toEqual({ repository: 'debian', tag: 'bookworm-slim' });
    expect(parseImageName('debian')).toEqual({ repository: 'debian' });
    expect(parseImageName('team/base')).toEqual({ repository: 'team/base' });
    expect(parseImageName('127.0.0.1:5000/team/base:1')).toEqual({ registry: '127.0.0.1:5000', repository: '127.0.0.1:5000/team/base', tag: '1' });
    expect(parseImageName('127.0.0.1:5000/base')).toEqual({ registry: '127.0.0.1:5000', repository: '127.0.0.1:5000/base' });
    expect(parseImageName('localhost/paude-local-base:bookworm')).toEqual({ registry: 'localhost', repository: 'localhost/paude-local-base', tag: 'bookworm' });
    expect(parseImageName(`registry.test/base@sha256:${'a'.repeat(64)}`)).toEqual({ registry: 'registry.test', repository: 'registry.test/base', digest: `sha256:${'a'.repeat(64)}` });
    expect(parseImageName(`registry.test/base:1@sha256:${'b'.repeat(64)}`)).toMatchObject({ repository: 'registry.test/base', tag: '1', digest: `sha256:${'b'.repeat(64)}` });
  });
});

describe('explainPullFailure', () => {
  const stream = (lines: string[]): string => (JSON.parse(lines.at(-1) ?? '{}') as { error: string }).error;
  it("turns the engines' real errors into what the user can act on", () => {
    expect(explainPullFailure(stream(samples.podman.unknownImage))).toBe('the registry has no such image');
    expect(explainPullFailure(samples.httpErrors.docker.unknownImage?.body.message ?? '')).toBe('the registry has no such image');
    expect(explainPullFailure(stream(samples.podman.connectionRefused))).toBe('the registry could not be reached (connection refused)');
    expect(explainPullFailure(samples.httpErrors.docker.connectionRefused?.body.message ?? '')).toBe('the registry could not be reached (connection refused)');
    expect(explainPullFailure(stream(samples.podman.plainHttpRegistry))).toMatch(/^the registry answers plain HTTP and the engine expects HTTPS \(mark it insecure: `insecure = true` in Podman's registries.conf/);
    expect(explainPullFailure(samples.httpErrors.docker.badName?.body.message ?? '')).toBe('the name is not a valid image reference');
    expect(explainPullFailure(samples.httpErrors.podman.badName?.body.message ?? '')).toBe('the name is not a valid image reference');
    expect(explainPullFailure(stream(samples.podman.unauthorized), 'podman')).toBe('the registry refused access (log in with `podman login` first)');
    expect(explainPullFailure(samples.httpErrors.docker.noCredentials?.body.message ?? '', 'docker')).toBe('the registry refused access (log in with `docker login` first)');
    expect(explainPullFailure(samples.httpErrors.docker.wrongCredentials?.body.message ?? '')).toBe('the registry refused access (log in with `docker login` or `podman login` first)');
    expect(explainPullFailure("pull access denied for x, repository does not exist or may require 'docker login': denied: requested access to the resource is denied", 'docker')).toBe(
      'the registry has no such image, or it needs a login (`docker login`)',
    );
    expect(explainPullFailure('Get "https://r.test/v2/": dial tcp: lookup r.test on 10.0.0.1:53: no such host')).toBe('the registry could not be reached (no such host)');
    expect(explainPullFailure('Get "https://r.test/v2/": x509: certificate signed by unknown authority')).toMatch(/does not trust the registry's TLS certificate/);
    expect(explainPullFailure('something\nnew happened')).toBe('something new happened');
  });
});

/** Enough of dockerode for pullImage: version, info and createImage answering with a recorded stream or HTTP error. */
function fakeEngine(kind: 'podman' | 'docker', answer: { lines?: string[]; httpError?: { status: number; body: { message: string } } }): { docker: Dockerode; calls: Array<Record<string, unknown>> } {
  const calls: Array<Record<string, unknown>> = [];
  const docker = {
    modem: { socketPath: `/run/${kind}.sock` },
    version: () => Promise.resolve(kind === 'podman' ? { Version: '4.3.1', Components: [{ Name: 'Podman Engine' }] } : { Version: '20.10.24', Components: [{ Name: 'Engine' }] }),
    info: () => Promise.resolve(kind === 'docker' ? { IndexServerAddress: 'https://index.hub.test/v1/' } : {}),
    createImage: (options: Record<string, unknown>) => {
      calls.push(options);
      if (answer.httpError) {
        const { status, body } = answer.httpError;
        return Promise.reject(Object.assign(new Error(`(HTTP code ${status}) unexpected - ${body.message}`), { statusCode: status, json: body }));
      }
      return Promise.resolve(Readable.from((answer.lines ?? []).map((line) => Buffer.from(`${line}\n`))));
    },
  };
  return { docker: docker as unknown as Dockerode, calls };
}

describe('pullImage', () => {
  let home = '';
  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'paude-pull-'));
    await mkdir(join(home, '.docker'));
    await writeFile(
      join(home, '.docker', 'config.json'),
      JSON.stringify({ auths: { '127.0.0.1:5000': { auth: Buffer.from('alice:pw').toString('base64') }, 'https://index.hub.test/v1/': { username: 'hubber', password: 'x' } } }),
    );
  });
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('pulls with a tag always, passes the registry credentials, and reports progress, then "pulled"', async () => {
    const { docker, calls } = fakeEngine('docker', { lines: samples.docker.pull });
    const events: BuildProgress[] = [];
    await pullImage(docker, '127.0.0.1:5000/team/base', { env: { HOME: home }, onProgress: (e) => events.push(e) });
    expect(calls).toEqual([{ fromImage: '127.0.0.1:5000/team/base', tag: 'latest', authconfig: { username: 'alice', password: 'pw', serveraddress: '127.0.0.1:5000' } }]);
    expect(events[0]).toMatchObject({ kind: 'pull', layers: 0 });
    expect(events.at(-2)).toMatchObject({ kind: 'pull', layers: 3, done: 3 });
    expect(events.at(-1)).toEqual({ kind: 'pulled', text: '127.0.0.1:5000/team/base' });
  });

  it("on Docker, a short name takes the credentials of Docker's default registry", async () => {
    const { docker, calls } = fakeEngine('docker', { lines: [] });
    await pullImage(docker, 'debian:bookworm-slim', { env: { HOME: home } });
    expect(calls[0]).toMatchObject({ fromImage: 'debian', tag: 'bookworm-slim', authconfig: { username: 'hubber', serveraddress: 'https://index.hub.test/v1/' } });
  });

  it("on Podman, a short name is left to the engine's own auth file; a digest goes as the tag", async () => {
    const { docker, calls } = fakeEngine('podman', { lines: samples.podman.pull });
    await pullImage(docker, `debian@sha256:${'c'.repeat(64)}`, { env: { HOME: home } });
    expect(calls).toEqual([{ fromImage: 'debian', tag: `sha256:${'c'.repeat(64)}` }]);
  });

  it('fails with one sentence naming the image, the engine and image.base / PAUDE_BASE_IMAGE, exit code 5', async () => {
    const cases = [
      { kind: 'podman' as const, answer: { lines: samples.podman.unknownImage }, reason: 'the registry has no such image' },
      { kind: 'docker' as const, answer: { httpError: samples.httpErrors.docker.unknownImage }, reason: 'the registry has no such image' },
      { kind: 'docker' as const, answer: { httpError: samples.httpErrors.docker.connectionRefused }, reason: 'the registry could not be reached (connection refused)' },
    ];
    for (const { kind, answer, reason } of cases) {
      const { docker } = fakeEngine(kind, answer);
      const error = await pullImage(docker, '127.0.0.1:5000/nope:1', { env: { HOME: home } }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(BasePullError);
      const engine = kind === 'podman' ? 'Podman 4.3.1 at /run/podman.sock' : 'Docker 20.10.24 at /run/docker.sock';
      expect((error as BasePullError).message).toBe(
        `Pulling the base image 127.0.0.1:5000/nope:1 on ${engine} failed: ${reason}; set image.base in your global paude.json (or PAUDE_BASE_IMAGE) to an image that engine has or can pull.`,
      );
      expect((error as BasePullError).exitCode).toBe(ExitCode.engine);
      expect((error as BasePullError).message).not.toMatch(/HTTP code|\n/);
    }
  });

  it('says so in one line when a credential helper holds the credentials', async () => {
    const other = await mkdtemp(join(tmpdir(), 'paude-pull-'));
    try {
      await mkdir(join(other, '.docker'));
      await writeFile(join(other, '.docker', 'config.json'), JSON.stringify({ auths: { 'registry.test': {} }, credsStore: 'desktop' }));
      const { docker, calls } = fakeEngine('docker', { lines: [] });
      const events: BuildProgress[] = [];
      await pullImage(docker, 'registry.test/base:1', { env: { HOME: other }, onProgress: (e) => events.push(e) });
      expect(calls[0]).not.toHaveProperty('authconfig');
      expect(events.filter((e) => e.kind === 'notice')).toHaveLength(1);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });
});

describe('pull failures from any engine text (fuzz)', () => {
  it('are one line, however the engine words them', () => {
    fc.assert(
      fc.property(anyText(80), fc.constantFrom('docker' as const, 'podman' as const, undefined), (reason, kind) => {
        expect(notOneLine(new BasePullError('r.test/base:1', 'Podman 4.3.1 at /run/podman/podman.sock', reason, kind).message)).toBeUndefined();
      }),
      { numRuns: RUNS },
    );
  }, TIMEOUT);
});
