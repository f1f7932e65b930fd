#!/usr/bin/env node
// The layer check `npm run lint` runs after eslint: no source file imports a folder of a higher
// layer than its own, and no files import each other in a cycle. The layers are drawn in
// docs/ARCHITECTURE.md; LAYERS below is their source. Tests (*.test.ts) may import anything.
//   node scripts/check-layers.mjs [ROOT]   (ROOT defaults to src; a test points it at fixtures)
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/** Lowest first. A folder may import its own layer's folders and lower ones. */
export const LAYERS = [
  ['(root)', 'fs'],
  ['config'],
  ['policy', 'telemetry', 'images'],
  ['backends'],
  ['sessions', 'audit', 'sync', 'workspace'],
  ['run'],
  ['app'],
  ['cli', 'ui'],
];

const SOURCE = /\.(ts|tsx|mts)$/;
const TEST = /\.test\.(ts|tsx|mts)$/;
// import ... from '...', export ... from '...', import '...', import('...'); group 1 is set for
// type-only imports, which count for the layers but make no cycle (they are erased).
const SPECIFIER = /(?:\b(?:import|export)\s+(type)\s[^;]*?\bfrom\s*|\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g;

function files(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (SOURCE.test(name) && !TEST.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

function resolveImport(from, spec) {
  const base = resolve(dirname(from), spec);
  const stem = base.replace(/\.(js|jsx|mjs)$/, '');
  for (const c of [`${stem}.ts`, `${stem}.tsx`, `${stem}.mts`, join(base, 'index.ts')]) if (existsSync(c)) return c;
  return undefined;
}

export function checkLayers(root, layers = LAYERS) {
  const rank = new Map(layers.flatMap((folders, i) => folders.map((f) => [f, i])));
  const folderOf = (file) => {
    const parts = relative(root, file).split(sep);
    return parts.length > 1 ? parts[0] : '(root)';
  };
  const problems = [];
  const graph = new Map();
  for (const file of files(root)) {
    const text = readFileSync(file, 'utf8');
    const targets = [];
    for (const m of text.matchAll(SPECIFIER)) {
      const target = resolveImport(file, m[2]);
      if (!target || !target.startsWith(root + sep)) continue;
      if (!m[1]) targets.push(target);
      const [a, b] = [folderOf(file), folderOf(target)];
      const [ra, rb] = [rank.get(a), rank.get(b)];
      const name = (f) => relative(root, f);
      if (ra === undefined) problems.push(`${name(file)}: its folder ${a}/ is in no layer (add it to LAYERS in scripts/check-layers.mjs and to docs/ARCHITECTURE.md)`);
      else if (rb === undefined) problems.push(`${name(file)} imports ${name(target)}, whose folder ${b}/ is in no layer`);
      else if (rb > ra) problems.push(`${name(file)} imports ${name(target)}: ${a}/ (layer ${ra}) may not import ${b}/ (layer ${rb}), a higher layer`);
    }
    graph.set(file, targets);
  }
  for (const cycle of cycles(graph)) problems.push(`import cycle: ${[...cycle, cycle[0]].map((f) => relative(root, f)).join(' -> ')}`);
  return [...new Set(problems)];
}

/** Strongly connected components of more than one file (or a file importing itself), by Tarjan. */
function cycles(graph) {
  let index = 0;
  const idx = new Map();
  const low = new Map();
  const stack = [];
  const on = new Set();
  const found = [];
  const visit = (v) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const scc = [];
      let w;
      do {
        w = stack.pop();
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(scc.reverse());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return found;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const root = resolve(process.argv[2] ?? 'src');
  const problems = checkLayers(root);
  for (const p of problems) process.stderr.write(`layers: ${p}\n`);
  if (problems.length) {
    process.stderr.write(`layers: ${problems.length} problem${problems.length > 1 ? 's' : ''} (docs/ARCHITECTURE.md draws the layers)\n`);
    process.exit(1);
  }
}
