import { findProject, resolvePaths } from '../../config/paths.js';
import type { CliContext } from '../program.js';

export function configPath(ctx: CliContext, opts: { json?: boolean }): void {
  const paths = resolvePaths(ctx.env);
  const project = findProject(ctx.cwd);
  const rows: Array<[string, string]> = [
    ['global config', paths.globalConfigFile],
    ['project root', project.root],
    ['project config', project.paudeJson],
    ['devcontainer', project.devcontainerJson],
    ['data dir', paths.dataDir],
    ['trust store', paths.trustFile],
    ['cache dir', paths.cacheDir],
  ];
  if (opts.json) {
    ctx.stdout.write(`${JSON.stringify({ ...paths, project }, null, 2)}\n`);
    return;
  }
  for (const [name, path] of rows) ctx.stdout.write(`${name.padEnd(15)} ${path}\n`);
}
