/**
 * The user's registry credentials, for pulling a base image through the engine's API (which
 * takes them in the X-Registry-Auth header: the engine does not read the client's files).
 *
 * - Docker: the CLI's config file (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`).
 * - Podman: `REGISTRY_AUTH_FILE` alone when set; else `$XDG_RUNTIME_DIR/containers/auth.json`,
 *   `~/.config/containers/auth.json` and then Docker's config file, the first that has an entry.
 *
 * Entries hold `auth` (base64 of `username:password`), or `username` and `password`, or an
 * `identitytoken`. Credential helpers (`credsStore`, `credHelpers`) are programs paude does not
 * run: a registry they cover is pulled without credentials, with one line saying so.
 * Every file is parsed with a zod schema; an error names the file and the JSON path, never a value.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse, type ParseError } from 'jsonc-parser';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { formatJsonPath } from '../config/json-path.js';

export type EngineKind = 'docker' | 'podman';

/** What the engine gets (as dockerode's `authconfig`, sent base64url-encoded as X-Registry-Auth). */
export interface RegistryCredentials {
  username?: string;
  password?: string;
  identitytoken?: string;
  serveraddress: string;
}

export interface AuthLookup {
  credentials?: RegistryCredentials;
  /** The file they came from. */
  file?: string;
  /** One line for the user when the registry has credentials paude cannot use. */
  notice?: string;
}

const MAX_BYTES = 1024 * 1024;

function isUserColonPassword(value: string): boolean {
  return /^[A-Za-z0-9+/=\s]+$/.test(value) && Buffer.from(value, 'base64').toString('utf8').includes(':');
}

const AuthEntrySchema = z.looseObject({
  auth: z.string().refine((value) => value === '' || isUserColonPassword(value), { message: 'base64 of "username:password"' }).optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  identitytoken: z.string().optional(),
});

/** Docker's config.json and containers-auth.json share this part; other keys are not ours to judge. */
export const AuthFileSchema = z.looseObject({
  auths: z.record(z.string(), AuthEntrySchema).optional(),
  credsStore: z.string().optional(),
  credHelpers: z.record(z.string(), z.string()).optional(),
});
export type AuthFile = z.infer<typeof AuthFileSchema>;

/** The files to look in, in order, for an engine of this kind. */
export function authFiles(kind: EngineKind, env: NodeJS.ProcessEnv = process.env, home = env.HOME ?? homedir()): string[] {
  const docker = join(env.DOCKER_CONFIG ?? join(home, '.docker'), 'config.json');
  if (kind === 'docker') return [docker];
  if (env.REGISTRY_AUTH_FILE) return [env.REGISTRY_AUTH_FILE];
  return [...(env.XDG_RUNTIME_DIR ? [join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json')] : []), join(home, '.config', 'containers', 'auth.json'), docker];
}

/**
 * Credentials for pulling `repository` (a name without tag, e.g. `host:5000/team/base`) from
 * `registry` (its host, or the engine's default registry's address for a short name).
 */
export async function findRegistryAuth(registry: string, repository: string, files: readonly string[]): Promise<AuthLookup> {
  for (const file of files) {
    const parsed = await readAuthFile(file);
    if (parsed === undefined) continue;
    const found = lookup(parsed, file, registry, repository);
    if (found !== undefined) return found;
  }
  return {};
}

/** The entry of one parsed file for this registry, or undefined when the file has none. */
export function lookup(file: AuthFile, path: string, registry: string, repository: string): AuthLookup | undefined {
  const host = hostOf(registry);
  const candidates = matchKeys(host, repository);
  const entries = Object.entries(file.auths ?? {});
  // The most specific key wins (containers-auth.json allows `host/namespace/repo` keys).
  for (const candidate of candidates) {
    const entry = entries.find(([key]) => normalizeKey(key) === candidate)?.[1];
    if (entry === undefined) continue;
    const credentials = credentialsOf(entry, registry);
    if (credentials !== undefined) return { credentials, file: path };
  }
  const helper = Object.entries(file.credHelpers ?? {}).find(([key]) => candidates.includes(normalizeKey(key)))?.[1] ?? file.credsStore;
  if (helper !== undefined && helper !== '') {
    return { file: path, notice: `paude does not run credential helpers (docker-credential-${printable(helper)}, named in ${printable(path)}), so ${printable(host)} is asked without credentials; pull the image yourself if it needs them` };
  }
  return undefined;
}

/** For one terminal line: control characters (a terminal may act on them) become spaces. */
function printable(text: string): string {
  // eslint-disable-next-line no-control-regex -- removing control characters is the point
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ');
}

function credentialsOf(entry: z.infer<typeof AuthEntrySchema>, serveraddress: string): RegistryCredentials | undefined {
  if (entry.identitytoken) return { identitytoken: entry.identitytoken, serveraddress };
  if (entry.auth) {
    const text = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = text.indexOf(':');
    return { username: text.slice(0, colon), password: text.slice(colon + 1), serveraddress };
  }
  if (entry.username !== undefined && entry.password !== undefined) return { username: entry.username, password: entry.password, serveraddress };
  return undefined;
}

/** `https://host:5000/v1/` → `host:5000`: the forms Docker's CLI and Podman write keys in. */
export function normalizeKey(key: string): string {
  return key
    .trim()
    .replace(/^[a-z]+:\/\//i, '')
    .replace(/\/v[12]\/?$/, '')
    .replace(/\/+$/, '')
    .toLowerCase();
}

function hostOf(registry: string): string {
  return normalizeKey(registry).split('/')[0] ?? '';
}

/**
 * Keys that name this repository's registry, most specific first: `host/a/b`, `host/a`,
 * `host`. A registry's default index answers to its name with and without `index.`
 * (Docker's CLI writes its default registry's key that way).
 */
function matchKeys(host: string, repository: string): string[] {
  const path = repository.startsWith(`${host}/`) ? repository.slice(host.length + 1).split('/') : [];
  const keys: string[] = [];
  for (let n = path.length; n > 0; n--) keys.push([host, ...path.slice(0, n)].join('/').toLowerCase());
  keys.push(host);
  if (host.startsWith('index.')) keys.push(host.slice('index.'.length));
  else keys.push(`index.${host}`);
  return keys;
}

export async function readAuthFile(path: string): Promise<AuthFile | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    const why = code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (code ?? String(error));
    throw new ConfigError(`${path}: cannot be read (${why}); make it readable or remove it (paude reads registry credentials from it to pull the base image)`, path);
  }
  if (bytes.length > MAX_BYTES) throw new ConfigError(`${path}: is ${bytes.length} bytes, more than a registry auth file can be (1 MiB); check that it is the right file`, path);
  return parseAuthFile(bytes.toString('utf8').replace(/^\uFEFF/, ''), path);
}

/** Parses an auth file's text; the error names the file, the JSON path and what was expected (never the value: it may be a secret). */
export function parseAuthFile(text: string, path: string): AuthFile {
  if (text.trim() === '') return {};
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // Not the parser's message: it quotes the text around the error, which may be a secret.
    throw new ConfigError(`${path}${syntaxErrorAt(text)}: invalid JSON; fix it or remove it (paude reads registry credentials from it to pull the base image)`, path);
  }
  const result = AuthFileSchema.safeParse(json);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = formatJsonPath(issue?.path ?? []);
  throw new ConfigError(`${path}: ${where}: expected ${expected(issue)}; fix it or remove it (paude reads registry credentials from it to pull the base image)`, path, where);
}

/** `:LINE:COLUMN` of the first syntax error, or nothing when it cannot be placed. */
function syntaxErrorAt(text: string): string {
  const errors: ParseError[] = [];
  parse(text, errors, { disallowComments: true, allowTrailingComma: false });
  const offset = errors[0]?.offset;
  if (offset === undefined) return '';
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return `:${line}:${offset - before.lastIndexOf('\n')}`;
}

function expected(issue: z.core.$ZodIssue | undefined): string {
  if (issue === undefined) return 'a JSON object';
  if (issue.code === 'invalid_type') return issue.expected === 'object' || issue.expected === 'record' ? 'a JSON object' : `a ${issue.expected}`;
  return issue.message;
}
