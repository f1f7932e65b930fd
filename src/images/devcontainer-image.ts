/**
 * A project's devcontainer.json picks the image the agent runs in: `image` as it is, or
 * `build` (its Dockerfile and context, built and cached like paude's own images). Claude Code,
 * the link forwarder and paude's user are then layered on top by the agent recipe, so the
 * base must be Debian- or Ubuntu-like (apt-get).
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, relative, resolve, sep } from 'node:path';
import type Dockerode from 'dockerode';
import { ConfigError } from '../errors.js';
import type { DevcontainerSetup } from '../config/devcontainer-schema.js';
import { directoryEntries } from '../fs/tar.js';
import { ensureImage, type EnsureImageOptions } from './image-builder.js';

const MAX_CONTEXT = 256 * 1024 * 1024;

/** The base image the agent image is built on, or undefined when devcontainer.json names none. */
export async function devcontainerBase(
  docker: Dockerode,
  setup: DevcontainerSetup | undefined,
  devcontainerFile: string,
  options: Pick<EnsureImageOptions, 'rebuild' | 'onProgress'>,
): Promise<string | undefined> {
  if (!setup) return undefined;
  if (setup.image) return setup.image;
  if (!setup.build) return undefined;
  const dir = dirname(devcontainerFile);
  const context = resolve(dir, setup.build.context ?? '.');
  const dockerfile = resolve(dir, setup.build.dockerfile ?? 'Dockerfile');
  const inContext = relative(context, dockerfile);
  const shown = relative(process.cwd(), devcontainerFile) || devcontainerFile;
  if (inContext.startsWith('..') || inContext.startsWith(sep)) {
    throw new ConfigError(`${shown}: build.dockerfile must be inside build.context (${context})`, devcontainerFile, 'build.dockerfile');
  }
  if (!(await stat(dockerfile).then((s) => s.isFile(), () => false))) {
    throw new ConfigError(`${shown}: build.dockerfile ${dockerfile} does not exist`, devcontainerFile, 'build.dockerfile');
  }
  const entries = await directoryEntries(context, '.', { uid: 0, gid: 0 }, MAX_CONTEXT);
  const files: Record<string, Buffer> = {};
  // The recipe holds its files' bytes (its hash is over them), so a build context is read whole.
  for (const e of entries) if (e.type === 'file') files[e.path.replace(/^\.\//, '')] = 'source' in e ? await readFile(e.source) : e.content;
  const containerfile = await readFile(dockerfile, 'utf8');
  delete files[inContext];
  const prefix = process.env.PAUDE_IMAGE_PREFIX;
  const repository = prefix && /^[a-z0-9][a-z0-9._/-]*$/.test(prefix) ? `${prefix}-devcontainer` : 'localhost/paude-devcontainer';
  const result = await ensureImage(
    docker,
    { repository, containerfile, files, buildArgs: { ...setup.build.args }, labels: { 'paude.image': 'devcontainer' } },
    { ...options, baseImageArg: '__none__' },
  );
  return result.ref;
}
