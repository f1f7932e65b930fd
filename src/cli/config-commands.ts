/**
 * The configuration's part of the command tree: the flags that override it (on `paude` itself
 * and on `paude config show`) and `paude config show | validate | path`. What each command does
 * is in commands/, imported only when it runs.
 */
import { Option, type Command } from 'commander';
import { BACKEND_TYPES } from '../config/schema.js';
import { collect, type ConfigFlags } from './flags.js';
import type { CliContext } from './program.js';

export function addConfigFlags(cmd: Command): Command {
  return cmd
    .option('--network-allow <entry>', 'also allow this host for this session (repeatable)', collect<string>, [])
    .option('--allow-network', 'turn network filtering off (open mode); use with care')
    .addOption(new Option('--backend <type>', 'where sessions run').choices(BACKEND_TYPES))
    .option('--context <name>', 'kubeconfig context for the kubernetes backend (default: the current one)')
    .option('--namespace <name>', 'namespace for the kubernetes backend');
}

export function registerConfigCommands(program: Command, ctx: CliContext): void {
  const config = program.command('config').description('show, validate and locate configuration');
  config.copyInheritedSettings(program);

  addConfigFlags(
    config
      .command('show')
      .description('print the effective configuration and where each value comes from')
      .option('--json', 'machine-readable output'),
  ).action(async (opts: ConfigFlags & { json?: boolean }) => {
    const { configShow } = await import('./commands/config-show.js');
    await configShow(ctx, opts);
  });

  config
    .command('validate')
    .description('check config files (the global and project files, or FILE) and report the first problem')
    .argument('[file]', 'a paude.json or devcontainer.json to check')
    .action(async (file: string | undefined) => {
      const { configValidate } = await import('./commands/config-validate.js');
      await configValidate(ctx, file);
    });

  config
    .command('path')
    .description('print where paude looks for configuration and keeps its data')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const { configPath } = await import('./commands/config-path.js');
      configPath(ctx, opts);
    });
}
