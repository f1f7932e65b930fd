/**
 * @crates: the registries in cargo's own configuration ($CARGO_HOME/config.toml, or the older
 * $CARGO_HOME/config): `[source.NAME] registry = URL` (mirrors, usually the target of
 * `[source.crates-io] replace-with`) and `[registries.NAME] index = URL`, and the
 * CARGO_REGISTRIES_NAME_INDEX variables. Stable cargo has no command that prints its default
 * registry, so when crates-io is not replaced the group says so instead of guessing hosts.
 * A project's .cargo/config.toml is not read: the repository must not choose the agent's hosts.
 */
import { join } from 'node:path';
import { entryOfUrl, unique, type ClientHost, type ClientLookup } from './client-host.js';

export interface CargoRegistries {
  urls: string[];
  /** `[source.crates-io] replace-with` is set: the default registry is not used. */
  defaultReplaced: boolean;
}

/** The registry URLs and the crates-io replacement in one cargo config file (a subset of TOML). */
export function cargoRegistries(text: string): CargoRegistries {
  const strings = tomlStrings(text);
  const urls: string[] = [];
  let defaultReplaced = false;
  for (const [path, value] of strings) {
    const [table, name, key] = path;
    if (path.length !== 3) continue;
    if (table === 'source' && key === 'registry') urls.push(value);
    if (table === 'registries' && key === 'index') urls.push(value);
    if (table === 'source' && name === 'crates-io' && key === 'replace-with' && value) defaultReplaced = true;
  }
  return { urls, defaultReplaced };
}

/**
 * Every string value of a TOML document as [key path, value]: table headers, dotted keys and
 * inline tables are followed; arrays, numbers, multi-line strings and the rest are skipped.
 */
export function tomlStrings(text: string): Array<[string[], string]> {
  const out: Array<[string[], string]> = [];
  let table: string[] | undefined = [];
  for (const line of text.split('\n')) {
    const s = new Scanner(line);
    s.space();
    if (s.done() || s.peek() === '#') continue;
    if (s.peek() === '[') {
      s.next();
      if (s.peek() === '[') {
        table = undefined; // an array of tables: nothing cargo's registries use
        continue;
      }
      const path = s.keyPath();
      s.space();
      table = path && s.peek() === ']' ? path : undefined;
      continue;
    }
    if (!table) continue;
    s.keyValues(table, out);
  }
  return out;
}

class Scanner {
  private i = 0;
  constructor(private readonly text: string) {}

  done(): boolean {
    return this.i >= this.text.length;
  }
  peek(): string {
    return this.text[this.i] ?? '';
  }
  next(): string {
    return this.text[this.i++] ?? '';
  }
  space(): void {
    while (this.peek() === ' ' || this.peek() === '\t' || this.peek() === '\r') this.i++;
  }

  /** `a.b."c"` -> ['a', 'b', 'c']; undefined when it is not a key. */
  keyPath(): string[] | undefined {
    const path: string[] = [];
    for (;;) {
      this.space();
      const key = this.peek() === '"' || this.peek() === "'" ? this.string() : this.bare();
      if (key === undefined || key === '') return undefined;
      path.push(key);
      this.space();
      if (this.peek() !== '.') return path;
      this.next();
    }
  }

  /** `key = value` (one, or the members of an inline table), appending string values under `prefix`. */
  keyValues(prefix: string[], out: Array<[string[], string]>): void {
    const key = this.keyPath();
    this.space();
    if (!key || this.next() !== '=') return;
    this.space();
    const path = [...prefix, ...key];
    if (this.peek() === '{') {
      this.next();
      for (;;) {
        this.space();
        if (this.peek() === '}' || this.done()) return;
        this.keyValues(path, out);
        this.space();
        if (this.peek() !== ',') return;
        this.next();
      }
    }
    if (this.peek() === '"' || this.peek() === "'") {
      const value = this.string();
      if (value !== undefined) out.push([path, value]);
      return;
    }
    // Another kind of value: skip it up to the next member of an inline table.
    while (!this.done() && this.peek() !== ',' && this.peek() !== '}') this.next();
  }

  private bare(): string {
    const start = this.i;
    while (/[A-Za-z0-9_-]/.test(this.peek())) this.i++;
    return this.text.slice(start, this.i);
  }

  /** A one-line basic ("...", with escapes) or literal ('...') string. */
  private string(): string | undefined {
    const quote = this.next();
    if (this.text.startsWith(quote.repeat(2), this.i)) return undefined; // multi-line: not used here
    let value = '';
    while (!this.done()) {
      const c = this.next();
      if (c === quote) return value;
      if (c === '\\' && quote === '"') {
        const e = this.next();
        if (e === 'u' || e === 'U') {
          const hex = this.text.slice(this.i, this.i + (e === 'u' ? 4 : 8));
          this.i += hex.length;
          const code = Number.parseInt(hex, 16);
          if (Number.isNaN(code) || code > 0x10ffff) return undefined;
          value += String.fromCodePoint(code);
        } else {
          value += ({ n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', '"': '"', '\\': '\\' } as Record<string, string>)[e] ?? e;
        }
        continue;
      }
      value += c;
    }
    return undefined;
  }
}

/** CARGO_REGISTRIES_NAME_INDEX variables. */
export function cargoEnvUrls(env: NodeJS.ProcessEnv): string[] {
  return Object.entries(env)
    .filter(([k, v]) => /^CARGO_REGISTRIES_[A-Z0-9_]+_INDEX$/.test(k) && typeof v === 'string')
    .map(([, v]) => v ?? '');
}

export async function lookupCargo(host: ClientHost): Promise<ClientLookup> {
  const cargoHome = host.env.CARGO_HOME || join(host.home, '.cargo');
  const texts = await Promise.all(['config.toml', 'config'].map((f) => host.readText(join(cargoHome, f))));
  const found = texts.filter((t): t is string => t !== undefined).map(cargoRegistries);
  const entries = unique([...found.flatMap((r) => r.urls), ...cargoEnvUrls(host.env)].map(entryOfUrl));
  if (found.some((r) => r.defaultReplaced)) return entries.length > 0 ? { entries } : { entries, problem: "cargo's crates-io replacement names no http or https registry" };
  const where = join(cargoHome, 'config.toml');
  return entries.length > 0
    ? { entries, problem: `cargo does not report its default registry, only the ones configured in ${where}` }
    : { entries, problem: `cargo has no registry configured in ${where} and does not report its default one` };
}
