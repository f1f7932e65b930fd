/**
 * The API server: authentication (a bearer token), routing of /api and /apis paths to
 * resources, RBAC denials and quotas set by the test, the verbs (create, get, list, watch,
 * update, patch, delete, deletecollection), and the pod subresources (status, log, exec,
 * attach). Anything it does not understand is answered 501 and recorded.
 */
import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type Docker from 'dockerode';
import type { IPodSpec } from 'kubernetes-models/v1';
import { parse as parseYaml } from 'yaml';
import { ApiError, NotUnderstood, alreadyExists, badRequest, conflict, forbidden, internal, methodNotAllowed, notFound, status, unauthorized, unsupportedMediaType, type Status } from './errors.js';
import { checkStrategicDirectives, jsonPatch, mergePatch } from './patch.js';
import { RESOURCES, VERSION_INFO, apiGroupDoc, apiGroupList, apiVersionOf, apiVersions, findResource, resourceByKind, resourceList, type ResourceDef, type Verb } from './resources.js';
import { PVC_PROTECTION, type PodRuntime } from './runtime.js';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from './selectors.js';
import type { Store, WatchEventType } from './store.js';
import { SUBPROTOCOLS, StreamServer, chooseSubprotocol } from './streams.js';
import { clone, deepEqual, isRecord, timestamp, type KubeObject } from './types.js';
import { applyDefaults, checkKindAndVersion, podUnsupported, serviceUnsupported, validateObject } from './validation.js';

const PODS = resourceByKind('Pod');
const NAMESPACES = resourceByKind('Namespace');
const SERVICES = resourceByKind('Service');
const PVCS = resourceByKind('PersistentVolumeClaim');

export const USER = 'emulator';
const PROTECTED_NAMESPACES = ['default', 'kube-system', 'kube-public'];

export interface Denial {
  verb: string;
  resource: string;
  subresource?: string;
}

export interface ServerOptions {
  store: Store;
  runtime: PodRuntime;
  docker: Docker;
  token: string;
  requests: Array<{ method: string; path: string }>;
  unknown: Array<{ method: string; path: string; reason: string }>;
  denials: Denial[];
  quotas: Map<string, number>;
}

type Route =
  | { kind: 'doc'; body: unknown; text?: boolean }
  | { kind: 'resource'; def: ResourceDef; namespace?: string; name?: string; subresource?: string; watchPath: boolean };

interface Ctx {
  req: IncomingMessage;
  method: string;
  path: string;
  query: URLSearchParams;
  /** Warning headers of the response (unknown fields dropped, as with fieldValidation=Warn). */
  warnings: string[];
}

export class KubeServer {
  private readonly server = http.createServer((req, res) => void this.onRequest(req, res));
  private readonly streams: StreamServer;
  private readonly watches = new Set<() => void>();
  private clusterIPs = 0;
  url = '';

  constructor(private readonly o: ServerOptions) {
    this.streams = new StreamServer(o.docker);
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
  }

  async close(): Promise<void> {
    for (const stop of [...this.watches]) stop();
    this.streams.close();
    this.o.store.stopWatches();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  // -------------------------------------------------------------------------------------------

  private record(method: string, path: string): void {
    this.o.requests.push({ method, path });
  }

  private notUnderstood(ctx: Pick<Ctx, 'method' | 'path'>, error: NotUnderstood): void {
    this.o.unknown.push({ method: ctx.method, path: ctx.path, reason: error.reason });
  }

  private authenticated(req: IncomingMessage): boolean {
    return req.headers.authorization === `Bearer ${this.o.token}`;
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const ctx: Ctx = { req, method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, warnings: [] };
    this.record(ctx.method, ctx.path);
    try {
      if (!this.authenticated(req)) throw unauthorized();
      await this.dispatch(ctx, res);
    } catch (error) {
      if (error instanceof NotUnderstood) this.notUnderstood(ctx, error);
      // Anything else that is not an API error is a bug of the emulator: recorded as well.
      if (!(error instanceof ApiError)) this.o.unknown.push({ method: ctx.method, path: ctx.path, reason: `internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}` });
      const st = error instanceof ApiError ? error.status : internal(error instanceof Error ? error.message : String(error)).status;
      if (res.headersSent) {
        res.end();
        return;
      }
      sendJson(res, st.code, st);
    }
  }

  /** exec and attach: WebSocket upgrades (SPDY and port-forward are not emulated). */
  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const ctx: Ctx = { req, method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, warnings: [] };
    this.record(ctx.method, ctx.path);
    const refuse = (st: Status): void => {
      const body = JSON.stringify(st);
      socket.end(`HTTP/1.1 ${st.code} ${http.STATUS_CODES[st.code] ?? ''}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    };
    try {
      if (!this.authenticated(req)) throw unauthorized();
      if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') throw new NotUnderstood(`upgrade to ${req.headers.upgrade ?? '?'} (only WebSocket streams are emulated, not SPDY)`);
      const route = this.route(ctx.path);
      if (route.kind !== 'resource' || route.def !== PODS || !route.name || !['exec', 'attach', 'portforward'].includes(route.subresource ?? '')) {
        throw new NotUnderstood(`a WebSocket upgrade of ${ctx.path}`);
      }
      if (route.subresource === 'portforward') throw new NotUnderstood('pods/portforward');
      const sub = route.subresource as 'exec' | 'attach';
      this.authorize(route, 'create');
      this.authorize(route, 'get');
      const protocol = chooseSubprotocol(req.headers['sec-websocket-protocol']);
      if (!protocol) {
        throw new NotUnderstood(`WebSocket subprotocols ${JSON.stringify(req.headers['sec-websocket-protocol'] ?? '')} (the emulator speaks ${SUBPROTOCOLS.join(', ')})`);
      }
      const stream = this.streamRequest(route.namespace ?? 'default', route.name, sub, ctx.query);
      this.streams.serve(req, socket, head, stream);
    } catch (error) {
      if (error instanceof NotUnderstood) {
        this.notUnderstood(ctx, error);
        // A WebSocket client sees only the status line: an unknown subprotocol is the real server's 400.
        refuse(error.reason.startsWith('WebSocket subprotocols') ? status(400, 'BadRequest', error.status.message ?? '') : error.status);
        return;
      }
      if (!(error instanceof ApiError)) this.o.unknown.push({ method: ctx.method, path: ctx.path, reason: `internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}` });
      refuse(error instanceof ApiError ? error.status : internal(error instanceof Error ? error.message : String(error)).status);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Routing

  private route(path: string): Route {
    const trimmed = path.length > 1 ? path.replace(/\/+$/, '') : path;
    switch (trimmed) {
      case '/api':
        return { kind: 'doc', body: apiVersions(this.url.replace(/^https?:\/\//, '')) };
      case '/api/v1':
        return { kind: 'doc', body: resourceList('', 'v1') };
      case '/apis':
        return { kind: 'doc', body: apiGroupList() };
      case '/version':
        return { kind: 'doc', body: VERSION_INFO };
      case '/healthz':
      case '/livez':
      case '/readyz':
        return { kind: 'doc', body: 'ok', text: true };
      default:
        break;
    }
    const seg = trimmed.split('/').slice(1).map(decodeURIComponent);
    let group: string;
    let version: string;
    let rest: string[];
    if (seg[0] === 'api' && seg[1] === 'v1') {
      group = '';
      version = 'v1';
      rest = seg.slice(2);
    } else if (seg[0] === 'apis' && seg.length >= 2) {
      group = seg[1] ?? '';
      if (seg.length === 2) {
        const doc = apiGroupDoc(group);
        if (doc) return { kind: 'doc', body: doc };
        throw new NotUnderstood(`the API group ${group}`);
      }
      version = seg[2] ?? '';
      if (seg.length === 3) {
        if (RESOURCES.some((r) => r.group === group && r.version === version)) return { kind: 'doc', body: resourceList(group, version) };
        throw new NotUnderstood(`the API group version ${group}/${version}`);
      }
      rest = seg.slice(3);
    } else throw new NotUnderstood(`the path ${path}`);

    let watchPath = false;
    if (rest[0] === 'watch') {
      watchPath = true;
      rest = rest.slice(1);
    }
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3 && !['status', 'finalize'].includes(rest[2] ?? '')) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const [plural = '', name, subresource, ...extra] = rest;
    const def = findResource(group, version, plural);
    const gv = group ? `${group}/${version}` : version;
    if (!def) throw new NotUnderstood(`the resource "${plural}" in ${gv}`);
    if (extra.length) throw new NotUnderstood(`the path ${path} (below a subresource)`);
    if (def.namespaced && namespace === undefined && name !== undefined) throw new NotUnderstood(`${path}: a namespaced resource by name without a namespace`);
    if (!def.namespaced && namespace !== undefined) throw new NotUnderstood(`${path}: ${plural} is not namespaced`);
    if (subresource !== undefined && !def.subresources.includes(subresource)) throw new NotUnderstood(`the subresource ${plural}/${subresource}`);
    return { kind: 'resource', def, namespace, name, subresource, watchPath };
  }

  private authorize(route: Extract<Route, { kind: 'resource' }>, verb: string): void {
    const { def, subresource, namespace, name } = route;
    const hit = this.o.denials.find(
      (d) =>
        (d.verb === verb || d.verb === '*') &&
        (d.resource === def.plural || d.resource === `${def.plural}.${def.group}` || d.resource === '*') &&
        (d.subresource ?? '') === (subresource ?? ''),
    );
    if (!hit) return;
    const resource = subresource ? `${def.plural}/${subresource}` : def.plural;
    const scope = def.namespaced && namespace !== undefined ? `in the namespace "${namespace}"` : 'at the cluster scope';
    throw forbidden(def, name, `User "${USER}" cannot ${verb} resource "${resource}" in API group "${def.group}" ${scope}`);
  }

  private async dispatch(ctx: Ctx, res: ServerResponse): Promise<void> {
    const route = this.route(ctx.path);
    if (route.kind === 'doc') {
      if (ctx.method !== 'GET') throw methodNotAllowed();
      if (route.text) {
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end(String(route.body));
      } else sendJson(res, 200, route.body);
      return;
    }
    const { def, namespace, name, subresource } = route;
    const m = ctx.method;
    const watch = route.watchPath || isTrue(ctx.query.get('watch'));
    if (subresource === 'exec' || subresource === 'attach' || subresource === 'portforward') {
      if (subresource === 'portforward') throw new NotUnderstood('pods/portforward');
      this.authorize(route, 'create');
      // A plain request where an upgrade is expected: the real server's answer.
      throw badRequest('Upgrade request required');
    }
    let verb: Verb;
    if (m === 'GET') verb = name === undefined ? (watch ? 'watch' : 'list') : watch ? 'watch' : 'get';
    else if (m === 'POST') {
      if (name !== undefined) throw methodNotAllowed();
      verb = 'create';
    } else if (m === 'PUT') verb = 'update';
    else if (m === 'PATCH') verb = 'patch';
    else if (m === 'DELETE') verb = name === undefined ? 'deletecollection' : 'delete';
    else throw new NotUnderstood(`the method ${m}`);
    if ((verb === 'update' || verb === 'patch') && name === undefined) throw methodNotAllowed();
    const effectiveVerb = subresource === 'log' ? 'get' : verb;
    if (!subresource && !def.verbs.includes(verb)) throw new NotUnderstood(`${verb} on ${def.plural}`);
    this.authorize(route, effectiveVerb);
    const ns = def.namespaced ? namespace : undefined;

    if (subresource === 'log') {
      if (m !== 'GET' || name === undefined) throw methodNotAllowed();
      await this.logs(ctx, res, ns ?? 'default', name);
      return;
    }
    if (subresource === 'status') {
      if (name === undefined) throw methodNotAllowed();
      if (verb === 'get') return sendJson(res, 200, this.mustGet(def, ns, name));
      if (verb === 'update' || verb === 'patch') return sendJson(res, 200, await this.write(ctx, def, ns, name, verb, true));
      throw methodNotAllowed();
    }
    switch (verb) {
      case 'list':
        return sendJson(res, 200, this.list(ctx, def, ns));
      case 'watch':
        return this.watch(ctx, res, def, ns, name);
      case 'get':
        return sendJson(res, 200, this.mustGet(def, ns, name ?? ''));
      case 'create': {
        const created = await this.create(ctx, def, ns);
        return sendJson(res, 201, created, ctx.warnings);
      }
      case 'update':
      case 'patch': {
        const written = await this.write(ctx, def, ns, name ?? '', verb, false);
        return sendJson(res, 200, written, ctx.warnings);
      }
      case 'delete': {
        const out = await this.deleteOne(ctx, def, ns, name ?? '');
        return sendJson(res, 200, out);
      }
      case 'deletecollection':
        return sendJson(res, 200, await this.deleteCollection(ctx, def, ns));
    }
  }

  private mustGet(def: ResourceDef, ns: string | undefined, name: string): KubeObject {
    const o = this.o.store.get(def, ns, name);
    if (!o) throw notFound(def, name);
    return o;
  }

  // -------------------------------------------------------------------------------------------
  // Reads

  private selectors(ctx: Ctx, def: ResourceDef): { labels: ReturnType<typeof parseLabelSelector>; fields: ReturnType<typeof parseFieldSelector> } {
    return {
      labels: parseLabelSelector(ctx.query.get('labelSelector') ?? undefined),
      fields: parseFieldSelector(ctx.query.get('fieldSelector') ?? undefined, ['metadata.name', ...(def.namespaced ? ['metadata.namespace'] : []), ...def.fieldSelectors]),
    };
  }

  private list(ctx: Ctx, def: ResourceDef, ns: string | undefined): Record<string, unknown> {
    if (ctx.query.get('resourceVersionMatch') === 'Exact') throw new NotUnderstood('list with resourceVersionMatch=Exact (the emulator lists the current state)');
    const { labels, fields } = this.selectors(ctx, def);
    const rv = this.o.store.resourceVersion;
    let items = this.o.store.list(def, ns).filter((o) => matchesLabels(labels, o.metadata.labels) && matchesFields(fields, o));
    // Paging: `continue` carries the offset (and the resourceVersion of the first page).
    const limit = Number(ctx.query.get('limit') ?? '0');
    let offset = 0;
    const token = ctx.query.get('continue');
    if (token) {
      try {
        const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { offset: number };
        offset = parsed.offset;
      } catch {
        throw badRequest('continue key is not valid: illegal base64 data');
      }
    }
    items = items.slice(offset);
    let more: string | undefined;
    let remaining: number | undefined;
    if (limit > 0 && items.length > limit) {
      remaining = items.length - limit;
      items = items.slice(0, limit);
      more = Buffer.from(JSON.stringify({ offset: offset + limit, rv })).toString('base64url');
    }
    // List items carry no apiVersion/kind: the list's kind says what they are (as on a real server).
    for (const item of items) {
      delete (item as Partial<KubeObject>).apiVersion;
      delete (item as Partial<KubeObject>).kind;
    }
    return {
      kind: `${def.kind}List`,
      apiVersion: apiVersionOf(def),
      metadata: { resourceVersion: rv, ...(more ? { continue: more, remainingItemCount: remaining } : {}) },
      items,
    };
  }

  private watch(ctx: Ctx, res: ServerResponse, def: ResourceDef, ns: string | undefined, name: string | undefined): void {
    const { labels, fields } = this.selectors(ctx, def);
    if (name !== undefined) fields.push({ field: 'metadata.name', op: '=', value: name });
    const timeout = Number(ctx.query.get('timeoutSeconds') ?? '0');
    const bookmarks = isTrue(ctx.query.get('allowWatchBookmarks'));
    const initial = isTrue(ctx.query.get('sendInitialEvents'));
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    const write = (type: WatchEventType | 'ERROR' | 'BOOKMARK', object: unknown): void => {
      if (!res.writableEnded) res.write(`${JSON.stringify({ type, object })}\n`);
    };
    const bookmark = (annotations?: Record<string, string>): void =>
      write('BOOKMARK', { kind: def.kind, apiVersion: apiVersionOf(def), metadata: { resourceVersion: this.o.store.resourceVersion, ...(annotations ? { annotations } : {}) } });
    let stopWatch: () => void = () => undefined;
    const timers: NodeJS.Timeout[] = [];
    const stop = (): void => {
      stopWatch();
      timers.forEach((t) => clearTimeout(t));
      this.watches.delete(stop);
      if (!res.writableEnded) res.end();
    };
    this.watches.add(stop);
    ctx.req.on('close', stop);
    res.on('close', stop);
    let failed = false;
    const rv = ctx.query.get('resourceVersion') ?? undefined;
    stopWatch = this.o.store.watch({ def, namespace: ns, labels, fields }, initial ? undefined : rv, (type, object) => {
      write(type, object);
      if (type === 'ERROR') failed = true;
    });
    if (failed) return stop();
    if (initial) bookmark({ 'k8s.io/initial-events-end': 'true' });
    if (timeout > 0) timers.push(setTimeout(stop, timeout * 1000));
    if (bookmarks) {
      const tick = (): void => {
        bookmark();
        timers.push(setTimeout(tick, 15_000));
      };
      timers.push(setTimeout(tick, 15_000));
    }
  }

  // -------------------------------------------------------------------------------------------
  // Writes

  private async body(ctx: Ctx, patch = false): Promise<unknown> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of ctx.req) {
      size += (chunk as Buffer).length;
      if (size > 3 * 1024 * 1024) throw new ApiError(status(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728'));
      chunks.push(chunk as Buffer);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    const type = (ctx.req.headers['content-type'] ?? 'application/json').split(';')[0]?.trim().toLowerCase() ?? '';
    if (/protobuf|cbor/.test(type)) throw new NotUnderstood(`request bodies of type ${type}`);
    if (patch) {
      if (type === 'application/apply-patch+yaml' || type === 'application/apply-patch+cbor') throw new NotUnderstood('server-side apply (application/apply-patch+yaml)');
      if (!['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json'].includes(type)) throw unsupportedMediaType(type);
    } else if (!['application/json', 'application/yaml', 'application/x-yaml', 'text/yaml'].includes(type)) throw unsupportedMediaType(type);
    if (text.trim() === '') return undefined;
    try {
      return type.includes('yaml') ? (parseYaml(text) as unknown) : (JSON.parse(text) as unknown);
    } catch (error) {
      throw badRequest(`the body of the request could not be decoded: ${(error as Error).message}`);
    }
  }

  private dryRun(ctx: Ctx): boolean {
    const values = ctx.query.getAll('dryRun');
    for (const v of values) if (v !== 'All') throw badRequest(`dryRun: Unsupported value: ${JSON.stringify(v)}: supported values: "All"`);
    return values.length > 0;
  }

  private async create(ctx: Ctx, def: ResourceDef, ns: string | undefined): Promise<KubeObject> {
    const dryRun = this.dryRun(ctx);
    const raw = await this.body(ctx);
    checkKindAndVersion(def, raw);
    const o = clone(raw) as unknown as KubeObject;
    o.apiVersion = apiVersionOf(def);
    o.kind = def.kind;
    o.metadata = isRecord(o.metadata) ? o.metadata : ({} as KubeObject['metadata']);
    const meta = o.metadata;
    if (def.namespaced) {
      if (meta.namespace !== undefined && meta.namespace !== '' && meta.namespace !== ns) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      meta.namespace = ns;
    }
    if (meta.resourceVersion) throw internal('resourceVersion should not be set on objects to be created');
    if (!meta.name && typeof meta.generateName === 'string' && meta.generateName) {
      const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
      meta.name = meta.generateName + Array.from({ length: 5 }, () => alphabet[Math.floor(Math.random() * alphabet.length)]).join('');
    }
    meta.name ??= '';
    dropUnknownFields(def, o, ctx.warnings);
    validateObject(def, o);
    if (def === PODS) {
      const why = podUnsupported(o.spec as Record<string, unknown>);
      if (why) throw new NotUnderstood(why);
    }
    if (def === SERVICES) {
      const why = serviceUnsupported(o);
      if (why) throw new NotUnderstood(why);
    }
    if (def.namespaced) {
      const nsObj = this.o.store.get(NAMESPACES, undefined, ns ?? '');
      if (!nsObj) throw notFound(NAMESPACES, ns ?? '');
      if (nsObj.metadata.deletionTimestamp) throw forbidden(def, meta.name, `unable to create new content in namespace ${ns ?? ''} because it is being terminated`);
    }
    if (this.o.store.get(def, ns, meta.name)) throw alreadyExists(def, meta.name);
    this.checkQuota(def, ns, meta.name);
    // System fields: what the client sent is replaced.
    meta.uid = randomUUID();
    meta.creationTimestamp = timestamp();
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete meta.selfLink;
    if (def.hasStatus) delete o.status;
    applyDefaults(def, o);
    if (def === SERVICES) this.allocateClusterIP(o);
    if (def === PVCS) {
      const spec = o.spec as Record<string, unknown>;
      const requests = isRecord(spec.resources) && isRecord(spec.resources.requests) ? spec.resources.requests : {};
      spec.volumeName = `pvc-${meta.uid}`;
      meta.finalizers = [...new Set([...(meta.finalizers ?? []), PVC_PROTECTION])];
      meta.annotations = { ...(meta.annotations ?? {}), 'pv.kubernetes.io/bind-completed': 'yes', 'pv.kubernetes.io/bound-by-controller': 'yes' };
      o.status = { phase: 'Bound', accessModes: spec.accessModes, capacity: { storage: requests.storage } };
    }
    if (dryRun) return o;
    const created = this.o.store.create(def, o);
    if (def === PODS) this.o.runtime.podCreated(created);
    if (def === PVCS) this.o.runtime.pvcCreated(created);
    if (def === SERVICES) this.o.runtime.syncAliases(ns ?? 'default');
    return created;
  }

  private allocateClusterIP(o: KubeObject): void {
    const spec = o.spec as Record<string, unknown>;
    if (spec.clusterIP === 'None') {
      spec.clusterIPs = ['None'];
      return;
    }
    if (typeof spec.clusterIP !== 'string' || spec.clusterIP === '') {
      // Not routable: pods reach services by name (the aliases), never by this address.
      const n = ++this.clusterIPs;
      spec.clusterIP = `10.96.${Math.floor(n / 250) + 1}.${(n % 250) + 1}`;
    }
    spec.clusterIPs = [spec.clusterIP];
  }

  private checkQuota(def: ResourceDef, ns: string | undefined, name: string): void {
    const max = this.o.quotas.get(def.plural) ?? this.o.quotas.get(`${def.plural}.${def.group}`);
    if (max === undefined || ns === undefined) return;
    const used = this.o.store.count(def, ns, (o) => def !== PODS || !['Succeeded', 'Failed'].includes(String(isRecord(o.status) ? o.status.phase : '')));
    if (used + 1 <= max) return;
    const key = ['pods', 'services', 'secrets', 'configmaps', 'persistentvolumeclaims'].includes(def.plural) && !def.group ? def.plural : `count/${def.group ? `${def.plural}.${def.group}` : def.plural}`;
    throw forbidden(def, name, `exceeded quota: emulator-quota, requested: ${key}=1, used: ${key}=${used}, limited: ${key}=${max}`);
  }

  /** PUT and PATCH, of an object or of its status subresource. */
  private async write(ctx: Ctx, def: ResourceDef, ns: string | undefined, name: string, verb: 'update' | 'patch', statusOnly: boolean): Promise<KubeObject> {
    const dryRun = this.dryRun(ctx);
    const body = await this.body(ctx, verb === 'patch');
    const old = this.mustGet(def, ns, name);
    let next: KubeObject;
    if (verb === 'update') {
      checkKindAndVersion(def, body);
      next = clone(body) as unknown as KubeObject;
      next.apiVersion = apiVersionOf(def);
      next.kind = def.kind;
      next.metadata = isRecord(next.metadata) ? next.metadata : ({} as KubeObject['metadata']);
      if (next.metadata.name !== name) throw badRequest(`the name of the object (${next.metadata.name ?? ''}) does not match the name on the URL (${name})`);
      if (def.namespaced && next.metadata.namespace !== undefined && next.metadata.namespace !== ns) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    } else {
      const type = (ctx.req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
      if (type === 'application/json-patch+json') next = jsonPatch(old, body) as KubeObject;
      else {
        if (!isRecord(body)) throw badRequest('the body of the request was not a JSON object');
        if (type === 'application/strategic-merge-patch+json') checkStrategicDirectives(body);
        next = mergePatch(old, body) as KubeObject;
      }
      if (!isRecord(next)) throw badRequest('the patched object is not a JSON object');
      checkKindAndVersion(def, next);
      if (!isRecord(next.metadata)) next.metadata = { name };
    }
    dropUnknownFields(def, next, ctx.warnings);
    const rv = next.metadata.resourceVersion;
    if (rv !== undefined && rv !== '' && rv !== old.metadata.resourceVersion) throw conflict(def, name);
    if (def.namespaced) next.metadata.namespace = ns;
    // System metadata is the server's.
    for (const f of ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation'] as const) {
      if (old.metadata[f] === undefined) delete next.metadata[f];
      else (next.metadata as unknown as Record<string, unknown>)[f] = old.metadata[f];
    }
    if (statusOnly) {
      // The status subresource changes the status only.
      const withStatus = clone(old);
      withStatus.status = next.status;
      next = withStatus;
    } else if (def.hasStatus) next.status = old.status;
    // Defaults apply to what the client sent (so a manifest without them equals the stored object).
    if (!statusOnly) {
      const keep = next.status;
      applyDefaults(def, next);
      if (def.hasStatus) next.status = keep;
      if (def === NAMESPACES) next.spec = old.spec;
      if (def === PODS && isRecord(next.spec) && isRecord(old.spec) && next.spec.nodeName === undefined) next.spec.nodeName = old.spec.nodeName;
    }
    validateObject(def, next, old);
    if (def === SERVICES) {
      const why = serviceUnsupported(next);
      if (why) throw new NotUnderstood(why);
      const spec = next.spec as Record<string, unknown>;
      const oldSpec = old.spec as Record<string, unknown>;
      spec.clusterIP ??= oldSpec.clusterIP;
      spec.clusterIPs ??= oldSpec.clusterIPs;
    }
    if (def.kind === 'NetworkPolicy' && !deepEqual(old.spec, next.spec)) next.metadata.generation = (old.metadata.generation ?? 1) + 1;
    if (deepEqual({ ...next, metadata: { ...next.metadata, resourceVersion: undefined } }, { ...old, metadata: { ...old.metadata, resourceVersion: undefined } })) {
      return old; // a no-op write does not bump the resourceVersion, as on a real server
    }
    if (dryRun) return next;
    const updated = this.o.store.update(def, next);
    if (def === SERVICES) this.o.runtime.syncAliases(ns ?? 'default');
    if (def === PODS && !deepEqual(old.metadata.labels, updated.metadata.labels)) this.o.runtime.syncAliases(ns ?? 'default');
    this.finalizeIfDone(def, updated);
    return this.o.store.get(def, ns, name) ?? updated;
  }

  /** An object being deleted whose finalizers are all gone is removed. */
  private finalizeIfDone(def: ResourceDef, o: KubeObject): void {
    if (!o.metadata.deletionTimestamp || (o.metadata.finalizers ?? []).length > 0) return;
    if (def === PODS && this.o.runtime.has(o.metadata.uid ?? '')) return; // the runtime removes it after its containers
    if (def === PVCS) {
      this.o.runtime.finishPvcDeletion(o);
      return;
    }
    if (def === NAMESPACES) return;
    this.o.store.remove(def, o.metadata.namespace, o.metadata.name);
  }

  // -------------------------------------------------------------------------------------------
  // Deletes

  private async deleteOptions(ctx: Ctx): Promise<{ grace?: number; preconditions?: { uid?: string; resourceVersion?: string } }> {
    let body: unknown;
    if (ctx.req.headers['content-length'] !== '0' && (ctx.req.headers['content-length'] !== undefined || ctx.req.headers['transfer-encoding'] !== undefined)) {
      body = await this.body(ctx);
    }
    const opts = isRecord(body) ? body : {};
    const q = ctx.query.get('gracePeriodSeconds');
    const grace = q !== null ? Number(q) : typeof opts.gracePeriodSeconds === 'number' ? opts.gracePeriodSeconds : undefined;
    if (grace !== undefined && (!Number.isInteger(grace) || grace < 0)) throw badRequest(`invalid gracePeriodSeconds: ${String(q ?? opts.gracePeriodSeconds)}`);
    const propagation = ctx.query.get('propagationPolicy') ?? (typeof opts.propagationPolicy === 'string' ? opts.propagationPolicy : undefined);
    if (propagation !== undefined && !['Orphan', 'Background', 'Foreground'].includes(propagation)) {
      throw new ApiError(status(422, 'Invalid', `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "${propagation}": supported values: "Foreground", "Background", "Orphan", "nil"`));
    }
    const pre = isRecord(opts.preconditions) ? opts.preconditions : undefined;
    return { grace, preconditions: pre ? { uid: typeof pre.uid === 'string' ? pre.uid : undefined, resourceVersion: typeof pre.resourceVersion === 'string' ? pre.resourceVersion : undefined } : undefined };
  }

  private async deleteOne(ctx: Ctx, def: ResourceDef, ns: string | undefined, name: string): Promise<unknown> {
    const dryRun = this.dryRun(ctx);
    const opts = await this.deleteOptions(ctx);
    const o = this.mustGet(def, ns, name);
    const pre = opts.preconditions;
    if (pre?.uid && pre.uid !== o.metadata.uid) throw conflict(def, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${o.metadata.uid ?? ''}`);
    if (pre?.resourceVersion && pre.resourceVersion !== o.metadata.resourceVersion) {
      throw conflict(def, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${o.metadata.resourceVersion ?? ''}`);
    }
    if (dryRun) return def.deleteReturnsObject ? o : successStatus(def, o);
    return this.deleteObject(def, o, opts.grace);
  }

  /** Deletes as the real server does for each kind; answers the object (or a Success Status). */
  private deleteObject(def: ResourceDef, o: KubeObject, grace?: number): unknown {
    const ns = o.metadata.namespace;
    const name = o.metadata.name;
    if (o.metadata.deletionTimestamp) return def.deleteReturnsObject ? o : successStatus(def, o);
    if (def === NAMESPACES) {
      if (PROTECTED_NAMESPACES.includes(name)) throw forbidden(def, name, 'this namespace may not be deleted');
      o.metadata.deletionTimestamp = timestamp();
      o.status = { phase: 'Terminating' };
      const marked = this.o.store.update(def, o);
      void this.emptyNamespace(marked);
      return marked;
    }
    if (def === PODS) {
      const spec = o.spec as IPodSpec;
      const g = grace ?? spec.terminationGracePeriodSeconds ?? 30;
      const finalizers = (o.metadata.finalizers ?? []).length > 0;
      if ((g === 0 || !this.o.runtime.isScheduled(o.metadata.uid ?? '')) && !finalizers) {
        // Never bound, or forced: gone at once; the node kills the containers afterwards.
        const removed = this.o.store.remove(def, ns, name);
        void this.o.runtime.terminate(o, false);
        return removed ?? o;
      }
      o.metadata.deletionTimestamp = timestamp(new Date(Date.now() + g * 1000));
      o.metadata.deletionGracePeriodSeconds = g;
      const marked = this.o.store.update(def, o);
      void this.o.runtime.terminate(marked, true);
      return marked;
    }
    if (def === PVCS) {
      o.metadata.deletionTimestamp = timestamp();
      o.metadata.deletionGracePeriodSeconds = 0;
      const marked = this.o.store.update(def, o);
      this.o.runtime.releasePvc(marked);
      return marked;
    }
    if ((o.metadata.finalizers ?? []).length > 0) {
      o.metadata.deletionTimestamp = timestamp();
      o.metadata.deletionGracePeriodSeconds = 0;
      const marked = this.o.store.update(def, o);
      return def.deleteReturnsObject ? marked : successStatus(def, marked);
    }
    const removed = this.o.store.remove(def, ns, name) ?? o;
    if (def === SERVICES) this.o.runtime.syncAliases(ns ?? 'default');
    return def.deleteReturnsObject ? removed : successStatus(def, removed);
  }

  private async deleteCollection(ctx: Ctx, def: ResourceDef, ns: string | undefined): Promise<Record<string, unknown>> {
    const dryRun = this.dryRun(ctx);
    const opts = await this.deleteOptions(ctx);
    const { labels, fields } = this.selectors(ctx, def);
    const items = this.o.store.list(def, ns).filter((o) => matchesLabels(labels, o.metadata.labels) && matchesFields(fields, o));
    if (!dryRun) for (const o of items) this.deleteObject(def, o, opts.grace);
    for (const item of items) {
      delete (item as Partial<KubeObject>).apiVersion;
      delete (item as Partial<KubeObject>).kind;
    }
    return { kind: `${def.kind}List`, apiVersion: apiVersionOf(def), metadata: { resourceVersion: this.o.store.resourceVersion }, items };
  }

  /** The namespace controller: everything in the namespace goes, then the namespace. */
  private async emptyNamespace(nsObj: KubeObject): Promise<void> {
    const ns = nsObj.metadata.name;
    const waits: Array<Promise<void>> = [];
    for (const def of RESOURCES.filter((r) => r.namespaced)) {
      for (const o of this.o.store.list(def, ns)) {
        if (def === PODS) {
          const current = this.o.store.get(def, ns, o.metadata.name);
          if (!current) continue;
          if (!current.metadata.deletionTimestamp) this.deleteObject(def, current, 0);
          waits.push(this.o.runtime.terminate(current, false));
          continue;
        }
        if (def === PVCS) continue; // after the pods
        if (!o.metadata.deletionTimestamp) this.o.store.remove(def, ns, o.metadata.name);
      }
    }
    await Promise.allSettled(waits);
    for (const pvc of this.o.store.list(PVCS, ns)) this.o.runtime.finishPvcDeletion(pvc);
    const current = this.o.store.get(NAMESPACES, undefined, ns);
    if (current && current.metadata.uid === nsObj.metadata.uid) this.o.store.remove(NAMESPACES, undefined, ns);
  }

  // -------------------------------------------------------------------------------------------
  // Pod subresources

  /** Which container of a pod a request means (the only one, or the `container` parameter). */
  private pickContainer(pod: KubeObject, requested: string | null): string {
    const names = (pod.spec as IPodSpec).containers.map((c) => c.name);
    if (requested) {
      if (!names.includes(requested)) throw badRequest(`container ${requested} is not valid for pod ${pod.metadata.name}`);
      return requested;
    }
    if (names.length === 1) return names[0] ?? '';
    const def = pod.metadata.annotations?.['kubectl.kubernetes.io/default-container'];
    if (def && names.includes(def)) return def;
    throw badRequest(`a container name must be specified for pod ${pod.metadata.name}, choose one of: [${names.join(' ')}]`);
  }

  private streamRequest(ns: string, name: string, kind: 'exec' | 'attach', q: URLSearchParams): Parameters<StreamServer['serve']>[3] {
    const pod = this.mustGet(PODS, ns, name);
    const phase = isRecord(pod.status) ? pod.status.phase : undefined;
    if (phase === 'Succeeded' || phase === 'Failed') throw badRequest(`cannot ${kind} into a container in a completed pod; current phase is ${String(phase)}`.replace('attach into', 'attach to'));
    const container = this.pickContainer(pod, q.get('container'));
    if (!(pod.spec as IPodSpec).nodeName) throw badRequest(`pod ${name} does not have a host assigned`);
    const target = this.o.runtime.target(pod, container);
    if (!target?.id || !target.running) throw badRequest(`container not found ("${container}")`);
    const stdin = isTrue(q.get('stdin'));
    const stdout = isTrue(q.get('stdout'));
    const stderr = isTrue(q.get('stderr'));
    if (!stdin && !stdout && !stderr) throw badRequest('you must specify at least 1 of stdin, stdout, stderr');
    const command = q.getAll('command');
    if (kind === 'exec' && command.length === 0) throw badRequest('you must specify at least one command for the container');
    // attach: the TTY is the container's (it cannot change after start), and stdin needs stdin: true.
    const tty = kind === 'attach' ? target.spec.tty === true : isTrue(q.get('tty'));
    return { kind, containerId: target.id, command, stdin: kind === 'attach' ? stdin && target.spec.stdin === true : stdin, stdout, stderr, tty };
  }

  private async logs(ctx: Ctx, res: ServerResponse, ns: string, name: string): Promise<void> {
    const pod = this.mustGet(PODS, ns, name);
    const container = this.pickContainer(pod, ctx.query.get('container'));
    const target = this.o.runtime.target(pod, container);
    const waiting = target?.waiting;
    if (!target?.id || (waiting && !target.running && waiting.reason !== 'CrashLoopBackOff')) {
      const why = waiting?.reason === 'ErrImagePull' ? 'trying and failing to pull image' : waiting?.reason === 'ImagePullBackOff' ? "image can't be pulled" : (waiting?.reason ?? 'ContainerCreating');
      throw badRequest(`container "${container}" in pod "${name}" is waiting to start: ${why}`);
    }
    if (isTrue(ctx.query.get('previous'))) throw badRequest(`previous terminated container "${container}" in pod "${name}" not found`);
    const tail = ctx.query.get('tailLines');
    const sinceSeconds = ctx.query.get('sinceSeconds');
    const sinceTime = ctx.query.get('sinceTime');
    const limit = Number(ctx.query.get('limitBytes') ?? '0');
    const since = sinceSeconds ? Math.floor(Date.now() / 1000) - Number(sinceSeconds) : sinceTime ? Math.floor(new Date(sinceTime).getTime() / 1000) : undefined;
    const follow = isTrue(ctx.query.get('follow'));
    res.writeHead(200, { 'Content-Type': 'text/plain', ...(follow ? { 'Transfer-Encoding': 'chunked' } : {}) });
    if (follow) res.flushHeaders();
    let written = 0;
    const abort = new AbortController();
    ctx.req.on('close', () => abort.abort());
    res.on('close', () => abort.abort());
    const chunks: Buffer[] = [];
    await this.o.runtime.logs(
      target.id,
      target.spec.tty === true,
      { follow, tail: tail !== null ? Number(tail) : undefined, timestamps: isTrue(ctx.query.get('timestamps')), since },
      (chunk) => {
        let c = chunk;
        if (limit > 0) {
          if (written >= limit) return;
          c = c.subarray(0, limit - written);
        }
        written += c.length;
        if (follow) res.write(c);
        else chunks.push(c);
      },
      abort.signal,
    );
    res.end(follow ? undefined : Buffer.concat(chunks));
  }
}

function sendJson(res: ServerResponse, code: number, body: unknown, warnings: string[] = []): void {
  const text = JSON.stringify(body);
  res.writeHead(code, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    ...(warnings.length ? { Warning: warnings.map((w) => `299 - ${JSON.stringify(w)}`) } : {}),
  });
  res.end(text);
}

/** Drops top-level fields the kind does not have, as the server's decoder does (with a warning). */
function dropUnknownFields(def: ResourceDef, o: KubeObject, warnings: string[]): void {
  for (const key of Object.keys(o)) {
    if (['apiVersion', 'kind', 'metadata', ...def.fields].includes(key)) continue;
    delete o[key];
    warnings.push(`unknown field "${key}"`);
  }
}

const isTrue = (v: string | null): boolean => v === 'true' || v === '1';

function successStatus(def: ResourceDef, o: KubeObject): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name: o.metadata.name, ...(def.group ? { group: def.group } : {}), kind: def.plural, uid: o.metadata.uid } };
}

