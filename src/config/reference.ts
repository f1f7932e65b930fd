/**
 * The configuration reference (README and docs/CONFIGURATION.md), generated from the zod
 * schema, the defaults and the layering rules so the three cannot drift apart. A unit test
 * fails when the committed docs differ from this output (`npm run docs:config` rewrites them).
 */
import { z } from 'zod';
import { defaultConfig } from './defaults.js';
import { projectRuleText } from './layering.js';
import { PaudeFileSchema } from './schema.js';
import { ALLOWLIST_GROUPS, REGISTRY_GROUPS } from './groups.js';

interface Row {
  key: string;
  type: string;
  default: string;
  project: string;
  description: string;
}

export function configReferenceRows(): Row[] {
  const defaults = defaultConfig() as unknown as Record<string, unknown>;
  const rows: Row[] = [];
  const visit = (schema: z.ZodType, path: string[]): void => {
    const node = unwrap(schema);
    if (node instanceof z.ZodObject && path.length < 3 && !isLeafObject(path)) {
      const shape: Record<string, z.ZodType> = node.shape;
      for (const [key, child] of Object.entries(shape)) {
        if (key === '$schema') continue;
        visit(child, [...path, key]);
      }
      return;
    }
    const key = path.join('.');
    const dflt = valueAt(defaults, path);
    rows.push({
      key,
      type: typeText(node),
      default: dflt === undefined ? '' : JSON.stringify(dflt),
      project: projectRuleText(path),
      description: schema.description ?? node.description ?? '',
    });
  };
  visit(PaudeFileSchema, []);
  return rows;
}

/** Objects documented as one row (their fields are listed in the type column). */
function isLeafObject(path: string[]): boolean {
  return ['credentials', 'backend.kubernetes', 'telemetry.otel.attributes', 'ui.keys'].includes(path.join('.'));
}

function valueAt(root: Record<string, unknown>, path: string[]): unknown {
  let node: unknown = root;
  for (const key of path) node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined;
  if (typeof node === 'object' && node !== null && !Array.isArray(node) && Object.keys(node).length === 0) return undefined;
  return node;
}

function unwrap(schema: z.ZodType): z.ZodType {
  let node = schema;
  while (node instanceof z.ZodOptional || node instanceof z.ZodDefault || node instanceof z.ZodNullable) node = node.unwrap() as z.ZodType;
  return node;
}

function typeText(schema: z.ZodType): string {
  const node = unwrap(schema);
  if (node instanceof z.ZodEnum) return (node.options as string[]).map((o) => `"${o}"`).join(' \\| ');
  if (node instanceof z.ZodBoolean) return 'boolean';
  if (node instanceof z.ZodNumber) return 'number';
  if (node instanceof z.ZodURL) return 'URL';
  if (node instanceof z.ZodString) return 'string';
  if (node instanceof z.ZodArray) return `list of ${typeText(node.element as z.ZodType)}`;
  if (node instanceof z.ZodRecord) return `map of ${typeText(node.valueType as z.ZodType)}`;
  if (node instanceof z.ZodDiscriminatedUnion) {
    const kinds = (node.options as z.ZodType[]).map((o) => {
      const shape = (unwrap(o) as z.ZodObject).shape as Record<string, z.ZodType>;
      const literal = unwrap(shape.type ?? z.never());
      const name = literal instanceof z.ZodLiteral ? String(literal.value) : '?';
      return `{type: "${name}", ${Object.keys(shape).filter((k) => k !== 'type').join(', ')}}`;
    });
    return kinds.join(' or ');
  }
  if (node instanceof z.ZodUnion) return (node.options as z.ZodType[]).map(typeText).join(' or ');
  if (node instanceof z.ZodObject) return `{${Object.keys(node.shape).join(', ')}}`;
  return 'value';
}

export function configReferenceMarkdown(): string {
  const lines = ['| key | type | default | in a project paude.json | what it does |', '|---|---|---|---|---|'];
  for (const r of configReferenceRows()) {
    const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\\\\\|/g, '\\|');
    lines.push(`| \`${r.key}\` | ${cell(r.type)} | ${r.default ? `\`${r.default}\`` : ''} | ${r.project} | ${cell(r.description)} |`);
  }
  return lines.join('\n') + '\n';
}

/** Replaces the generated block `name` (between its begin/end markers) in a markdown document. */
export function replaceGeneratedBlock(doc: string, name: string, content: string): string {
  const begin = new RegExp(`<!-- ${name}:begin[^>]*-->`);
  const match = begin.exec(doc);
  const endMarker = `<!-- ${name}:end -->`;
  const end = doc.indexOf(endMarker);
  if (!match || end < match.index) return doc;
  return `${doc.slice(0, match.index + match[0].length)}\n${content}${doc.slice(end)}`;
}

/** The named allowlist groups as a markdown table: fixed groups' domains, and where each package registry group's hosts come from. */
export function groupsMarkdown(): string {
  const lines = ['| group | hosts |', '|---|---|'];
  for (const [name, domains] of Object.entries(ALLOWLIST_GROUPS)) lines.push(`| \`@${name}\` | ${domains.map((d) => `\`${d}\``).join(', ')} |`);
  for (const [name, origin] of Object.entries(REGISTRY_GROUPS)) lines.push(`| \`@${name}\` | from your configuration: ${origin.replace(/\|/g, '\\|')} |`);
  return lines.join('\n') + '\n';
}

/** Every generated block of the docs, refreshed. */
export function refreshGeneratedDocs(doc: string): string {
  return replaceGeneratedBlock(replaceGeneratedBlock(doc, 'config-reference', configReferenceMarkdown()), 'allowlist-groups', groupsMarkdown());
}

/** Documents that hold generated blocks (paths relative to the repository root). */
export const GENERATED_DOCS = ['README.md', 'docs/CONFIGURATION.md', 'docs/NETWORK.md'] as const;
