/**
 * The emulator's errors, shaped as the Kubernetes API server shapes them: a `Status` object
 * (kind Status, apiVersion v1, status Failure, message, reason, details, code). Messages follow
 * the real server's wording so that code which matches on them behaves the same here.
 */

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

export function status(code: number, reason: string, message: string, details?: StatusDetails): Status {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
}

/** Thrown by handlers; the server answers with its Status. */
export class ApiError extends Error {
  constructor(readonly status: Status) {
    super(status.message);
  }
}

/**
 * Something the emulator does not emulate (a path, a verb, a field, a media type...). The server
 * answers 501 and records it in `emulator.unknown`, so a test can assert nothing was skipped.
 */
export class NotUnderstood extends ApiError {
  constructor(readonly reason: string) {
    super(status(501, 'NotImplemented', `the Kubernetes emulator does not implement this: ${reason}`));
  }
}

/** "pods" or "networkpolicies.networking.k8s.io", as the server names a resource in messages. */
export interface ResourceName {
  plural: string;
  group: string;
}
const qualified = (r: ResourceName): string => (r.group ? `${r.plural}.${r.group}` : r.plural);
const groupDetail = (r: ResourceName): { group?: string } => (r.group ? { group: r.group } : {});

export const notFound = (r: ResourceName, name: string): ApiError =>
  new ApiError(status(404, 'NotFound', `${qualified(r)} "${name}" not found`, { name, ...groupDetail(r), kind: r.plural }));

export const alreadyExists = (r: ResourceName, name: string): ApiError =>
  new ApiError(status(409, 'AlreadyExists', `${qualified(r)} "${name}" already exists`, { name, ...groupDetail(r), kind: r.plural }));

export const conflict = (r: ResourceName, name: string, why = 'the object has been modified; please apply your changes to the latest version and try again'): ApiError =>
  new ApiError(status(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(r)} "${name}": ${why}`, { name, ...groupDetail(r), kind: r.plural }));

export const badRequest = (message: string): ApiError => new ApiError(status(400, 'BadRequest', message));

export const methodNotAllowed = (): ApiError => new ApiError(status(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'));

export const unsupportedMediaType = (type: string): ApiError =>
  new ApiError(status(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (got ${JSON.stringify(type)})`));

export const unauthorized = (): ApiError => new ApiError(status(401, 'Unauthorized', 'Unauthorized'));

export const expired = (requested: number, oldest: number): Status => status(410, 'Expired', `too old resource version: ${requested} (${oldest})`);

export const internal = (message: string): ApiError => new ApiError(status(500, 'InternalError', `Internal error occurred: ${message}`));

/** `pods "x" is forbidden: <why>` (no name when the URL has none, as for create and list). */
export function forbidden(r: ResourceName, name: string | undefined, why: string): ApiError {
  const subject = name ? `${qualified(r)} "${name}"` : qualified(r);
  return new ApiError(status(403, 'Forbidden', `${subject} is forbidden: ${why}`, { ...(name ? { name } : {}), ...groupDetail(r), kind: r.plural }));
}

// ---------------------------------------------------------------------------------------------
// Field errors (422 Invalid), worded as k8s.io/apimachinery/pkg/util/validation/field does.

export type FieldErrorType = 'Invalid' | 'Required' | 'NotSupported' | 'Forbidden' | 'Duplicate' | 'TooLong' | 'NotFound';

export interface FieldError {
  type: FieldErrorType;
  field: string;
  value?: unknown;
  detail?: string;
  supported?: string[];
}

function render(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value) ?? 'null';
}

/** The part of a field error after "<field>: ". */
export function fieldErrorBody(e: FieldError): string {
  const detail = e.detail ? `: ${e.detail}` : '';
  switch (e.type) {
    case 'Invalid':
      return `Invalid value: ${render(e.value)}${detail}`;
    case 'Required':
      return `Required value${detail}`;
    case 'NotSupported':
      return `Unsupported value: ${render(e.value)}${e.supported ? `: supported values: ${e.supported.map((s) => JSON.stringify(s)).join(', ')}` : ''}`;
    case 'Forbidden':
      return `Forbidden${detail}`;
    case 'Duplicate':
      return `Duplicate value: ${render(e.value)}`;
    case 'TooLong':
      return `Too long${detail}`;
    case 'NotFound':
      return `Not found: ${render(e.value)}`;
  }
}

const causeReason: Record<FieldErrorType, string> = {
  Invalid: 'FieldValueInvalid',
  Required: 'FieldValueRequired',
  NotSupported: 'FieldValueNotSupported',
  Forbidden: 'FieldValueForbidden',
  Duplicate: 'FieldValueDuplicate',
  TooLong: 'FieldValueTooLong',
  NotFound: 'FieldValueNotFound',
};

/** `Pod "x" is invalid: spec.containers[0].image: Required value` (a list in [] when several). */
export function invalid(kind: string, group: string, name: string, errors: FieldError[]): ApiError {
  const parts = errors.map((e) => `${e.field}: ${fieldErrorBody(e)}`);
  const list = parts.length === 1 ? (parts[0] ?? '') : `[${parts.join(', ')}]`;
  const subject = group ? `${kind}.${group}` : kind;
  return new ApiError(
    status(422, 'Invalid', `${subject} "${name}" is invalid: ${list}`, {
      name,
      ...(group ? { group } : {}),
      kind,
      causes: errors.map((e) => ({ reason: causeReason[e.type], message: fieldErrorBody(e), field: e.field })),
    }),
  );
}
