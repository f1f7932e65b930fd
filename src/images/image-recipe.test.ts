import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HASH_LENGTH, imageRef, recipeHash, type ImageRecipe } from './image-recipe.js';

const BASE_ID = 'sha256:0209d7e85d090b17045f6d014a8303429dbb4a0749240c80ee6f0cb6d4d3252c';

const recipe = (overrides: Partial<ImageRecipe> = {}): ImageRecipe => ({
  repository: 'localhost/paude-proxy',
  containerfile: 'ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nCOPY squid.conf /etc/squid/squid.conf\n',
  files: { 'squid.conf': 'http_port 3128\n', 'bin/helper': '#!/bin/sh\necho OK\n' },
  buildArgs: { BASE_IMAGE: 'localhost/paude-test-base:bookworm' },
  labels: { 'paude.role': 'proxy' },
  ...overrides,
});

describe('recipeHash', () => {
  it('is a stable hex tag of the documented length', () => {
    const hash = recipeHash(recipe(), BASE_ID);
    expect(hash).toMatch(new RegExp(`^[0-9a-f]{${HASH_LENGTH}}$`));
    expect(HASH_LENGTH).toBeGreaterThanOrEqual(12);
    expect(recipeHash(recipe(), BASE_ID)).toBe(hash);
    // Pinned: a new encoding rebuilds every user's images, so it should be a deliberate change.
    expect(hash).toBe('962d77f7e4d31788');
  });

  it('ignores key order and whether content is a string or a Buffer', () => {
    const a = recipe();
    const b = recipe({
      files: { 'bin/helper': Buffer.from('#!/bin/sh\necho OK\n'), 'squid.conf': 'http_port 3128\n' },
      buildArgs: { ...a.buildArgs },
    });
    expect(recipeHash(b, BASE_ID)).toBe(recipeHash(a, BASE_ID));
  });

  it('does not depend on the repository (the ref does)', () => {
    const other = recipe({ repository: 'localhost/paude-agent' });
    expect(recipeHash(other, BASE_ID)).toBe(recipeHash(recipe(), BASE_ID));
    expect(imageRef(other, 'abc')).toBe('localhost/paude-agent:abc');
  });

  it.each<[string, ImageRecipe, string | undefined]>([
    ['containerfile', recipe({ containerfile: 'ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n' }), BASE_ID],
    ['file content', recipe({ files: { 'squid.conf': 'http_port 3129\n', 'bin/helper': '#!/bin/sh\necho OK\n' } }), BASE_ID],
    ['file name', recipe({ files: { 'squid2.conf': 'http_port 3128\n', 'bin/helper': '#!/bin/sh\necho OK\n' } }), BASE_ID],
    ['an added file', recipe({ files: { ...recipe().files, 'extra.pem': '' } }), BASE_ID],
    ['a removed file', recipe({ files: { 'squid.conf': 'http_port 3128\n' } }), BASE_ID],
    ['build arg value', recipe({ buildArgs: { BASE_IMAGE: 'debian:bookworm-slim' } }), BASE_ID],
    ['an added build arg', recipe({ buildArgs: { ...recipe().buildArgs, NODE: '24' } }), BASE_ID],
    ['label', recipe({ labels: { 'paude.role': 'agent' } }), BASE_ID],
    ['no labels', recipe({ labels: undefined }), BASE_ID],
    ['base image id', recipe(), 'sha256:15bab3464c7bd13b4d8724c2b4cfa382908d8f01ab29c788cc1b467f908b684f'],
    ['no base image', recipe(), undefined],
  ])('changes with the %s', (_what, changed, baseId) => {
    expect(recipeHash(changed, baseId)).not.toBe(recipeHash(recipe(), BASE_ID));
  });

  it('keeps field boundaries: bytes moved between a name and its content change the hash', () => {
    const a = recipe({ files: { ab: 'c' } });
    const b = recipe({ files: { a: 'bc' } });
    const c = recipe({ files: {}, buildArgs: { ab: 'c' } });
    const hashes = new Set([a, b, c].map((r) => recipeHash(r, BASE_ID)));
    expect(hashes.size).toBe(3);
    expect(recipeHash(recipe(), '')).not.toBe(recipeHash(recipe(), undefined));
  });

  it('changes whenever any single file changes (property)', () => {
    const files = fc.dictionary(fc.stringMatching(/^[a-z]{1,8}(\/[a-z]{1,8})?$/), fc.string(), { minKeys: 1 });
    fc.assert(
      fc.property(files, fc.nat(), fc.string({ minLength: 1 }), (original, pick, extra) => {
        const names = Object.keys(original);
        const name = names[pick % names.length] ?? '';
        const changed = { ...original, [name]: `${original[name] ?? ''}${extra}` };
        const shuffled = Object.fromEntries(Object.entries(original).reverse());
        expect(recipeHash(recipe({ files: shuffled }), BASE_ID)).toBe(recipeHash(recipe({ files: original }), BASE_ID));
        expect(recipeHash(recipe({ files: changed }), BASE_ID)).not.toBe(recipeHash(recipe({ files: original }), BASE_ID));
      }),
    );
  });
});
