/**
 * Turns a zod issue into the one sentence a user sees:
 *   paude.json: network.allowlist[2]: "http://x.com/a" is not a domain: ... (expected host, ...)
 */
import { z } from 'zod';
import { didYouMean } from './did-you-mean.js';
import { formatJsonPath } from './json-path.js';
import { quote } from '../errors.js';

type Issue = z.core.$ZodIssue;

export function formatIssue(displayFile: string, issue: Issue, schema: z.ZodType): string {
  const where = `${displayFile}: ${formatJsonPath(issue.path)}`;
  return `${where}: ${describe(issue, schema)}`;
}

function describe(issue: Issue, schema: z.ZodType): string {
  const found = describeValue(issue.input);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownKeysAt(schema, issue.path);
      const key = issue.keys[0] ?? '';
      const suggestion = didYouMean(key, known);
      const hint = suggestion ? `did you mean ${quote(suggestion)}?` : `known keys: ${known.join(', ')}`;
      const more = issue.keys.length > 1 ? ` (and ${issue.keys.length - 1} more)` : '';
      return `unknown key ${quote(key)}${more} (${hint})`;
    }
    case 'invalid_type':
      if (issue.input === undefined) return `is missing (expected ${expectedType(issue.expected)})`;
      if (typeof issue.input === 'object' && issue.input !== null) return `is ${typeName(issue.input)} (expected ${expectedType(issue.expected)})`;
      return `${found} is ${typeName(issue.input)} (expected ${expectedType(issue.expected)})`;
    case 'invalid_value':
      return `${found} is not allowed (expected ${issue.values.map((v) => JSON.stringify(v)).join(', ').replace(/, ([^,]*)$/, ' or $1')})`;
    case 'invalid_union':
      if ('discriminator' in issue && typeof issue.discriminator === 'string') {
        const options = (issue as { options?: unknown[] }).options ?? [];
        const value = isRecord(issue.input) ? issue.input[issue.discriminator] : undefined;
        return `${describeValue(value)} is not a known ${issue.discriminator} (expected ${options.map((o) => JSON.stringify(o)).join(', ')})`;
      }
      return `${found} does not match any accepted form`;
    case 'too_small':
      if (issue.origin === 'string' && Number(issue.minimum) === 1) return `${found} is empty (expected a non-empty string)`;
      return `${found} is too small (expected ${issue.origin === 'array' ? 'at least ' + issue.minimum + ' items' : (issue.inclusive ? 'at least ' : 'more than ') + issue.minimum})`;
    case 'too_big':
      return `${found} is too large (expected ${issue.inclusive ? 'at most ' : 'less than '}${issue.maximum})`;
    case 'invalid_format':
    case 'custom':
    case 'not_multiple_of':
    case 'invalid_key':
    case 'invalid_element':
      return customMessage(found, issue.message);
  }
}

/** Our custom messages either state the whole problem (start with a quote or a verb) or name what was expected. */
function customMessage(found: string, message: string): string {
  if (/^("|is |has |sets |refused )/.test(message)) return message;
  if (/^[A-Z]/.test(message)) return `${found} is not valid (${message.toLowerCase()})`;
  return `${found} is not valid (expected ${message})`;
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (isRecord(value)) return 'an object';
  const text = quote(value);
  return text.length > 80 ? `${text.slice(0, 77)}..."` : text;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  switch (typeof value) {
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'a boolean';
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}

function expectedType(expected: string): string {
  switch (expected) {
    case 'boolean':
      return 'true or false';
    case 'string':
      return 'a string in double quotes';
    case 'number':
      return 'a number';
    case 'int':
      return 'a whole number';
    case 'array':
      return 'a list [...]';
    case 'object':
    case 'record':
      return 'an object {...}';
    default:
      return expected;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The keys the schema accepts for the object at `path`, for "did you mean". */
export function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let nodes: z.ZodType[] = [schema];
  for (const segment of path) {
    nodes = nodes.flatMap((n) => unwrap(n)).flatMap((n) => child(n, segment));
  }
  const keys = new Set<string>();
  for (const node of nodes.flatMap((n) => unwrap(n))) {
    if (node instanceof z.ZodObject) for (const k of Object.keys(node.shape)) keys.add(k);
  }
  return [...keys];
}

function unwrap(node: z.ZodType): z.ZodType[] {
  if (node instanceof z.ZodOptional || node instanceof z.ZodNullable || node instanceof z.ZodDefault) {
    return unwrap(node.unwrap() as z.ZodType);
  }
  if (node instanceof z.ZodPipe) return unwrap(node.in as z.ZodType);
  if (node instanceof z.ZodUnion) return (node.options as z.ZodType[]).flatMap((o) => unwrap(o));
  return [node];
}

function child(node: z.ZodType, segment: PropertyKey): z.ZodType[] {
  if (node instanceof z.ZodObject && typeof segment === 'string') {
    const shape = node.shape as Record<string, z.ZodType>;
    const next = shape[segment];
    return next ? [next] : [];
  }
  if (node instanceof z.ZodArray && typeof segment === 'number') return [node.element as z.ZodType];
  if (node instanceof z.ZodRecord) return [node.valueType as z.ZodType];
  return [];
}
