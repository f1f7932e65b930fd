/**
 * Makes sure the image for a recipe exists on an engine, building it only when its content
 * hash is new. A missing base image is pulled first, through the engine's API (image-pull.ts);
 * then it is pinned by id for the build, so the build never pulls and the image is built on
 * exactly the base the hash was computed from.
 */
import type Dockerode from 'dockerode';
import { ExitCode, PaudeError } from '../errors.js';
import { CONTAINERFILE_NAME, createBuildContext } from './build-context.js';
import { BuildStreamParser, type BuildProgress, type BuildStep } from './build-progress.js';
import { identifyEngine, pullImage } from './image-pull.js';
import { imageRef, recipeHash, type ImageRecipe } from './image-recipe.js';

/** Every built image carries its recipe hash, so a same-named image we did not build is not mistaken for ours. */
export const HASH_LABEL = 'paude.image.hash';

export interface EnsureImageOptions {
  /** Build even if the image exists (without the layer cache). */
  rebuild?: boolean;
  onProgress?: (event: BuildProgress) => void;
  /** The build arg naming the base image; default 'BASE_IMAGE'. */
  baseImageArg?: string;
  /** Where the user's registry auth files are found (default: process.env). */
  env?: NodeJS.ProcessEnv;
}

export interface EnsuredImage {
  /** `repository:hash` */
  ref: string;
  hash: string;
  /** False when the image was already there. */
  built: boolean;
}

/** A build that failed. `details` holds the last lines of build output (for --debug). */
export class ImageBuildError extends PaudeError {
  constructor(
    readonly image: string,
    readonly step: BuildStep | undefined,
    readonly reason: string,
    readonly details: readonly string[],
  ) {
    const where = step ? ` at step ${step.step}/${step.total} (${shorten(step.instruction, 60)})` : '';
    super(`Building the image ${image} failed${where}: ${shorten(reason, 300)}; run again with --debug to see the build output.`, ExitCode.engine);
  }
}

interface Build {
  promise: Promise<EnsuredImage>;
  listeners: Set<(event: BuildProgress) => void>;
}

/** Builds in flight per engine connection, by ref: concurrent callers share one. */
const builds = new WeakMap<Dockerode, Map<string, Build>>();
/** Base image pulls in flight per engine connection, by name (the proxy and agent images share a base). */
const pulls = new WeakMap<Dockerode, Map<string, Promise<void>>>();

export async function ensureImage(docker: Dockerode, recipe: ImageRecipe, options: EnsureImageOptions = {}): Promise<EnsuredImage> {
  const baseImageArg = options.baseImageArg ?? 'BASE_IMAGE';
  const baseName = recipe.buildArgs[baseImageArg];
  const baseId = baseName === undefined ? undefined : await baseImageId(docker, baseName, options);
  const hash = recipeHash(recipe, baseId);
  const ref = imageRef(recipe, hash);
  const running = buildsOf(docker);

  let previous: Dockerode.ImageInspectInfo | undefined;
  if (!running.has(ref)) {
    previous = await inspectImage(docker, ref);
    if (!options.rebuild && previous?.Config.Labels?.[HASH_LABEL] === hash) return { ref, hash, built: false };
  }
  // Checked again after the await: a concurrent call may have started the build meanwhile.
  let build = running.get(ref);
  if (build === undefined) {
    const listeners = new Set<(event: BuildProgress) => void>();
    const buildArgs = baseId === undefined ? recipe.buildArgs : { ...recipe.buildArgs, [baseImageArg]: baseId };
    // Progress and errors show the base by the name the user knows, not the id we pinned it by.
    const unpin = (text: string): string => (baseId !== undefined && baseName !== undefined ? text.replaceAll(baseId, baseName) : text);
    const emit = (event: BuildProgress): void => {
      for (const listener of listeners) listener({ ...event, text: unpin(event.text) });
    };
    const promise = buildImage(docker, recipe, { ref, hash, buildArgs, nocache: options.rebuild === true, unpin }, emit).then(async (result) => {
      if (previous !== undefined) await removeIfUnused(docker, previous.Id, result.id);
      return { ref, hash, built: true };
    });
    build = { promise, listeners };
    running.set(ref, build);
    void promise.then(
      () => running.delete(ref),
      () => running.delete(ref),
    );
  }
  const { onProgress } = options;
  if (onProgress === undefined) return build.promise;
  build.listeners.add(onProgress);
  try {
    return await build.promise;
  } finally {
    build.listeners.delete(onProgress);
  }
}

interface BuildInput {
  ref: string;
  hash: string;
  buildArgs: Record<string, string>;
  nocache: boolean;
  unpin: (text: string) => string;
}

async function buildImage(docker: Dockerode, recipe: ImageRecipe, input: BuildInput, emit: (event: BuildProgress) => void): Promise<{ id: string }> {
  const large = recipe.largeFiles ? await recipe.largeFiles.load() : {};
  const context = createBuildContext(recipe.containerfile, { ...recipe.files, ...large });
  const parser = new BuildStreamParser(emit);
  const fail = (reason: string): ImageBuildError => {
    const step = parser.currentStep && { ...parser.currentStep, instruction: input.unpin(parser.currentStep.instruction) };
    return new ImageBuildError(recipe.repository, step, input.unpin(reason), parser.lastLines.map(input.unpin));
  };
  try {
    const stream = await docker.buildImage(context, {
      t: input.ref,
      dockerfile: CONTAINERFILE_NAME,
      buildargs: input.buildArgs,
      labels: { ...recipe.labels, [HASH_LABEL]: input.hash },
      // Explicit on both engines; with the base pinned by id there is nothing to pull anyway.
      pull: false,
      nocache: input.nocache,
      rm: true,
      forcerm: true,
    });
    for await (const chunk of stream) parser.push(chunk);
  } catch (error) {
    // Docker refuses a Containerfile it cannot parse with HTTP 400 before any stream starts.
    throw fail(engineMessage(error));
  }
  parser.end();
  if (parser.error !== undefined) throw fail(parser.error);
  const image = await inspectImage(docker, input.ref);
  if (image === undefined) throw fail(`the engine reported success but ${input.ref} does not exist`);
  emit({ kind: 'done', text: input.ref });
  return { id: image.Id };
}

/** The base's id; a base the engine does not have is pulled (progress goes to the caller that started the pull). */
async function baseImageId(docker: Dockerode, name: string, options: EnsureImageOptions): Promise<string> {
  const image = await inspectImage(docker, name);
  if (image !== undefined) return image.Id;
  let running = pulls.get(docker);
  if (running === undefined) pulls.set(docker, (running = new Map<string, Promise<void>>()));
  let pull = running.get(name);
  if (pull === undefined) {
    const started = pullImage(docker, name, { ...(options.onProgress ? { onProgress: options.onProgress } : {}), ...(options.env ? { env: options.env } : {}) });
    const map = running;
    pull = started.finally(() => map.delete(name));
    running.set(name, pull);
  }
  await pull;
  const pulled = await inspectImage(docker, name);
  if (pulled !== undefined) return pulled.Id;
  const engine = await identifyEngine(docker);
  throw new PaudeError(
    `The base image ${name} was pulled but ${engine.description} does not find it by that name; set image.base in your global paude.json (or PAUDE_BASE_IMAGE) to the name the engine lists it under.`,
    ExitCode.engine,
  );
}

async function inspectImage(docker: Dockerode, name: string): Promise<Dockerode.ImageInspectInfo | undefined> {
  try {
    return await docker.getImage(name).inspect();
  } catch (error) {
    if (statusCode(error) === 404) return undefined;
    throw error;
  }
}

/** A rebuild moves the tag; the image it left behind goes unless something still uses or names it. */
async function removeIfUnused(docker: Dockerode, oldId: string, newId: string): Promise<void> {
  if (oldId === newId) return;
  try {
    const old = await inspectImage(docker, oldId);
    if (old === undefined || (old.RepoTags ?? []).some((tag) => tag !== '<none>:<none>')) return;
    await docker.getImage(oldId).remove();
  } catch {
    // Best effort: a container may still use it (409), and the new image is in place either way.
  }
}

function buildsOf(docker: Dockerode): Map<string, Build> {
  let map = builds.get(docker);
  if (map === undefined) builds.set(docker, (map = new Map<string, Build>()));
  return map;
}

function statusCode(error: unknown): number | undefined {
  const code = typeof error === 'object' && error !== null ? (error as { statusCode?: unknown }).statusCode : undefined;
  return typeof code === 'number' ? code : undefined;
}

/** dockerode words HTTP errors as "(HTTP code 400) unexpected - MESSAGE"; the engine's MESSAGE is what matters. */
function engineMessage(error: unknown): string {
  const json = typeof error === 'object' && error !== null ? (error as { json?: { message?: unknown } }).json : undefined;
  if (typeof json?.message === 'string') return json.message;
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^\(HTTP code \d+\) [a-z ]+- /, '');
}

function shorten(text: string, max: number): string {
  const line = text
    .replace(/^building at STEP "[^"]*": /, '') // Podman repeats the step we already name
    .replace(/\s+/g, ' ')
    .trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
