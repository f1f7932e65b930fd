/**
 * What paude remembers about a session, in DATA/sessions/<id>/session.json (zod-validated,
 * written atomically). The engine's labels stay the source of truth for what exists; this file
 * holds what the engine does not know: the policy the session started with, its workspace.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { PaudeError, UsageError } from '../errors.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { formatIssue } from '../config/format-issue.js';
import { NETWORK_MODES } from '../config/schema.js';
import { quote } from '../errors.js';
import { SESSION_ID } from '../policy/squid-config.js';

const PolicyEntrySchema = z.strictObject({ text: z.string(), source: z.string() });

export const SessionRecordSchema = z.strictObject({
  version: z.literal(1),
  id: z.string().regex(SESSION_ID),
  projectRoot: z.string(),
  workdir: z.string(),
  backend: z.enum(['podman', 'docker', 'kubernetes']),
  endpoint: z.string(),
  startedAt: z.string(),
  command: z.array(z.string()),
  /** The command runs in tmux inside the agent: the session can be attached and detached. */
  tmux: z.boolean().optional(),
  /** Protected paths that did not exist at start, watched on the host while the session lives. */
  watched: z.array(z.string()).optional(),
  /** What was under .git/modules at start (submodule repositories, other directories). */
  gitModules: z.strictObject({ modules: z.array(z.string()), dirs: z.array(z.string()) }).optional(),
  /** The policy from configuration at start; approvals and session changes are added to it. */
  policy: z.strictObject({
    mode: z.enum(NETWORK_MODES),
    approvalTimeoutSeconds: z.number(),
    allow: z.array(PolicyEntrySchema),
    deny: z.array(PolicyEntrySchema),
  }),
});
export type SessionRecord = z.infer<typeof SessionRecordSchema>;

export function sessionDir(sessionsDir: string, id: string): string {
  return join(sessionsDir, id);
}

/** One session's record; undefined when it has none (yet), a warning when it is unreadable. */
export async function readSessionRecord(sessionsDir: string, id: string): Promise<SessionRecord | undefined> {
  const { records, warnings } = await listSessionRecords(sessionsDir, id);
  if (warnings[0]) throw new PaudeError(warnings[0]);
  return records[0];
}

export async function writeSessionRecord(sessionsDir: string, record: SessionRecord): Promise<void> {
  await writeFileAtomic(join(sessionDir(sessionsDir, record.id), 'session.json'), JSON.stringify(record, null, 2) + '\n');
}

export interface RecordList {
  records: SessionRecord[];
  /** One line per file that could not be read, naming it. */
  warnings: string[];
}

export async function listSessionRecords(sessionsDir: string, only?: string): Promise<RecordList> {
  // An empty id names no session (not all of them).
  const names = only !== undefined ? [only] : await readdir(sessionsDir).catch(() => [] as string[]);
  const records: SessionRecord[] = [];
  const warnings: string[] = [];
  for (const name of names.filter((n) => SESSION_ID.test(n)).sort()) {
    const file = join(sessionsDir, name, 'session.json');
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      continue; // a session still starting, or one whose files were removed
    }
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      warnings.push(`${file}: is not valid JSON; the session is shown from its engine labels only`);
      continue;
    }
    const parsed = SessionRecordSchema.safeParse(data, { reportInput: true });
    if (parsed.success) records.push(parsed.data);
    else warnings.push(`${parsed.error.issues[0] ? formatIssue(file, parsed.error.issues[0], SessionRecordSchema) : file}; the session is shown from its engine labels only`);
  }
  return { records, warnings };
}

/** A full id, or a unique prefix of one (with or without "paude-"). */
export function resolveSession(records: readonly SessionRecord[], ref: string): SessionRecord {
  const wanted = ref.startsWith('paude-') ? ref : `paude-${ref}`;
  const exact = records.find((r) => r.id === wanted);
  if (exact) return exact;
  const matches = records.filter((r) => r.id.startsWith(wanted));
  if (matches.length === 1 && matches[0]) return matches[0];
  if (matches.length > 1) throw new UsageError(`${quote(ref)} matches ${matches.map((m) => m.id).join(', ')}; give more of the id`);
  throw new PaudeError(`no running session ${quote(ref)}${records.length ? ` (running: ${records.map((r) => r.id).join(', ')})` : ' (none is running)'}`);
}

/** The session meant when none is named: the only one in this project, else the only one at all. */
export function defaultSession(records: readonly SessionRecord[], projectRoot: string): SessionRecord {
  const here = records.filter((r) => r.projectRoot === projectRoot);
  const pool = here.length > 0 ? here : records;
  if (pool.length === 1 && pool[0]) return pool[0];
  if (pool.length === 0) throw new PaudeError('no session is running; start one with paude, or name one with --session');
  throw new UsageError(`several sessions are running (${pool.map((r) => r.id).join(', ')}); name one with --session`);
}
