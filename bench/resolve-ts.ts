/**
 * Lets bench/ modules import each other with the `.js` specifiers tsc expects (tsconfig.json has
 * no allowImportingTsExtensions) while Node runs the `.ts` files as they are: a relative `.js`
 * import from a bench file resolves to the `.ts` file next to it when there is no `.js` one.
 * Loaded with `node --import ./bench/resolve-ts.ts bench/run.ts`.
 */
import { existsSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { fileURLToPath } from 'node:url';

const BENCH = new URL('./', import.meta.url).href;

registerHooks({
  resolve(specifier, context, nextResolve) {
    if (specifier.startsWith('.') && specifier.endsWith('.js') && context.parentURL?.startsWith(BENCH)) {
      const asTs = new URL(`${specifier.slice(0, -3)}.ts`, context.parentURL);
      if (!existsSync(fileURLToPath(new URL(specifier, context.parentURL))) && existsSync(fileURLToPath(asTs))) return nextResolve(asTs.href, context);
    }
    return nextResolve(specifier, context);
  },
});
