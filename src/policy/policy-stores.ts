/**
 * Where policy changes made after start are kept, by scope:
 *   session  -> DATA/sessions/<id>/policy.json        (this session only)
 *   project  -> DATA/projects/<hash of root>/approvals.json (never in the repository: the agent
 *               must not be able to widen its own next session)
 *   global   -> the user's global paude.json, edited in place keeping comments and layout
 * "once" is not stored: it answers one held request.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { applyEdits, modify, parse } from 'jsonc-parser';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { formatIssue } from '../config/format-issue.js';
import { readConfigFile } from '../config/read-config-file.js';
import { PaudeFileSchema } from '../config/schema.js';
import { describeEntryProblem, formatNetworkRule, parseNetworkEntry } from '../config/network-entry.js';

export type PolicyScope = 'once' | 'session' | 'project' | 'global';
export type PolicyEffect = 'allow' | 'deny';

export const ScopedRulesSchema = z.strictObject({
  version: z.literal(1),
  allow: z.array(z.string()),
  deny: z.array(z.string()),
  root: z.string().optional(),
});
export type ScopedRules = z.infer<typeof ScopedRulesSchema>;

/** Validates an entry from any front end; returns its canonical text. */
export function canonicalEntry(entry: string): string {
  const parsed = parseNetworkEntry(entry);
  if (!parsed.ok) throw new ConfigError(describeEntryProblem(entry, parsed.problem), '');
  return formatNetworkRule(parsed.rule);
}

export function projectKey(root: string): string {
  return createHash('sha256').update(root).digest('hex').slice(0, 16);
}

export function sessionRulesFile(dataDir: string, sessionId: string): string {
  return join(dataDir, 'sessions', sessionId, 'policy.json');
}

export function projectRulesFile(dataDir: string, root: string): string {
  return join(dataDir, 'projects', projectKey(root), 'approvals.json');
}

export async function readScopedRules(file: string): Promise<ScopedRules> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, allow: [], deny: [] };
    throw new ConfigError(`${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`, file);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new ConfigError(`${file}: is not valid JSON; fix or delete it`, file);
  }
  const result = ScopedRulesSchema.safeParse(data, { reportInput: true });
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ConfigError(`${issue ? formatIssue(file, issue, ScopedRulesSchema) : file}; fix or delete it`, file);
  }
  // Entries are re-validated on use; an invalid one is dropped there, never widened.
  return result.data;
}

/** Adds the entry to one list and removes it from the other; returns whether anything changed. */
export async function changeScopedRules(file: string, effect: PolicyEffect, entry: string, extra: Partial<ScopedRules> = {}): Promise<boolean> {
  const text = canonicalEntry(entry);
  const rules = await readScopedRules(file);
  const other = effect === 'allow' ? 'deny' : 'allow';
  const before = JSON.stringify(rules);
  const same = (e: string): boolean => {
    const p = parseNetworkEntry(e);
    return p.ok ? formatNetworkRule(p.rule) === text : e === text;
  };
  rules[other] = rules[other].filter((e) => !same(e));
  if (!rules[effect].some(same)) rules[effect].push(text);
  const next = { ...rules, ...extra };
  if (JSON.stringify(next) === before) return false;
  await writeFileAtomic(file, JSON.stringify(next, null, 2) + '\n');
  return true;
}

/** Takes an entry off one list; returns whether it was there. */
export async function removeScopedRule(file: string, effect: PolicyEffect, entry: string): Promise<boolean> {
  const text = canonicalEntry(entry);
  const rules = await readScopedRules(file);
  const kept = rules[effect].filter((e) => {
    const p = parseNetworkEntry(e);
    return (p.ok ? formatNetworkRule(p.rule) : e) !== text;
  });
  if (kept.length === rules[effect].length) return false;
  await writeFileAtomic(file, JSON.stringify({ ...rules, [effect]: kept }, null, 2) + '\n');
  return true;
}

/**
 * Adds an entry to network.allowlist or network.denylist of the global paude.json (and removes
 * it from the other list), keeping the file's comments and formatting. The result is validated
 * before it is written: a change that would make the file invalid is refused.
 */
export async function changeGlobalConfig(file: string, display: string, effect: PolicyEffect, entry: string): Promise<boolean> {
  const text = canonicalEntry(entry);
  let source = '{}\n';
  try {
    source = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await readConfigFile(file, display, PaudeFileSchema); // refuse to edit a file that is already invalid
  const current = (parse(source) ?? {}) as { network?: { allowlist?: string[]; denylist?: string[] } };
  const listKey = effect === 'allow' ? 'allowlist' : 'denylist';
  const otherKey = effect === 'allow' ? 'denylist' : 'allowlist';
  const sameRule = (e: string): boolean => {
    const p = parseNetworkEntry(e);
    return p.ok && formatNetworkRule(p.rule) === text;
  };
  const list = current.network?.[listKey] ?? [];
  const other = current.network?.[otherKey] ?? [];
  let next = source;
  const format = { formattingOptions: { insertSpaces: true, tabSize: 2 } };
  // Removed one element at a time, from the end, so comments on the others stay. jsonc-parser
  // mangles the removal of the last element of a one-line list: then the list is rewritten.
  const kept = other.filter((e) => !sameRule(e));
  if (kept.length !== other.length) {
    let removed = next;
    for (let i = other.length - 1; i >= 0; i--) {
      if (sameRule(other[i] ?? '')) removed = applyEdits(removed, modify(removed, ['network', otherKey, i], undefined, format));
    }
    const check = (parse(removed) as { network?: Record<string, unknown> } | undefined)?.network?.[otherKey];
    next = JSON.stringify(check) === JSON.stringify(kept) ? removed : applyEdits(next, modify(next, ['network', otherKey], kept, format));
  }
  if (!list.some(sameRule)) next = applyEdits(next, modify(next, ['network', listKey, list.length], text, { ...format, isArrayInsertion: true }));
  if (next === source) return false;
  const check = PaudeFileSchema.safeParse(parse(next), { reportInput: true });
  if (!check.success) throw new ConfigError(`${display}: the change would make the file invalid; edit it by hand`, file);
  await writeFileAtomic(file, next, 0o644);
  return true;
}
