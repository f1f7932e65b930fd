/**
 * PATCH bodies: JSON merge patch (RFC 7386; strategic merge patch is treated as one, which is
 * the same for maps and differs only for lists with merge keys) and JSON patch (RFC 6902).
 */
import { ApiError, NotUnderstood, badRequest, status } from './errors.js';
import { clone, deepEqual, isRecord } from './types.js';

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isRecord(patch)) return clone(patch);
  const out: Record<string, unknown> = isRecord(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** Strategic merge patch directives have no merge-patch meaning: refuse them rather than guess. */
export function checkStrategicDirectives(patch: unknown, path = ''): void {
  if (Array.isArray(patch)) {
    patch.forEach((p, i) => checkStrategicDirectives(p, `${path}[${i}]`));
    return;
  }
  if (!isRecord(patch)) return;
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$')) throw new NotUnderstood(`strategic merge patch directive ${k} at ${path || '/'} (the emulator applies strategic merge patches as JSON merge patches)`);
    checkStrategicDirectives(v, `${path}/${k}`);
  }
}

const unprocessable = (message: string): ApiError => new ApiError(status(422, 'Invalid', message));

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw badRequest(`json patch path ${JSON.stringify(path)} must start with '/'`);
  return path
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

type Container = Record<string, unknown> | unknown[];

/** The parent of a path and the last token; throws when a parent does not exist. */
function locate(doc: unknown, tokens: string[], op: string, path: string): { parent: Container; key: string } {
  let cur: unknown = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(t)];
    else if (isRecord(cur)) cur = cur[t];
    else cur = undefined;
    if (cur === undefined) throw unprocessable(`the server rejected our request due to an error in our request: ${op} operation does not apply: doc is missing path: ${JSON.stringify(path)}: missing value`);
  }
  if (!Array.isArray(cur) && !isRecord(cur)) throw unprocessable(`the server rejected our request due to an error in our request: ${op} operation does not apply: doc is missing path: ${JSON.stringify(path)}: missing value`);
  return { parent: cur, key: tokens[tokens.length - 1] ?? '' };
}

function arrayIndex(arr: unknown[], key: string, forAdd: boolean, path: string): number {
  if (forAdd && key === '-') return arr.length;
  if (!/^(0|[1-9][0-9]*)$/.test(key)) throw unprocessable(`the server rejected our request due to an error in our request: invalid array index ${JSON.stringify(key)} in ${JSON.stringify(path)}`);
  const i = Number(key);
  if (i > arr.length || (!forAdd && i === arr.length)) throw unprocessable(`the server rejected our request due to an error in our request: index out of range: ${i} in ${JSON.stringify(path)}`);
  return i;
}

function getAt(doc: unknown, path: string, op: string): unknown {
  let cur: unknown = doc;
  for (const t of pointer(path)) {
    if (Array.isArray(cur)) cur = cur[Number(t)];
    else if (isRecord(cur)) cur = cur[t];
    else cur = undefined;
    if (cur === undefined) throw unprocessable(`the server rejected our request due to an error in our request: ${op} operation does not apply: doc is missing path: ${JSON.stringify(path)}: missing value`);
  }
  return cur;
}

function removeAt(doc: unknown, path: string, op: string): unknown {
  const { parent, key } = locate(doc, pointer(path), op, path);
  if (Array.isArray(parent)) {
    const i = arrayIndex(parent, key, false, path);
    return parent.splice(i, 1)[0];
  }
  if (!(key in parent)) throw unprocessable(`the server rejected our request due to an error in our request: ${op} operation does not apply: doc is missing key: ${JSON.stringify(path)}: missing value`);
  const old = parent[key];
  delete parent[key];
  return old;
}

function addAt(doc: unknown, path: string, value: unknown, op: string): unknown {
  const tokens = pointer(path);
  if (tokens.length === 0) return clone(value);
  const { parent, key } = locate(doc, tokens, op, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, true, path), 0, clone(value));
  else parent[key] = clone(value);
  return doc;
}

export function jsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  let doc = clone(target);
  for (const raw of ops) {
    if (!isRecord(raw) || typeof raw.op !== 'string' || typeof raw.path !== 'string') throw badRequest(`json patch operations need "op" and "path" (got ${JSON.stringify(raw)})`);
    const { op, path } = raw;
    switch (op) {
      case 'add':
        if (!('value' in raw)) throw badRequest(`json patch add at ${path} has no value`);
        doc = addAt(doc, path, raw.value, op);
        break;
      case 'remove':
        removeAt(doc, path, op);
        break;
      case 'replace': {
        if (!('value' in raw)) throw badRequest(`json patch replace at ${path} has no value`);
        const tokens = pointer(path);
        if (tokens.length === 0) {
          doc = clone(raw.value);
          break;
        }
        const { parent, key } = locate(doc, tokens, op, path);
        if (Array.isArray(parent)) parent[arrayIndex(parent, key, false, path)] = clone(raw.value);
        else {
          if (!(key in parent)) throw unprocessable(`the server rejected our request due to an error in our request: replace operation does not apply: doc is missing key: ${path}: missing value`);
          parent[key] = clone(raw.value);
        }
        break;
      }
      case 'move':
      case 'copy': {
        if (typeof raw.from !== 'string') throw badRequest(`json patch ${op} at ${path} has no from`);
        const value = op === 'move' ? removeAt(doc, raw.from, op) : clone(getAt(doc, raw.from, op));
        doc = addAt(doc, path, value, op);
        break;
      }
      case 'test':
        if (!deepEqual(getAt(doc, path, op), raw.value)) throw unprocessable(`the server rejected our request due to an error in our request: testing value ${path} failed: test failed`);
        break;
      default:
        throw badRequest(`Unexpected kind: ${op}`);
    }
  }
  return doc;
}
