/**
 * Trust on change. The agent can write files in the workspace, so a project's paude.json or
 * devcontainer.json may come from an earlier session rather than from the user. Approvals are
 * stored in the user's data dir (never in the repository), keyed by the file's absolute path,
 * as the hash of the approved bytes plus a copy of them for showing what changed.
 */
import { readFile } from 'node:fs/promises';
import { createTwoFilesPatch } from 'diff';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { formatIssue } from './format-issue.js';
import type { LoadedFile } from './read-config-file.js';

const MAX_SNAPSHOT = 256 * 1024;

const TrustFileSchema = z.strictObject({
  version: z.literal(1),
  files: z.record(
    z.string(),
    z.strictObject({
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
      approvedAt: z.string(),
      content: z.string().optional(),
    }),
  ),
});
type TrustFile = z.infer<typeof TrustFileSchema>;

export type TrustState = { state: 'trusted' } | { state: 'new' } | { state: 'changed'; previous?: string };

export interface PendingTrust {
  file: LoadedFile<unknown>;
  state: 'new' | 'changed';
  /** Unified diff from the approved version (or from nothing) to the current file. */
  diff: string;
}

export class TrustStore {
  constructor(private readonly path: string) {}

  private async read(): Promise<TrustFile> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return { version: 1, files: {} };
      throw new ConfigError(`${this.path}: cannot be read (${code ?? String(error)}); fix or delete it (project config files will need approval again)`, this.path);
    }
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      throw new ConfigError(`${this.path}: is not valid JSON; delete it to start over (project config files will need approval again)`, this.path);
    }
    const result = TrustFileSchema.safeParse(data, { reportInput: true });
    if (!result.success) {
      const issue = result.error.issues[0];
      const detail = issue ? formatIssue(this.path, issue, TrustFileSchema) : this.path;
      throw new ConfigError(`${detail}; delete the file to start over (project config files will need approval again)`, this.path);
    }
    return result.data;
  }

  async check(file: LoadedFile<unknown>): Promise<PendingTrust | undefined> {
    const entry = (await this.read()).files[file.path];
    if (entry?.sha256 === file.sha256) return undefined;
    const state = entry ? 'changed' : 'new';
    const before = entry?.content ?? '';
    const label = entry ? `${file.display} (approved ${entry.approvedAt})` : `${file.display} (not approved before)`;
    const diff = createTwoFilesPatch(label, `${file.display} (now)`, before, file.text, undefined, undefined, { context: 3 });
    return { file, state, diff };
  }

  async approve(files: ReadonlyArray<LoadedFile<unknown>>, now = new Date()): Promise<void> {
    const store = await this.read();
    for (const file of files) {
      store.files[file.path] = {
        sha256: file.sha256,
        approvedAt: now.toISOString(),
        ...(file.text.length <= MAX_SNAPSHOT ? { content: file.text } : {}),
      };
    }
    await writeFileAtomic(this.path, JSON.stringify(store, null, 2) + '\n');
  }

  async revoke(paths: readonly string[]): Promise<number> {
    const store = await this.read();
    let removed = 0;
    for (const p of paths) {
      if (store.files[p]) {
        delete store.files[p];
        removed++;
      }
    }
    await writeFileAtomic(this.path, JSON.stringify(store, null, 2) + '\n');
    return removed;
  }
}
