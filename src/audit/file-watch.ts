/**
 * Workspace changes seen from the host while a local session runs: created, modified, deleted,
 * one event per path per half second at most. .git/ and the isolated paths (container-local
 * storage, invisible here anyway) are left out. Changes made while no paude watches (a
 * detached session whose keeper is gone) are not seen; the audit says what it saw.
 */
import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { randomUUID } from 'node:crypto';
import { AUDIT_VERSION, type AuditEvent } from './audit-event.js';
import type { AuditLog } from './audit-log.js';

export class WorkspaceWatch {
  private watcher: FSWatcher | undefined;
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private readonly known = new Map<string, boolean>();

  constructor(
    private readonly log: AuditLog,
    private readonly session: string,
    private readonly root: string,
    private readonly skip: readonly string[],
  ) {}

  start(): void {
    try {
      this.watcher = watch(this.root, { recursive: true }, (_type, name) => {
        if (name) this.changed(name.split(sep).join('/'));
      });
      this.watcher.on('error', () => undefined);
    } catch {
      // A file system without recursive watching: no file events for this session.
    }
  }

  private skipped(rel: string): boolean {
    return ['.git', ...this.skip].some((p) => rel === p || rel.startsWith(`${p}/`));
  }

  private changed(rel: string): void {
    if (this.skipped(rel) || this.pending.has(rel)) return;
    this.pending.set(
      rel,
      setTimeout(() => {
        this.pending.delete(rel);
        void this.record(rel);
      }, 500),
    );
  }

  private async record(rel: string): Promise<void> {
    const st = await stat(join(this.root, rel)).catch(() => undefined);
    if (st?.isDirectory()) return;
    const existed = this.known.get(rel);
    const change = !st ? 'deleted' : existed === undefined && st.birthtimeMs > Date.now() - 2000 ? 'created' : 'modified';
    this.known.set(rel, Boolean(st));
    const event: AuditEvent = { v: AUDIT_VERSION, id: randomUUID(), ts: new Date().toISOString(), session_id: this.session, event: 'file', source: 'host', data: { path: rel, change, ...(st ? { size: st.size } : {}) } };
    await this.log.append([event]).catch(() => undefined);
  }

  /** Stops watching and writes what is still waiting. */
  async stop(): Promise<void> {
    this.watcher?.close();
    const waiting = [...this.pending.keys()];
    for (const t of this.pending.values()) clearTimeout(t);
    this.pending.clear();
    for (const rel of waiting) await this.record(rel);
  }
}
