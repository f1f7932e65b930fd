/**
 * Writes a JSON value as a JSONC file the way people and editors do: any indentation, CRLF or
 * LF, comments between tokens, trailing commas, a byte order mark. And breaks such files the
 * ways files get broken: wrong types, unknown and repeated keys, cut-off text, stray
 * characters, absurd nesting.
 */
import fc from 'fast-check';
import { anyText, insertAt, trouble } from './arbitraries.js';

export interface JsoncStyle {
  indent: '' | '  ' | '\t' | '    ';
  eol: '\n' | '\r\n';
  /** Chance in 8 of a comment at each place one may go (0: none). */
  comments: number;
  commentText: string;
  trailingCommas: boolean;
  bom: boolean;
  /** Repeat the n-th object's first key (a duplicate key), when set. */
  duplicateKeyIn?: number;
  seed: number;
}

export const jsoncStyle: fc.Arbitrary<JsoncStyle> = fc.record(
  {
    indent: fc.constantFrom('' as const, '  ' as const, '\t' as const, '    ' as const),
    eol: fc.constantFrom('\n' as const, '\r\n' as const),
    comments: fc.constantFrom(0, 0, 0, 1, 4),
    commentText: anyText(16),
    trailingCommas: fc.boolean(),
    bom: fc.boolean(),
    seed: fc.integer({ min: 1, max: 0x7fffffff }),
  },
  { requiredKeys: ['indent', 'eol', 'comments', 'commentText', 'trailingCommas', 'bom', 'seed'] },
);

/** The text of `value` in `style`; JSON.stringify writes every string, so any string survives. */
export function toJsonc(value: unknown, style: JsoncStyle): string {
  let state = style.seed;
  // A small deterministic generator, so the same style always gives the same text (shrinking needs that).
  const next = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % 8;
  };
  const safeBlock = style.commentText.replace(/\*\//g, '* /');
  const safeLine = style.commentText.replace(/[\r\n]/g, ' ');
  const comment = (): string => {
    if (style.comments === 0 || next() >= style.comments) return '';
    return next() < 4 ? `/*${safeBlock}*/` : `//${safeLine}${style.eol}`;
  };
  let objects = 0;
  const write = (v: unknown, depth: number): string => {
    const pad = style.indent ? style.eol + style.indent.repeat(depth + 1) : '';
    const close = style.indent ? style.eol + style.indent.repeat(depth) : '';
    const trailing = style.trailingCommas ? ',' : '';
    if (Array.isArray(v)) {
      if (v.length === 0) return `[${comment()}]`;
      return `[${v.map((item) => `${pad}${comment()}${write(item, depth + 1)}${comment()}`).join(',')}${trailing}${close}]`;
    }
    if (typeof v === 'object' && v !== null) {
      const entries = Object.entries(v);
      const index = objects++;
      if (style.duplicateKeyIn === index && entries[0]) entries.push(entries[0]);
      if (entries.length === 0) return `{${comment()}}`;
      const members = entries.map(([k, item]) => `${pad}${comment()}${JSON.stringify(k)}${comment()}:${style.indent ? ' ' : ''}${write(item, depth + 1)}${comment()}`);
      return `{${members.join(',')}${trailing}${close}}`;
    }
    return JSON.stringify(v) ?? 'null';
  };
  return `${style.bom ? '\uFEFF' : ''}${comment()}${write(value, 0)}${comment()}${style.eol}`;
}

/** Every place in a value where something could be put instead: [parent, key] pairs. */
function slots(value: unknown): Array<[Record<string, unknown> | unknown[], string | number]> {
  const out: Array<[Record<string, unknown> | unknown[], string | number]> = [];
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach((item, i) => (out.push([v, i]), visit(item)));
    else if (typeof v === 'object' && v !== null) {
      for (const [k, item] of Object.entries(v)) {
        out.push([v as Record<string, unknown>, k]);
        visit(item);
      }
    }
  };
  visit(value);
  return out;
}

/** Objects in a value, for adding keys. */
function objectsIn(value: unknown): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(visit);
    else if (typeof v === 'object' && v !== null) {
      out.push(v as Record<string, unknown>);
      Object.values(v).forEach(visit);
    }
  };
  visit(value);
  return out;
}

/** A value that is usually of the wrong type somewhere: any JSON, or a near miss of a valid one. */
const replacement: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  anyText(24),
  fc.constantFrom(null, true, false, 0, -1, 1.5, 1e308, -1e-308, '', [], {}, [[]], 'open', 'root', '0:0', '../x', '/etc', 'ctrl-]', '*', '.'),
);

/**
 * Breaks a valid value: one slot gets another value, or one object gets a key it should not have
 * (an unknown one, a near miss of a known one, "__proto__", or one of `hostileKeys`).
 */
export function mutateValue(value: unknown, hostileKeys: readonly string[]): fc.Arbitrary<unknown> {
  const extraKey = fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom('__proto__', 'constructor', 'netwrok', 'alowlist', ...hostileKeys) },
    { weight: 1, arbitrary: anyText(12) },
  );
  return fc.tuple(fc.nat(), replacement, extraKey, fc.boolean()).map(([at, other, key, replace]) => {
    const copy = structuredClone(value);
    const places = slots(copy);
    const place = places[at % Math.max(1, places.length)];
    if (replace && place) {
      const [parent, k] = place;
      (parent as Record<string | number, unknown>)[k] = other;
      return copy;
    }
    const objects = objectsIn(copy);
    const target = objects[at % Math.max(1, objects.length)];
    if (target) Object.defineProperty(target, key, { value: other, enumerable: true, writable: true, configurable: true });
    return copy;
  });
}

/**
 * Breaks the text of a file: cut off, a stray piece inserted, a span replaced, or buried in
 * nesting, around the config reader's limit of 100 levels or far past the point where a
 * recursive parser overflows the stack (rarely: such text is costly to build and parse).
 */
export function mutateText(text: string): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.nat().map((at) => text.slice(0, at % (text.length + 1))) },
    {
      weight: 3,
      arbitrary: fc.tuple(fc.oneof(trouble, anyText(8), fc.constantFrom('{', '[', '"', '/*', '//', ',', ':', '\u0000', '\uFEFF')), fc.nat()).map(([piece, at]) => insertAt(text, piece, at)),
    },
    {
      weight: 3,
      arbitrary: fc.tuple(fc.nat(), fc.nat({ max: 20 }), fc.jsonValue({ maxDepth: 1 })).map(([at, length, v]) => {
        const i = at % (text.length + 1);
        return text.slice(0, i) + JSON.stringify(v) + text.slice(i + length);
      }),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.constantFrom('[', '{"a":', '{"network":['), fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 95, max: 105 }) }, { weight: 1, arbitrary: fc.constant(20_000) }), fc.boolean()).map(([open, depth, closed]) => {
        const close = open === '[' ? ']' : open === '{"a":' ? '}' : ']}';
        return `${open.repeat(depth)}${text}${closed ? close.repeat(depth) : ''}`;
      }),
    },
  );
}
