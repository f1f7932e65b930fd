import { loadConfig } from '../../config/load-config.js';
import { TrustStore } from '../../config/trust-store.js';
import { UsageError } from '../../errors.js';
import { confirm, isInteractive } from '../prompt.js';
import type { CliContext } from '../program.js';

export async function trust(ctx: CliContext, opts: { show?: boolean; yes?: boolean; revoke?: boolean }): Promise<void> {
  // Validation still applies: an invalid file cannot be approved.
  const resolved = await loadConfig({ cwd: ctx.cwd, env: ctx.env, trust: 'ignore' });
  const store = new TrustStore(resolved.paths.trustFile);
  if (opts.revoke) {
    const n = await store.revoke([resolved.project.paudeJson, resolved.project.devcontainerJson]);
    ctx.stdout.write(`revoked ${n} approval${n === 1 ? '' : 's'} for ${resolved.project.root}\n`);
    return;
  }
  const files = [resolved.files.project, resolved.files.devcontainer].filter((f) => f !== undefined);
  const pending = [];
  for (const f of files) {
    const p = await store.check(f);
    if (p) pending.push(p);
  }
  if (pending.length === 0) {
    ctx.stdout.write(files.length ? `already trusted: ${files.map((f) => f.display).join(', ')}\n` : 'nothing to trust: this project has no paude.json or devcontainer.json\n');
    return;
  }
  for (const p of pending) ctx.stdout.write(`${p.diff}\n`);
  if (opts.show) return;
  if (!opts.yes) {
    if (!isInteractive(ctx)) throw new UsageError('approval needs a terminal; review the diff above and run "paude trust --yes" to approve it');
    if (!(await confirm(ctx, `Approve ${pending.map((p) => p.file.display).join(' and ')}?`))) {
      ctx.stdout.write('not approved\n');
      process.exitCode = 1;
      return;
    }
  }
  await store.approve(pending.map((p) => p.file));
  ctx.stdout.write(`trusted: ${pending.map((p) => p.file.display).join(', ')}\n`);
}
