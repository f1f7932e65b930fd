/**
 * Reads one JSON-with-comments config file, validates it with its zod schema and returns it
 * with the hash of its exact bytes (the trust store approves bytes, not meanings).
 * Every failure is a ConfigError whose message names the file and the place in it.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createScanner, printParseErrorCode, visit, type ParseError } from 'jsonc-parser';
import type { z } from 'zod';
import { ConfigError } from '../errors.js';
import { formatIssue } from './format-issue.js';
import { formatJsonPath } from './json-path.js';
import { quote } from '../errors.js';

export interface LoadedFile<T> {
  path: string;
  /** How the file is named in messages (relative to the project or with ~). */
  display: string;
  text: string;
  sha256: string;
  value: T;
}

const MAX_BYTES = 1024 * 1024;

export async function readConfigFile<S extends z.ZodType>(path: string, display: string, schema: S): Promise<LoadedFile<z.infer<S>> | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    const why = code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (code ?? String(error));
    throw new ConfigError(`${display}: cannot be read (${why}); make it a readable JSON file or remove it`, path);
  }
  if (bytes.length > MAX_BYTES) {
    throw new ConfigError(`${display}: is ${bytes.length} bytes, more than a config file can be (1 MiB); check that it is the right file`, path);
  }
  // A UTF-8 byte order mark (some Windows editors write one) is not an error.
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return { path, display, text, sha256, value: parseConfigText(text, path, display, schema) };
}

export function parseConfigText<S extends z.ZodType>(text: string, path: string, display: string, schema: S): z.infer<S> {
  if (text.trim() === '') {
    throw new ConfigError(`${display}: the file is empty (expected a JSON object such as {}); write {} or delete the file`, path);
  }
  const data = parseJsonc(text, path, display);
  const result = schema.safeParse(data, { reportInput: true });
  if (result.success) return result.data;
  const [first, ...rest] = result.error.issues;
  if (!first) throw new ConfigError(`${display}: is not valid`, path);
  const more = rest.length > 0 ? ` [${rest.length} more problem${rest.length > 1 ? 's' : ''}: run paude config validate]` : '';
  throw new ConfigError(formatIssue(display, first, schema) + more, path, first.path.length ? formatJsonPath(first.path) : undefined);
}

const PARSE_ERRORS: Record<string, string> = {
  InvalidSymbol: 'an unexpected character',
  InvalidNumberFormat: 'a malformed number',
  PropertyNameExpected: 'a property name in double quotes is expected',
  ValueExpected: 'a value is expected',
  ColonExpected: 'a colon is expected',
  CommaExpected: 'a comma is expected',
  CloseBraceExpected: 'a closing } is expected',
  CloseBracketExpected: 'a closing ] is expected',
  EndOfFileExpected: 'unexpected text after the end of the JSON value',
  InvalidCommentToken: 'a malformed comment',
  UnexpectedEndOfComment: 'a comment is not closed',
  UnexpectedEndOfString: 'a string is not closed',
  UnexpectedEndOfNumber: 'a number is cut off',
  InvalidUnicode: 'an invalid \\u escape',
  InvalidEscapeCharacter: 'an invalid escape character',
  InvalidCharacter: 'an invalid character in a string',
};

/**
 * Far deeper than any paude.json or devcontainer.json; the JSON parser recurses once per level
 * and a file of a few thousand "[" would overflow the stack long before the size limit.
 */
const MAX_NESTING = 100;
// jsonc-parser's SyntaxKind is a const enum, which isolated modules cannot read.
const OPEN_BRACE = 1;
const CLOSE_BRACE = 2;
const OPEN_BRACKET = 3;
const CLOSE_BRACKET = 4;
const EOF = 17;

/** Refuses text nested deeper than MAX_NESTING before the recursive parser sees it. */
function checkNesting(text: string, path: string, display: string): void {
  const scanner = createScanner(text, true);
  const open: number[] = [];
  for (let token: number = scanner.scan(); token !== EOF; token = scanner.scan()) {
    if (token === OPEN_BRACE || token === OPEN_BRACKET) {
      open.push(token);
      if (open.length > MAX_NESTING) {
        const { line, column } = lineColumn(text, scanner.getTokenOffset());
        throw new ConfigError(`${display}:${line}:${column}: nested more than ${MAX_NESTING} levels deep, which no config file needs; check that it is the right file`, path);
      }
    } else if ((token === CLOSE_BRACE && open.at(-1) === OPEN_BRACE) || (token === CLOSE_BRACKET && open.at(-1) === OPEN_BRACKET)) {
      open.pop();
    }
  }
}

/** JSON with comments and trailing commas (as devcontainer.json allows); duplicate keys are errors. */
function parseJsonc(text: string, path: string, display: string): unknown {
  checkNesting(text, path, display);
  const errors: ParseError[] = [];
  const stack: Array<{ keys: Set<string>; value: Record<string, unknown> | unknown[]; key: string | number | undefined }> = [];
  let root: unknown;
  let pendingKey: string | undefined;
  const put = (value: unknown): void => {
    const top = stack[stack.length - 1];
    if (!top) root = value;
    else if (Array.isArray(top.value)) top.value.push(value);
    else if (pendingKey !== undefined) Object.defineProperty(top.value, pendingKey, { value, enumerable: true, writable: true, configurable: true });
  };
  let duplicate: { key: string; path: string; line: number; column: number } | undefined;
  /** The key (or index) the next value will take in its parent, for error paths. */
  const slotKey = (): string | number | undefined => {
    const top = stack[stack.length - 1];
    if (!top) return undefined;
    return Array.isArray(top.value) ? top.value.length : pendingKey;
  };
  visit(
    text,
    {
      onObjectBegin: () => {
        const value: Record<string, unknown> = {};
        const key = slotKey();
        put(value);
        stack.push({ keys: new Set(), value, key });
      },
      onObjectProperty: (key, _offset, _length, startLine, startCharacter) => {
        const top = stack[stack.length - 1];
        if (top && top.keys.has(key) && !duplicate) {
          const path = [...stack.slice(1).map((s) => s.key ?? ''), key];
          duplicate = { key, path: formatJsonPath(path), line: startLine + 1, column: startCharacter + 1 };
        }
        top?.keys.add(key);
        pendingKey = key;
      },
      onObjectEnd: () => void stack.pop(),
      onArrayBegin: () => {
        const value: unknown[] = [];
        const key = slotKey();
        put(value);
        stack.push({ keys: new Set(), value, key });
      },
      onArrayEnd: () => void stack.pop(),
      onLiteralValue: (value) => put(value),
      onError: (error, offset, length) => errors.push({ error, offset, length }),
    },
    { allowTrailingComma: true, disallowComments: false },
  );
  const first = errors[0];
  if (first) {
    const { line, column } = lineColumn(text, first.offset);
    const what = PARSE_ERRORS[printParseErrorCode(first.error)] ?? printParseErrorCode(first.error);
    throw new ConfigError(`${display}:${line}:${column}: invalid JSON: ${what} (fix the syntax; comments and trailing commas are allowed)`, path);
  }
  if (duplicate) {
    throw new ConfigError(
      `${display}:${duplicate.line}:${duplicate.column}: ${duplicate.path}: key ${quote(duplicate.key)} appears twice in the same object (keep one; JSON readers disagree on which wins)`,
      path,
      duplicate.path,
    );
  }
  return root;
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return { line, column };
}
