// The CLI as one module graph in a few files (dist/bundle/), built from tsc's output in dist/:
// loading paude's ~460 modules one by one cost about 40% of a short command's time (P6). Code
// loaded on demand (a command, the dashboard, the Kubernetes client) stays in chunks of its
// own. bin/paude.js loads dist/bundle/main.js. The bundle sits two directories below the
// package root, as every module in dist/ does, so the paths they resolve from import.meta.url
// (assets/, package.json, bin/) stay right.
import { readFile, rm } from 'node:fs/promises';
import { build } from 'esbuild';

/**
 * Two of dockerode's requires load what paude never uses on its way to an engine, at every
 * start: BuildKit sessions (gRPC and protobufjs, ~35 ms) and docker-modem's ssh:// transport
 * (ssh2; paude reaches remote engines through its own ssh tunnel). Here they load when first
 * called. A dependency update that changes these lines fails the build, not the bundle.
 */
const LAZY = [
  { file: /dockerode[\\/]lib[\\/]docker\.js$/, from: "withSession = require('./session')", to: "withSession = function () { return require('./session').apply(this, arguments); }" },
  { file: /docker-modem[\\/]lib[\\/]modem\.js$/, from: "ssh = require('./ssh')", to: "ssh = function () { return require('./ssh').apply(this, arguments); }" },
];

const lazyRequires = {
  name: 'lazy-requires',
  setup(b) {
    for (const { file, from, to } of LAZY) {
      b.onLoad({ filter: file }, async (args) => {
        const text = await readFile(args.path, 'utf8');
        if (!text.includes(from)) throw new Error(`${args.path} no longer has ${from}: update scripts/bundle.mjs`);
        return { contents: text.replace(from, to), loader: 'js' };
      });
    }
  },
};

// esbuild leaves the chunks of earlier builds in place.
await rm('dist/bundle', { recursive: true, force: true });
await build({
  entryPoints: { main: 'dist/cli/main.js' },
  outdir: 'dist/bundle',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  // Native add-ons load their .node files from their own package; ink's devtools are optional.
  external: ['@lydell/node-pty', 'cpu-features', 'react-devtools-core', '*.node'],
  // CommonJS dependencies require() Node's own modules and look at __dirname (ssh2's
  // Emscripten code); an ES module has neither of its own.
  banner: {
    js: [
      "import { createRequire as paudeCreateRequire } from 'node:module';",
      "import { fileURLToPath as paudeFileURLToPath } from 'node:url';",
      'const require = paudeCreateRequire(import.meta.url);',
      'const __filename = paudeFileURLToPath(import.meta.url);',
      "const __dirname = paudeFileURLToPath(new URL('.', import.meta.url));",
    ].join(' '),
  },
  // jsonc-parser's main entry is a UMD build that require()s its own files by computed names.
  alias: { 'jsonc-parser': './node_modules/jsonc-parser/lib/esm/main.js' },
  plugins: [lazyRequires],
  logLevel: 'warning',
  legalComments: 'eof',
});
