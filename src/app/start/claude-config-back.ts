/**
 * The session's changes to .claude/: all of them when the user opted in for good
 * (claude.persistProjectConfig, global only), else shown one by one and kept only when the
 * user says yes. Without a terminal to ask, they are shown and not applied.
 */
import type { SessionBackend } from '../../backends/session-backend.js';
import { readTar } from '../../fs/tar.js';
import { applyClaudeChange, claudeChanges } from '../../run/claude-sync.js';

export interface BringBackOptions {
  out: NodeJS.WritableStream;
  /** The user asked for it on this run (paude --sync-claude-config). */
  syncClaudeConfig: boolean;
  /** Asks the user a yes/no question; absent when nobody can answer. */
  confirm?: (question: string) => Promise<boolean>;
}

export async function bringBackClaudeConfig(backend: SessionBackend, id: string, dir: string, persist: boolean, o: BringBackOptions): Promise<void> {
  const changes = await claudeChanges(dir, readTar(await backend.copyFromAgent(id, dir)));
  if (changes.length === 0) {
    if (o.syncClaudeConfig) o.out.write('paude: the session did not change .claude/\n');
    return;
  }
  const applied: string[] = [];
  for (const change of changes) {
    let take = persist;
    if (!persist) {
      o.out.write(`${change.diff}\n`);
      take = o.confirm ? await o.confirm(`Apply this change to .claude/${change.path} (${change.kind})?`) : false;
    }
    if (take) {
      await applyClaudeChange(dir, change);
      applied.push(`${change.path} (${change.kind})`);
    }
  }
  const kept = applied.length ? `applied to .claude/: ${applied.join(', ')}` : 'nothing applied to .claude/';
  const why = !persist && !o.confirm ? ' (no terminal to ask; set claude.persistProjectConfig in your global paude.json to keep such changes)' : '';
  o.out.write(`paude: ${kept}${why}\n`);
}
