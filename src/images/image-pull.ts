/**
 * Pulls a missing base image through the engine's own API (`POST /images/create?fromImage=`),
 * so the engine's registry configuration applies (mirrors, insecure registries, how it resolves
 * a short name such as `debian:bookworm-slim`), with the user's credentials from the client's
 * auth files (registry-auth.ts) in X-Registry-Auth. Progress is summarised per layer
 * (pull-progress.ts); a failure is one sentence naming the image, the engine and what to do.
 */
import type Dockerode from 'dockerode';
import { ExitCode, PaudeError } from '../errors.js';
import type { BuildProgress } from './build-progress.js';
import { PullStreamParser } from './pull-progress.js';
import { authFiles, findRegistryAuth, type EngineKind, type RegistryCredentials } from './registry-auth.js';

export interface PullOptions {
  onProgress?: (event: BuildProgress) => void;
  /** Where the user's auth files are looked up (HOME, DOCKER_CONFIG, REGISTRY_AUTH_FILE, XDG_RUNTIME_DIR). */
  env?: NodeJS.ProcessEnv;
}

/** A base image that could not be pulled. `reason` is the engine's own words, for --debug. */
export class BasePullError extends PaudeError {
  constructor(
    readonly image: string,
    readonly engine: string,
    readonly reason: string,
    kind?: EngineKind,
  ) {
    super(
      `Pulling the base image ${image} on ${engine} failed: ${explainPullFailure(reason, kind)}; set image.base in your global paude.json (or PAUDE_BASE_IMAGE) to an image that engine has or can pull.`,
      ExitCode.engine,
    );
  }
}

export interface ImageName {
  /** The registry part when the name has one (`host:5000`, `localhost`), else undefined: the engine's default. */
  registry?: string;
  /** Everything before the tag or digest. */
  repository: string;
  tag?: string;
  digest?: string;
}

/** Splits an image reference the way the engines do (a first part with `.` or `:`, or `localhost`, is a registry). */
export function parseImageName(name: string): ImageName {
  const at = name.indexOf('@');
  const digest = at >= 0 ? name.slice(at + 1) : undefined;
  let repository = at >= 0 ? name.slice(0, at) : name;
  let tag: string | undefined;
  const colon = repository.lastIndexOf(':');
  if (colon > repository.lastIndexOf('/')) {
    tag = repository.slice(colon + 1);
    repository = repository.slice(0, colon);
  }
  const slash = repository.indexOf('/');
  const first = slash >= 0 ? repository.slice(0, slash) : '';
  const registry = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost') ? first : undefined;
  return { ...(registry !== undefined ? { registry } : {}), repository, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

export interface EngineIdentity {
  kind: EngineKind;
  /** For messages: `Podman 4.3.1 at /run/podman/podman.sock`. */
  description: string;
}

export async function identifyEngine(docker: Dockerode): Promise<EngineIdentity> {
  const socket = (docker.modem as { socketPath?: unknown }).socketPath;
  const where = typeof socket === 'string' ? ` at ${socket}` : '';
  try {
    const version = await docker.version();
    const podman = (version.Components ?? []).some((component) => /podman/i.test(component.Name));
    return { kind: podman ? 'podman' : 'docker', description: `${podman ? 'Podman' : 'Docker'} ${version.Version}${where}` };
  } catch {
    return { kind: 'docker', description: `the container engine${where}` };
  }
}

export async function pullImage(docker: Dockerode, name: string, options: PullOptions = {}): Promise<void> {
  const engine = await identifyEngine(docker);
  const parsed = parseImageName(name);
  const authconfig = await credentialsFor(docker, engine.kind, parsed, options);
  const parser = new PullStreamParser(name, (event) => options.onProgress?.(event));
  options.onProgress?.(parser.summary());
  try {
    // Always a tag or digest: without one, the API pulls every tag of the repository.
    const stream = await docker.createImage({ fromImage: parsed.repository, tag: parsed.digest ?? parsed.tag ?? 'latest', ...(authconfig ? { authconfig } : {}) });
    for await (const chunk of stream as AsyncIterable<Buffer | string>) parser.push(chunk);
  } catch (error) {
    throw new BasePullError(name, engine.description, engineMessage(error), engine.kind);
  }
  parser.end();
  if (parser.error !== undefined) throw new BasePullError(name, engine.description, parser.error, engine.kind);
  options.onProgress?.({ kind: 'pulled', text: name });
}

async function credentialsFor(docker: Dockerode, kind: EngineKind, name: ImageName, options: PullOptions): Promise<RegistryCredentials | undefined> {
  // A short name goes to the engine's default registry. Docker names it (its CLI keys the
  // credentials by that address); Podman's compatible API does not, and uses its own auth file.
  const registry = name.registry ?? (kind === 'docker' ? await defaultRegistry(docker) : undefined);
  if (registry === undefined) return undefined;
  const env = options.env ?? process.env;
  const found = await findRegistryAuth(registry, name.repository, authFiles(kind, env, env.HOME));
  if (found.notice !== undefined) options.onProgress?.({ kind: 'notice', text: found.notice });
  return found.credentials;
}

async function defaultRegistry(docker: Dockerode): Promise<string | undefined> {
  try {
    const info = (await docker.info()) as { IndexServerAddress?: unknown };
    return typeof info.IndexServerAddress === 'string' && info.IndexServerAddress !== '' ? info.IndexServerAddress : undefined;
  } catch {
    return undefined;
  }
}

/** The engine's words, shortened to what a user can act on. */
export function explainPullFailure(reason: string, kind?: EngineKind): string {
  // eslint-disable-next-line no-control-regex -- the engine's words go on one terminal line
  const text = reason.replace(/[\s\u0000-\u001f\u007f-\u009f]+/g, ' ').trim();
  const login = kind === undefined ? '`docker login` or `podman login`' : `\`${kind} login\``;
  if (/manifest unknown|not found|name unknown|no such image|does not exist/i.test(text)) {
    // Docker's default registry says "does not exist or may require 'docker login'" for both.
    return /login/i.test(text) ? `the registry has no such image, or it needs a login (${login})` : 'the registry has no such image';
  }
  if (/unauthorized|authentication required|no basic auth credentials|denied|forbidden|\b401\b|\b403\b/i.test(text)) return `the registry refused access (log in with ${login} first)`;
  if (/server gave HTTP response to HTTPS client/i.test(text)) {
    return "the registry answers plain HTTP and the engine expects HTTPS (mark it insecure: `insecure = true` in Podman's registries.conf, which a running Podman service reads again only when restarted, or `insecure-registries` in Docker's daemon.json)";
  }
  if (/x509|certificate/i.test(text)) return "the engine does not trust the registry's TLS certificate (give the engine its CA certificate: /etc/containers/certs.d or /etc/docker/certs.d)";
  if (/short-name|short name|unqualified-search/i.test(text)) return 'the engine cannot resolve the short name (use a fully qualified name, or set unqualified-search-registries in registries.conf)';
  const network = /(connection refused|no such host|i\/o timeout|network is unreachable|no route to host|TLS handshake timeout|connection reset by peer|context deadline exceeded|server misbehaving|temporary failure in name resolution)/i.exec(text);
  if (network) return `the registry could not be reached (${network[1]?.toLowerCase() ?? 'no network'})`;
  if (/invalid reference format/i.test(text)) return 'the name is not a valid image reference';
  const cleaned = text.replace(/^(initializing source|reading manifest)[^:]*: /i, '').replace(/^normalizing image: /i, '');
  return cleaned.length > 200 ? `${cleaned.slice(0, 199)}…` : cleaned;
}

/** dockerode words HTTP errors as "(HTTP code 404) unexpected - MESSAGE"; the engine's MESSAGE is what matters. */
function engineMessage(error: unknown): string {
  const json = typeof error === 'object' && error !== null ? (error as { json?: { message?: unknown } }).json : undefined;
  if (typeof json?.message === 'string') return json.message;
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^\(HTTP code \d+\) [a-z ]+- /, '');
}
