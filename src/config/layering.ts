/**
 * Merges configuration layers, lowest first: defaults -> global paude.json -> project paude.json
 * -> CLI flags, remembering the source of every value. Project files are restricted: they can
 * add to unions (allowlist only while the global file allows it), narrow what narrows, and are
 * refused for anything that widens the sandbox or decides where data goes.
 */
import { ConfigError } from '../errors.js';
import { formatNetworkRule, parseNetworkEntry } from './network-entry.js';
import type { EffectiveConfig } from './defaults.js';
import { formatJsonPath } from './json-path.js';
import type { NetworkMode, PaudeFile } from './schema.js';

export type SourceKind = 'default' | 'global' | 'project' | 'devcontainer' | 'flag';
export interface Source {
  kind: SourceKind;
  /** The file as displayed, or the flag as typed. */
  origin?: string;
}
export interface Layer {
  source: Source;
  /** Absolute path, for errors. */
  file?: string;
  value: PaudeFile;
}

type Rule = 'override' | 'union' | 'global-only' | 'mode' | 'intersect' | 'false-only';

/** Why a project file may not set a key, finishing "a project file cannot set this because ...". */
const GLOBAL_ONLY: Readonly<Record<string, string>> = {
  'network.projectMayExtend': 'only your global file decides whether projects may extend the allowlist',
  'network.hosts': 'fixed addresses decide where allowed names lead',
  provider: 'it decides which credentials enter the container',
  credentials: 'it decides which credentials enter the container',
  backend: 'it decides where your workspace and credentials are sent',
  image: 'it decides which image runs with your credentials (use .devcontainer/devcontainer.json for project images)',
  certificates: 'trusted certificates can read host files and let traffic be intercepted',
  telemetry: 'telemetry endpoints receive data from your sessions and are added to the allowlist',
  audit: 'audit sinks are yours to choose',
  ui: 'key bindings and themes are personal settings',
  'claude.persistProjectConfig': 'persisting .claude changes lets a session change what runs on your host',
  'claude.args': 'Claude Code flags can change its permissions',
  'sessions.detachKeys': 'the detach keys are a personal setting',
};

const RULES: Readonly<Record<string, Rule>> = {
  'network.mode': 'mode',
  'network.allowlist': 'union',
  'network.denylist': 'union',
  'plugins.allow': 'intersect',
  'plugins.deny': 'union',
  'claude.copyHostConfig': 'false-only',
  isolate: 'union',
  protect: 'union',
};

/** Higher is stricter. */
const STRICTNESS: Record<NetworkMode, number> = { open: 0, ask: 1, restricted: 2 };

function ruleFor(path: string[]): { rule: Rule; reason?: string } {
  for (let i = path.length; i > 0; i--) {
    const key = path.slice(0, i).join('.');
    const reason = GLOBAL_ONLY[key];
    if (reason) return { rule: 'global-only', reason };
  }
  return { rule: RULES[path.join('.')] ?? 'override' };
}

export interface MergeResult {
  config: EffectiveConfig;
  sources: Map<string, Source>;
  warnings: string[];
}

export function mergeLayers(defaults: EffectiveConfig, layers: readonly Layer[]): MergeResult {
  const merger = new Merger(defaults);
  for (const layer of layers) merger.apply(layer);
  return { config: merger.root as unknown as EffectiveConfig, sources: merger.sources, warnings: merger.warnings };
}

type Json = Record<string, unknown>;

class Merger {
  readonly root: Json;
  readonly sources = new Map<string, Source>();
  readonly warnings: string[] = [];

  constructor(defaults: EffectiveConfig) {
    this.root = structuredClone(defaults) as unknown as Json;
    this.recordAll([], this.root, { kind: 'default' });
  }

  apply(layer: Layer): void {
    this.walk(layer.value, [], layer);
  }

  private walk(obj: Json, path: string[], layer: Layer): void {
    for (const [key, value] of Object.entries(obj)) {
      if (key === '$schema' || value === undefined) continue;
      const p = [...path, key];
      const { rule, reason } = ruleFor(p);
      if (layer.source.kind === 'project' && rule === 'global-only') {
        throw new ConfigError(
          `${layer.source.origin}: ${formatJsonPath(p)}: a project file cannot set this because ${reason}; move it to your global paude.json`,
          layer.file ?? '',
          p.join('.'),
        );
      }
      if (isPlainObject(value) && rule !== 'union' && rule !== 'intersect') {
        const parent = this.containerAt(path);
        if (!isPlainObject(parent[key])) parent[key] = {};
        this.walk(value, p, layer);
      } else {
        this.leaf(p, value, rule, layer);
      }
    }
  }

  private leaf(path: string[], value: unknown, rule: Rule, layer: Layer): void {
    const project = layer.source.kind === 'project';
    const parent = this.containerAt(path.slice(0, -1));
    const key = path[path.length - 1] ?? '';
    const where = `${layer.source.origin}: ${formatJsonPath(path)}`;
    switch (rule) {
      case 'global-only':
      case 'override':
        this.set(parent, path, value, layer.source);
        return;
      case 'mode': {
        const wanted = value as NetworkMode;
        const current = parent[key] as NetworkMode;
        if (!project) return this.set(parent, path, wanted, layer.source);
        if (wanted === 'open') {
          throw new ConfigError(
            `${where}: a project file cannot set "open" (only your global paude.json or --allow-network can turn filtering off); use "restricted" or "ask"`,
            layer.file ?? '',
            path.join('.'),
          );
        }
        if (STRICTNESS[wanted] >= STRICTNESS[current]) this.set(parent, path, wanted, layer.source);
        else {
          const from = this.sources.get(formatJsonPath(path))?.kind === 'global' ? 'your global paude.json sets' : 'the default is';
          this.warnings.push(`${where}: "${wanted}" is ignored because ${from} the stricter "${current}"`);
        }
        return;
      }
      case 'false-only':
        if (project && value !== false) {
          throw new ConfigError(`${where}: a project file can only set this to false`, layer.file ?? '', path.join('.'));
        }
        this.set(parent, path, value, layer.source);
        return;
      case 'intersect': {
        const current = parent[key];
        if (!project || !Array.isArray(current)) return this.set(parent, path, value, layer.source);
        const wanted = new Set(value as string[]);
        this.set(parent, path, (current as string[]).filter((v) => wanted.has(v)), layer.source);
        return;
      }
      case 'union': {
        if (project && key === 'allowlist' && this.root.network && (this.root.network as Json).projectMayExtend === false) {
          this.warnings.push(`${where}: ignored because your global paude.json sets network.projectMayExtend to false`);
          return;
        }
        const current = Array.isArray(parent[key]) ? (parent[key] as unknown[]) : [];
        const seen = new Set(current.map((v) => canonical(path, v)));
        for (const item of value as unknown[]) {
          const id = canonical(path, item);
          if (seen.has(id)) continue;
          seen.add(id);
          this.sources.set(formatJsonPath([...path, current.length]), layer.source);
          current.push(item);
        }
        parent[key] = current;
        return;
      }
    }
  }

  private set(parent: Json, path: string[], value: unknown, source: Source): void {
    const key = path[path.length - 1] ?? '';
    const prefix = formatJsonPath(path);
    for (const k of [...this.sources.keys()]) {
      if (k.startsWith(prefix + '.') || k.startsWith(prefix + '[')) this.sources.delete(k);
    }
    parent[key] = structuredClone(value);
    this.sources.set(prefix, source);
  }

  private containerAt(path: string[]): Json {
    let node = this.root;
    for (const key of path) {
      const next = node[key];
      if (!isPlainObject(next)) node[key] = {};
      node = node[key] as Json;
    }
    return node;
  }

  private recordAll(path: Array<string | number>, value: unknown, source: Source): void {
    this.sources.set(formatJsonPath(path), source);
    if (isPlainObject(value)) for (const [k, v] of Object.entries(value)) this.recordAll([...path, k], v, source);
  }
}

/** Entries that mean the same rule count once (`Example.com` and `example.com`). */
function canonical(path: string[], value: unknown): string {
  if (path[0] === 'network' && typeof value === 'string') {
    const parsed = parseNetworkEntry(value);
    if (parsed.ok) return formatNetworkRule(parsed.rule);
  }
  return JSON.stringify(value);
}

function isPlainObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The source that set `path`, or of its nearest ancestor. */
export function sourceOf(sources: ReadonlyMap<string, Source>, path: string): Source | undefined {
  let p = path;
  for (;;) {
    const hit = sources.get(p);
    if (hit) return hit;
    const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
    if (cut <= 0) return sources.get('(top level)');
    p = p.slice(0, cut);
  }
}

/** How a project file may use a key, in words (for the configuration reference). */
export function projectRuleText(path: string[]): string {
  const { rule } = ruleFor(path);
  switch (rule) {
    case 'global-only':
      return 'no (global only)';
    case 'union':
      return path.join('.') === 'network.allowlist' ? 'adds entries (if projectMayExtend)' : 'adds entries';
    case 'mode':
      return 'only stricter (never open)';
    case 'intersect':
      return 'narrows';
    case 'false-only':
      return 'only false';
    case 'override':
      return 'yes';
  }
}
