/**
 * Label selectors (`labelSelector=a=b,c!=d,e,!f,g in (x,y),h notin (z)`) and field selectors
 * (`fieldSelector=metadata.name=x,status.phase!=Running`), parsed and matched as the API
 * server does. A selector that does not parse is a 400 BadRequest, like the real one.
 */
import { badRequest } from './errors.js';
import { isLabelKey, isLabelValue } from './validation-rules.js';
import { isRecord, type KubeObject } from './types.js';

export type Requirement =
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | '!exists' }
  | { key: string; op: '=' | '!='; values: [string] };

export type LabelSelector = Requirement[];

/** Splits at commas outside parentheses. */
function splitTop(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  return parts;
}

function checkKey(key: string, whole: string): void {
  if (!isLabelKey(key)) throw badRequest(`unable to parse requirement: key: Invalid value: ${JSON.stringify(key)}: name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (in ${JSON.stringify(whole)})`);
}
function checkValue(value: string, whole: string): void {
  if (!isLabelValue(value)) throw badRequest(`unable to parse requirement: values[0][${whole}]: Invalid value: ${JSON.stringify(value)}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`);
}

export function parseLabelSelector(input: string | undefined): LabelSelector {
  if (input === undefined || input.trim() === '') return [];
  const reqs: LabelSelector = [];
  for (const raw of splitTop(input)) {
    const part = raw.trim();
    if (part === '') throw badRequest(`found '', expected: identifier (in labelSelector ${JSON.stringify(input)})`);
    const set = /^([^\s!=(),]+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(part);
    if (set) {
      const key = set[1] ?? '';
      checkKey(key, part);
      const values = (set[3] ?? '').split(',').map((v) => v.trim());
      if (set[2] === 'in' && values.length === 1 && values[0] === '') throw badRequest(`unable to parse requirement: for 'in', 'notin' operators, values set can't be empty (in ${JSON.stringify(part)})`);
      values.forEach((v) => checkValue(v, part));
      reqs.push({ key, op: set[2] === 'in' ? 'in' : 'notin', values });
      continue;
    }
    const cmp = /^([^\s!=(),]+)\s*(==|=|!=)\s*([^\s!=(),]*)$/.exec(part);
    if (cmp) {
      const key = cmp[1] ?? '';
      const value = cmp[3] ?? '';
      checkKey(key, part);
      checkValue(value, part);
      reqs.push({ key, op: cmp[2] === '!=' ? '!=' : '=', values: [value] });
      continue;
    }
    const not = /^!\s*([^\s!=(),]+)$/.exec(part);
    if (not) {
      checkKey(not[1] ?? '', part);
      reqs.push({ key: not[1] ?? '', op: '!exists' });
      continue;
    }
    if (/^[^\s!=(),]+$/.test(part)) {
      checkKey(part, part);
      reqs.push({ key: part, op: 'exists' });
      continue;
    }
    throw badRequest(`unable to parse requirement: ${JSON.stringify(part)} is not a valid label selector requirement (in ${JSON.stringify(input)})`);
  }
  return reqs;
}

export function matchesLabels(selector: LabelSelector, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return selector.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    const v = l[r.key];
    switch (r.op) {
      case 'exists':
        return has;
      case '!exists':
        return !has;
      case '=':
        return has && v === r.values[0];
      case '!=':
        return !has || v !== r.values[0];
      case 'in':
        return has && r.values.includes(v ?? '');
      case 'notin':
        return !has || !r.values.includes(v ?? '');
    }
  });
}

/** A metav1.LabelSelector (matchLabels / matchExpressions), already validated. */
export function fromLabelSelectorObject(sel: unknown): LabelSelector {
  if (!isRecord(sel)) return [];
  const reqs: LabelSelector = [];
  if (isRecord(sel.matchLabels)) for (const [k, v] of Object.entries(sel.matchLabels)) reqs.push({ key: k, op: '=', values: [String(v)] });
  if (Array.isArray(sel.matchExpressions)) {
    for (const e of sel.matchExpressions) {
      if (!isRecord(e) || typeof e.key !== 'string') continue;
      const values = Array.isArray(e.values) ? e.values.map(String) : [];
      if (e.operator === 'In') reqs.push({ key: e.key, op: 'in', values });
      else if (e.operator === 'NotIn') reqs.push({ key: e.key, op: 'notin', values });
      else if (e.operator === 'Exists') reqs.push({ key: e.key, op: 'exists' });
      else if (e.operator === 'DoesNotExist') reqs.push({ key: e.key, op: '!exists' });
    }
  }
  return reqs;
}

// ---------------------------------------------------------------------------------------------

export interface FieldRequirement {
  field: string;
  op: '=' | '!=';
  value: string;
}

/** Splits at unescaped separators; `\,` `\=` `\\` are escapes, as in fields.ParseSelector. */
function splitEscaped(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i] ?? '';
    if (ch === '\\' && i + 1 < s.length) {
      cur += ch + (s[i + 1] ?? '');
      i++;
    } else if (ch === sep) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}
const unescape = (s: string): string => s.replace(/\\(.)/g, '$1');

export function parseFieldSelector(input: string | undefined, allowed: string[]): FieldRequirement[] {
  if (input === undefined || input.trim() === '') return [];
  const reqs: FieldRequirement[] = [];
  for (const part of splitEscaped(input, ',')) {
    const m = /^(.*?)(==|!=|=)(.*)$/s.exec(part);
    if (!m) throw badRequest(`invalid selector: '${input}'; can't understand '${part}'`);
    const field = (m[1] ?? '').trim();
    if (!allowed.includes(field)) throw badRequest(`field label not supported: ${field}`);
    reqs.push({ field, op: m[2] === '!=' ? '!=' : '=', value: unescape(m[3] ?? '') });
  }
  return reqs;
}

/** A field of an object by dotted path, as a string ("" when absent, as the server's field sets do). */
export function fieldValue(obj: KubeObject, path: string): string {
  let cur: unknown = obj;
  for (const seg of path.split('.')) {
    if (!isRecord(cur)) return '';
    cur = cur[seg];
  }
  if (cur === undefined || cur === null) return '';
  if (isRecord(cur) && path === 'source') return typeof cur.component === 'string' ? cur.component : '';
  return typeof cur === 'string' ? cur : typeof cur === 'number' || typeof cur === 'boolean' ? String(cur) : '';
}

export function matchesFields(reqs: FieldRequirement[], obj: KubeObject): boolean {
  return reqs.every((r) => (fieldValue(obj, r.field) === r.value) === (r.op === '='));
}
