/**
 * What an image is made of, and the content hash that names it. Two recipes with the same
 * hash build the same image, so `repository:hash` existing on the engine means "already built".
 */
import { createHash } from 'node:crypto';

export interface ImageRecipe {
  /** Where the image is tagged, e.g. 'localhost/paude-proxy'; the tag is the recipe hash. */
  repository: string;
  /** The Containerfile's text. */
  containerfile: string;
  /** Other build-context files by relative path ('squid.conf', 'bin/helper'). */
  files: Record<string, string | Buffer>;
  buildArgs: Record<string, string>;
  /** Set on the built image (the builder adds `paude.image.hash`). */
  labels?: Record<string, string>;
  /**
   * Big context files (the Claude Code binary) named by a key that identifies their content
   * (a version and a registry digest): the key is hashed, and the files are read only when a
   * build is needed, so checking the cache stays cheap.
   */
  largeFiles?: { key: string; load(): Promise<Record<string, Buffer>> };
}

/** Hex characters of the sha256 kept for the tag: 64 bits, plenty for a local cache key. */
export const HASH_LENGTH = 16;

/** Bump when the encoding or what a build does with a recipe changes, so old tags go stale. */
const ENCODING_VERSION = 'paude-image-recipe/1';

/**
 * The tag for a recipe built on a given base image. Every field is length-prefixed and maps
 * are sorted, so no two different recipes encode alike and key order does not matter.
 * `baseImageId` is the engine's id of the base image (undefined when the recipe has none),
 * so a rebuilt or re-pulled base gives a new tag.
 */
export function recipeHash(recipe: ImageRecipe, baseImageId: string | undefined): string {
  const hash = createHash('sha256');
  const field = (name: string, value: string | Buffer): void => {
    const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
    hash.update(`${name}:${bytes.length}:`);
    hash.update(bytes);
    hash.update('\n');
  };
  const map = (name: string, entries: Record<string, string | Buffer>): void => {
    const keys = Object.keys(entries).sort();
    field(name, String(keys.length));
    for (const key of keys) {
      field('key', key);
      field('value', entries[key] ?? '');
    }
  };
  field('version', ENCODING_VERSION);
  field('containerfile', recipe.containerfile);
  map('files', recipe.files);
  map('buildArgs', recipe.buildArgs);
  map('labels', recipe.labels ?? {});
  if (recipe.largeFiles) field('largeFiles', recipe.largeFiles.key);
  field('base', baseImageId === undefined ? 'none' : `id=${baseImageId}`);
  return hash.digest('hex').slice(0, HASH_LENGTH);
}

export function imageRef(recipe: ImageRecipe, hash: string): string {
  return `${recipe.repository}:${hash}`;
}
