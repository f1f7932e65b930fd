import { expect, it, vi } from 'vitest';
import { PaudeError } from '../../src/errors.js';
import type { BuildProgress } from '../../src/images/build-progress.js';
import { ensureImage, HASH_LABEL, ImageBuildError } from '../../src/images/image-builder.js';
import type { ImageRecipe } from '../../src/images/image-recipe.js';
import { demuxLogs, describeEngines, imageExists as imageOn, isNotFound } from '../support/engine-test.js';

describeEngines('image builder', (engine) => {
  const repository = `localhost/${engine.uniqueName('img')}`;
  // Every image of this suite carries its labels, so the last test can prove none is left.
  const labels = { ...engine.labels, 'paude.test.suite': repository };
  const recipe = (hello: string, containerfile = 'FROM ${BASE_IMAGE}\nCOPY hello.txt /hello.txt\nRUN grep -q hi /hello.txt\n'): ImageRecipe => ({
    repository,
    containerfile: `ARG BASE_IMAGE\n${containerfile}`,
    files: { 'hello.txt': hello },
    buildArgs: { BASE_IMAGE: engine.baseImage },
    labels,
  });

  const refs = new Set<string>();
  /** Image ids our builds made (final images and their layers), to check they all go. */
  const layers = new Set<string>();
  const track = async (ref: string): Promise<void> => {
    refs.add(ref);
    for (const id of await ownLayers(ref)) layers.add(id);
  };
  const removeAll = async (): Promise<void> => {
    for (const ref of refs) {
      await engine.docker
        .getImage(ref)
        .remove()
        .catch((error: unknown) => {
          if (!isNotFound(error)) throw error;
        });
    }
  };
  engine.defer(removeAll);

  async function ownLayers(ref: string): Promise<string[]> {
    const ids = async (name: string): Promise<string[]> => {
      const history = (await engine.docker.getImage(name).history()) as Array<{ Id: string }>;
      // Podman lists bare hex ids, which its API refuses to look up without the sha256: prefix.
      return history.map((entry) => entry.Id).filter((id) => id !== '<missing>').map((id) => (/^[0-9a-f]{64}$/.test(id) ? `sha256:${id}` : id));
    };
    const base = new Set(await ids(engine.baseImage));
    return (await ids(ref)).filter((id) => !base.has(id));
  }


  let first: { ref: string; hash: string; id: string };

  it('builds the image on first use, reports steps, and a container from it sees the file', async () => {
    const events: BuildProgress[] = [];
    const started = Date.now();
    const result = await ensureImage(engine.docker, recipe('hi there\n'), { onProgress: (event) => events.push(event) });
    const seconds = (Date.now() - started) / 1000;
    await track(result.ref);

    expect(result).toEqual({ ref: `${repository}:${result.hash}`, hash: expect.stringMatching(/^[0-9a-f]{16}$/) as string, built: true });
    const steps = events.flatMap((event) => (event.kind === 'step' ? [event.text] : []));
    expect(steps).toEqual(expect.arrayContaining([expect.stringMatching(/^FROM /), 'COPY hello.txt /hello.txt', 'RUN grep -q hi /hello.txt']));
    expect(events.at(-1)).toEqual({ kind: 'done', text: result.ref });
    // The base goes to the engine pinned by id, but progress names it as the user did.
    expect(events.map((event) => event.text).join('\n')).not.toContain('sha256:');

    const image = await engine.docker.getImage(result.ref).inspect();
    expect(image.RepoTags).toContain(result.ref);
    expect(image.Config.Labels).toMatchObject({ ...labels, [HASH_LABEL]: result.hash });
    first = { ...result, id: image.Id };

    const container = await engine.docker.createContainer({ Image: result.ref, Cmd: ['cat', '/hello.txt'], Labels: engine.labels });
    engine.defer(() => container.remove({ force: true }));
    await container.start();
    expect(((await container.wait()) as { StatusCode: number }).StatusCode).toBe(0);
    expect(demuxLogs(await container.logs({ stdout: true, stderr: true, follow: false })).stdout).toBe('hi there\n');
    await container.remove();
    console.log(`[${engine.name}] first build of the test image: ${seconds.toFixed(2)} s`);
  });

  it('returns the existing image at once the second time, without building', async () => {
    const events: BuildProgress[] = [];
    const started = Date.now();
    const result = await ensureImage(engine.docker, recipe('hi there\n'), { onProgress: (event) => events.push(event) });
    expect(result).toEqual({ ref: first.ref, hash: first.hash, built: false });
    expect(events).toEqual([]);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('gives a new ref when a context file changes, and keeps the old image', async () => {
    const result = await ensureImage(engine.docker, recipe('hi again\n'));
    await track(result.ref);
    expect(result.built).toBe(true);
    expect(result.ref).not.toBe(first.ref);
    expect(await imageOn(engine.docker, first.ref)).toBe(true);
  });

  it('shares one build between concurrent calls for the same recipe', async () => {
    const build = vi.spyOn(engine.docker, 'buildImage');
    try {
      const seen: [BuildProgress[], BuildProgress[]] = [[], []];
      const ensure = (events: BuildProgress[]): ReturnType<typeof ensureImage> =>
        ensureImage(engine.docker, recipe('hi, together\n'), { onProgress: (event) => events.push(event) });
      const [a, b] = await Promise.all([ensure(seen[0]), ensure(seen[1])]);
      await track(a.ref);
      expect(build).toHaveBeenCalledTimes(1);
      expect(b).toEqual(a);
      expect(a.built).toBe(true);
      // Both callers watched the one build.
      expect(seen[0].filter((event) => event.kind === 'done')).toHaveLength(1);
      expect(seen[1].filter((event) => event.kind === 'done')).toHaveLength(1);
    } finally {
      build.mockRestore();
    }
  });

  it('builds again with rebuild: true, and removes the image it replaces', async () => {
    const events: BuildProgress[] = [];
    const result = await ensureImage(engine.docker, recipe('hi there\n'), { rebuild: true, onProgress: (event) => events.push(event) });
    await track(result.ref);
    expect(result).toEqual({ ref: first.ref, hash: first.hash, built: true });
    expect(events.some((event) => event.kind === 'step')).toBe(true);
    const image = await engine.docker.getImage(result.ref).inspect();
    expect(image.Id).not.toBe(first.id);
    expect(await imageOn(engine.docker, first.id)).toBe(false);
  });

  it('fails with a PaudeError that names the image and the failing step, keeping the output', async () => {
    const failing = recipe('hi\n', 'FROM ${BASE_IMAGE}\nRUN echo about to fail && exit 3\n');
    const error = await ensureImage(engine.docker, failing).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PaudeError);
    expect(error).toBeInstanceOf(ImageBuildError);
    const failure = error as ImageBuildError;
    expect(failure.message).toMatch(new RegExp(`^Building the image ${repository} failed at step \\d+/\\d+ \\(RUN echo about to fail && exit 3\\): .*3`));
    expect(failure.message).not.toContain('\n');
    expect(failure.details).toContain('about to fail');
    expect(failure.details.join('\n')).not.toContain('sha256:');
    expect(failure.step?.instruction).toBe('RUN echo about to fail && exit 3');
  });

  it('pulls a missing base, and says in one sentence which base could not be pulled on which engine and why', async () => {
    // `localhost` is a registry name with nothing listening on it: the pull is refused at once.
    const missing = { ...recipe('hi\n'), buildArgs: { BASE_IMAGE: 'localhost/paude-test-no-such-base:nope' } };
    const events: BuildProgress[] = [];
    const error = await ensureImage(engine.docker, missing, { onProgress: (event) => events.push(event) }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PaudeError);
    expect((error as PaudeError).exitCode).toBe(5);
    const message = (error as PaudeError).message;
    expect(message).toMatch(/^Pulling the base image localhost\/paude-test-no-such-base:nope on (Podman|Docker) \d/);
    expect(message).toContain(`${engine.name === 'podman' ? 'Podman' : 'Docker'} `);
    expect(message).toContain(` at ${engine.socketPath} failed: the registry could not be reached (connection refused); set image.base in your global paude.json (or PAUDE_BASE_IMAGE)`);
    expect(message).not.toMatch(/HTTP code|\n/);
    expect(events[0]).toMatchObject({ kind: 'pull', text: 'localhost/paude-test-no-such-base:nope' });
    expect(events.some((event) => event.kind === 'step')).toBe(false);
  });

  it('leaves no image behind once the refs it built are removed', async () => {
    expect(layers.size).toBeGreaterThan(0);
    await removeAll();
    const labelled = await engine.docker.listImages({ all: true, filters: JSON.stringify({ label: [`paude.test.suite=${repository}`] }) });
    expect(labelled).toEqual([]);
    for (const id of layers) expect(await imageOn(engine.docker, id), id).toBe(false);
  });
});
