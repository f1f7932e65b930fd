/**
 * The object store: one global resourceVersion counter (every change bumps it, as etcd's
 * revision does), the objects of each resource, and a bounded history of changes from which
 * watches resume. A watch from a resourceVersion older than the history gets 410 Expired.
 */
import { expired, type Status } from './errors.js';
import { apiVersionOf, type ResourceDef } from './resources.js';
import { matchesFields, matchesLabels, type FieldRequirement, type LabelSelector } from './selectors.js';
import { clone, type KubeObject } from './types.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

interface Change {
  rv: number;
  type: WatchEventType;
  def: ResourceDef;
  object: KubeObject;
  /** The object before a MODIFIED (selectors are matched against both). */
  previous?: KubeObject;
}

export interface WatchFilter {
  def: ResourceDef;
  /** Undefined: all namespaces (or a cluster-scoped resource). */
  namespace?: string;
  labels: LabelSelector;
  fields: FieldRequirement[];
}

export type WatchSink = (type: WatchEventType | 'ERROR', object: KubeObject | Status) => void;

interface Watcher {
  filter: WatchFilter;
  send: WatchSink;
}

const keyOf = (def: ResourceDef): string => `${def.group}/${def.plural}`;
const objKey = (namespace: string | undefined, name: string): string => `${namespace ?? ''}/${name}`;

export class Store {
  private rv = 1000;
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private readonly history: Change[] = [];
  /**
   * The newest resourceVersion that has fallen out of the history (at first, the one before the
   * emulator started: a watch from an older version has nothing to resume from).
   */
  private compactedThrough = this.rv;
  private readonly watchers = new Set<Watcher>();

  constructor(private readonly historyLimit = 10_000) {}

  get resourceVersion(): string {
    return String(this.rv);
  }

  private bucket(def: ResourceDef): Map<string, KubeObject> {
    let m = this.objects.get(keyOf(def));
    if (!m) {
      m = new Map();
      this.objects.set(keyOf(def), m);
    }
    return m;
  }

  get(def: ResourceDef, namespace: string | undefined, name: string): KubeObject | undefined {
    const o = this.bucket(def).get(objKey(def.namespaced ? namespace : undefined, name));
    return o ? clone(o) : undefined;
  }

  /** Objects of a resource in one namespace (or all), ordered by namespace then name as the server lists them. */
  list(def: ResourceDef, namespace?: string): KubeObject[] {
    const out: KubeObject[] = [];
    for (const o of this.bucket(def).values()) if (namespace === undefined || !def.namespaced || o.metadata.namespace === namespace) out.push(clone(o));
    return out.sort((a, b) => objKey(a.metadata.namespace, a.metadata.name).localeCompare(objKey(b.metadata.namespace, b.metadata.name)));
  }

  count(def: ResourceDef, namespace: string, where: (o: KubeObject) => boolean = () => true): number {
    let n = 0;
    for (const o of this.bucket(def).values()) if (o.metadata.namespace === namespace && where(o)) n++;
    return n;
  }

  create(def: ResourceDef, object: KubeObject): KubeObject {
    const o = typed(def, object);
    o.metadata.resourceVersion = String(++this.rv);
    this.bucket(def).set(objKey(o.metadata.namespace, o.metadata.name), o);
    this.emit({ rv: this.rv, type: 'ADDED', def, object: clone(o) });
    return clone(o);
  }

  update(def: ResourceDef, object: KubeObject): KubeObject {
    const k = objKey(object.metadata.namespace, object.metadata.name);
    const previous = this.bucket(def).get(k);
    if (!previous) throw new Error(`update of a missing ${def.kind} ${k}`);
    const o = typed(def, object);
    o.metadata.resourceVersion = String(++this.rv);
    this.bucket(def).set(k, o);
    this.emit({ rv: this.rv, type: 'MODIFIED', def, object: clone(o), previous: clone(previous) });
    return clone(o);
  }

  remove(def: ResourceDef, namespace: string | undefined, name: string): KubeObject | undefined {
    const k = objKey(def.namespaced ? namespace : undefined, name);
    const o = this.bucket(def).get(k);
    if (!o) return undefined;
    this.bucket(def).delete(k);
    o.metadata.resourceVersion = String(++this.rv);
    this.emit({ rv: this.rv, type: 'DELETED', def, object: clone(o) });
    return clone(o);
  }

  private emit(change: Change): void {
    this.history.push(change);
    while (this.history.length > this.historyLimit) this.compactedThrough = this.history.shift()?.rv ?? this.compactedThrough;
    for (const w of this.watchers) deliver(w, change);
  }

  /**
   * Starts a watch. Without a resourceVersion (or "0") the current objects come first as ADDED,
   * as the server's watch cache sends them; with one, the changes after it. Returns a stop function.
   */
  watch(filter: WatchFilter, resourceVersion: string | undefined, send: WatchSink): () => void {
    const watcher: Watcher = { filter, send };
    if (resourceVersion === undefined || resourceVersion === '' || resourceVersion === '0') {
      for (const o of this.list(filter.def, filter.namespace)) if (matches(filter, o)) send('ADDED', o);
    } else {
      const since = Number(resourceVersion);
      if (!Number.isFinite(since) || since < this.compactedThrough) {
        send('ERROR', expired(since, this.compactedThrough + 1));
        return () => undefined;
      }
      for (const change of this.history) if (change.rv > since) deliver(watcher, change);
    }
    this.watchers.add(watcher);
    return () => this.watchers.delete(watcher);
  }

  /** Ends every watch (the server is closing). */
  stopWatches(): void {
    this.watchers.clear();
  }
}

/** A copy with apiVersion and kind first, as the server writes them. */
function typed(def: ResourceDef, object: KubeObject): KubeObject {
  const { apiVersion: _a, kind: _k, ...rest } = clone(object);
  return { apiVersion: apiVersionOf(def), kind: def.kind, ...rest };
}

function matches(f: WatchFilter, o: KubeObject): boolean {
  if (f.namespace !== undefined && f.def.namespaced && o.metadata.namespace !== f.namespace) return false;
  return matchesLabels(f.labels, o.metadata.labels) && matchesFields(f.fields, o);
}

/** A change as the watcher sees it: an object leaving its selector is DELETED, one entering it ADDED. */
function deliver(w: Watcher, c: Change): void {
  if (keyOf(c.def) !== keyOf(w.filter.def)) return;
  const now = matches(w.filter, c.object);
  if (c.type !== 'MODIFIED') {
    if (now) w.send(c.type, c.object);
    return;
  }
  const before = c.previous ? matches(w.filter, c.previous) : false;
  if (now && before) w.send('MODIFIED', c.object);
  else if (now) w.send('ADDED', c.object);
  else if (before) w.send('DELETED', c.object);
}
