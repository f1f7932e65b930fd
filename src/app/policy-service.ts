/**
 * Applies policy changes at a scope and makes them effective in the running sessions they
 * concern, by rewriting those sessions' rules files (the proxy reads them on the next request).
 *   session -> that session;  project -> the project's running sessions (and its future ones);
 *   global  -> every running session (and, through the global paude.json, future ones).
 */
import { join } from 'node:path';
import type { PaudePaths } from '../config/paths.js';
import { displayPath } from '../config/paths.js';
import { listSessionRecords, sessionDir, writeSessionRecord, type SessionRecord } from '../sessions/session-record.js';
import { EntryList, type EffectivePolicy, type RuleSource } from '../policy/effective-policy.js';
import { renderPolicyRules } from '../policy/policy-rules.js';
import { canonicalEntry, changeGlobalConfig, changeScopedRules, projectRulesFile, readScopedRules, sessionRulesFile, type PolicyEffect, removeScopedRule } from '../policy/policy-stores.js';
import { ProxyStateDir } from '../policy/proxy-state.js';
import { sharedRegistryResolver, withRegistryHosts, type RegistryGroupResolver } from '../policy/registry-groups.js';

export type StoredScope = 'session' | 'project' | 'global';

export interface PolicyChange {
  effect: PolicyEffect;
  entry: string;
  scope: StoredScope;
  /** The session concerned (session scope), or whose project is meant (project scope). */
  session?: SessionRecord;
  projectRoot?: string;
}

export class PolicyService {
  constructor(
    private readonly paths: PaudePaths,
    /** Resolves @npm, @pypi and the other registry groups for the rules file; its warnings are the caller's to print (takeWarnings). */
    private readonly registryGroups: RegistryGroupResolver = sharedRegistryResolver(),
  ) {}

  /** The session's policy now: what it started with, plus project approvals and its own changes. */
  async effectivePolicy(record: SessionRecord): Promise<EffectivePolicy> {
    const project = await readScopedRules(projectRulesFile(this.paths.dataDir, record.projectRoot));
    const own = await readScopedRules(sessionRulesFile(this.paths.dataDir, record.id));
    const allow = new EntryList();
    const deny = new EntryList();
    for (const e of record.policy.allow) allow.add(e.text, e.source as RuleSource);
    for (const e of record.policy.deny) deny.add(e.text, e.source as RuleSource);
    project.allow.forEach((t) => allow.add(t, 'approval'));
    project.deny.forEach((t) => deny.add(t, 'approval'));
    own.allow.forEach((t) => allow.add(t, 'session'));
    own.deny.forEach((t) => deny.add(t, 'session'));
    // A later allow takes the entry off the deny list and the other way round, within a scope;
    // across scopes deny still wins in the proxy.
    return { mode: record.policy.mode, approvalTimeoutSeconds: record.policy.approvalTimeoutSeconds, allow: allow.entries, deny: deny.entries };
  }

  async refresh(record: SessionRecord): Promise<void> {
    const state = new ProxyStateDir(join(sessionDir(this.paths.sessionsDir, record.id), 'proxy'));
    const { policy } = await withRegistryHosts(await this.effectivePolicy(record), this.registryGroups);
    await state.writeRules(renderPolicyRules(policy));
  }

  /** Takes a session's own entry off its list and updates its proxy; false when it had none such. */
  async removeSessionEntry(record: SessionRecord, effect: PolicyEffect, entry: string): Promise<boolean> {
    const removed = await removeScopedRule(sessionRulesFile(this.paths.dataDir, record.id), effect, entry);
    if (removed) await this.refresh(record);
    return removed;
  }

  /** Returns the ids of the running sessions the change now applies to. */
  async apply(change: PolicyChange): Promise<string[]> {
    const entry = canonicalEntry(change.entry);
    const { records } = await listSessionRecords(this.paths.sessionsDir);
    let affected: SessionRecord[];
    switch (change.scope) {
      case 'session': {
        const session = change.session;
        if (!session) throw new Error('a session-scope change needs a session');
        await changeScopedRules(sessionRulesFile(this.paths.dataDir, session.id), change.effect, entry);
        affected = [session];
        break;
      }
      case 'project': {
        const root = change.projectRoot ?? change.session?.projectRoot;
        if (!root) throw new Error('a project-scope change needs a project');
        await changeScopedRules(projectRulesFile(this.paths.dataDir, root), change.effect, entry, { root });
        affected = records.filter((r) => r.projectRoot === root);
        break;
      }
      case 'global': {
        await changeGlobalConfig(this.paths.globalConfigFile, displayPath(this.paths.globalConfigFile, process.cwd()), change.effect, entry);
        // Running sessions read no config files: the change reaches them as a session change,
        // and what they froze from the global file at start is corrected the same way.
        const other = change.effect === 'allow' ? 'deny' : 'allow';
        affected = [];
        for (const r of records) {
          await changeScopedRules(sessionRulesFile(this.paths.dataDir, r.id), change.effect, entry);
          const kept = r.policy[other].filter((e) => !(e.source === 'global' && canonicalEntry(e.text) === entry));
          const updated = { ...r, policy: { ...r.policy, [other]: kept } };
          if (kept.length !== r.policy[other].length) await writeSessionRecord(this.paths.sessionsDir, updated);
          affected.push(updated);
        }
        break;
      }
    }
    for (const r of affected) await this.refresh(r);
    return affected.map((r) => r.id);
  }
}
