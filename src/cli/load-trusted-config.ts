/**
 * Loads the configuration for a command; when project files are untrusted and someone is at the
 * terminal, shows what changed and asks. Non-interactive runs get the UntrustedConfigError.
 */
import { loadConfig, UntrustedConfigError, type FlagOverrides, type ResolvedConfig } from '../config/load-config.js';
import { resolvePaths } from '../config/paths.js';
import { TrustStore } from '../config/trust-store.js';
import { confirm, isInteractive } from './prompt.js';
import type { CliContext } from './program.js';

export async function loadTrustedConfig(ctx: CliContext, flags?: FlagOverrides): Promise<ResolvedConfig> {
  try {
    return await loadConfig({ cwd: ctx.cwd, env: ctx.env, flags, trust: 'require' });
  } catch (error) {
    if (!(error instanceof UntrustedConfigError) || !isInteractive(ctx)) throw error;
    for (const pending of error.pending) ctx.stdout.write(`${pending.diff}\n`);
    ctx.stdout.write(`${error.message}\n`);
    if (!(await confirm(ctx, 'Approve these files for this project?'))) throw error;
    // Approve exactly the bytes that were shown, not whatever the files hold by now.
    await new TrustStore(resolvePaths(ctx.env).trustFile).approve(error.pending.map((p) => p.file));
    return loadConfig({ cwd: ctx.cwd, env: ctx.env, flags, trust: 'require' });
  }
}
