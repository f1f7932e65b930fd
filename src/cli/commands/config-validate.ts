import { basename, resolve } from 'node:path';
import { DevcontainerFileSchema } from '../../config/devcontainer-schema.js';
import { loadConfig } from '../../config/load-config.js';
import { mergeLayers } from '../../config/layering.js';
import { defaultConfig } from '../../config/defaults.js';
import { displayPath, resolvePaths } from '../../config/paths.js';
import { readConfigFile } from '../../config/read-config-file.js';
import { PaudeFileSchema } from '../../config/schema.js';
import { ConfigError } from '../../errors.js';
import type { CliContext } from '../program.js';

/**
 * Without FILE: every file that applies here, with the project rules, trust not required.
 * With FILE: that file alone; a paude.json outside the global location is checked as a project file.
 */
export async function configValidate(ctx: CliContext, file: string | undefined): Promise<void> {
  if (!file) {
    const resolved = await loadConfig({ cwd: ctx.cwd, env: ctx.env, trust: 'ignore' });
    for (const w of resolved.warnings) ctx.stderr.write(`paude: warning: ${w}\n`);
    const checked = [resolved.files.global, resolved.files.project, resolved.files.devcontainer].filter((f) => f !== undefined);
    ctx.stdout.write(checked.length ? `ok: ${checked.map((f) => f.display).join(', ')}\n` : 'ok: no config files here (defaults apply)\n');
    return;
  }
  const path = resolve(ctx.cwd, file);
  const display = displayPath(path, ctx.cwd);
  if (basename(path) === 'devcontainer.json' || basename(path) === '.devcontainer.json') {
    const loaded = await readConfigFile(path, display, DevcontainerFileSchema);
    if (!loaded) throw new ConfigError(`${display}: does not exist; check the path`, path);
  } else {
    const loaded = await readConfigFile(path, display, PaudeFileSchema);
    if (!loaded) throw new ConfigError(`${display}: does not exist; check the path`, path);
    const kind = path === resolvePaths(ctx.env).globalConfigFile ? 'global' : 'project';
    const result = mergeLayers(defaultConfig(), [{ source: { kind, origin: display }, file: path, value: loaded.value }]);
    for (const w of result.warnings) ctx.stderr.write(`paude: warning: ${w}\n`);
  }
  ctx.stdout.write(`ok: ${display}\n`);
}
