/** The proxy image recipe: assets/proxy (Containerfile, policy helper, error page) on a base image. */
import { readFile } from 'node:fs/promises';
import type { ImageRecipe } from './image-recipe.js';

/** A short name: the engine resolves it with its own configuration (its default registry, mirrors). */
export const DEFAULT_BASE_IMAGE = 'debian:bookworm-slim';
const ASSETS = new URL('../../assets/proxy/', import.meta.url);

export async function proxyRecipe(baseImage = DEFAULT_BASE_IMAGE): Promise<ImageRecipe> {
  const [containerfile, helper, start, errorPage] = await Promise.all([
    readFile(new URL('Containerfile', ASSETS), 'utf8'),
    readFile(new URL('policy-helper', ASSETS)),
    readFile(new URL('paude-proxy-start', ASSETS)),
    readFile(new URL('ERR_PAUDE_DENIED', ASSETS)),
  ]);
  return {
    repository: 'localhost/paude-proxy',
    containerfile,
    files: { 'policy-helper': helper, 'paude-proxy-start': start, ERR_PAUDE_DENIED: errorPage },
    buildArgs: { BASE_IMAGE: baseImage },
    labels: { 'paude.image': 'proxy' },
  };
}
