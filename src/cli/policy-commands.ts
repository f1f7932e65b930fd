/**
 * The network policy's part of the command tree: `paude allow | deny | blocked | approvals |
 * approve`. What each command does is in commands/policy.ts, imported only when it runs.
 */
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import type { ScopeFlags } from './commands/policy.js';
import type { CliContext } from './program.js';

/** --session, --project, --global: where an allow or deny is stored. */
const scoped = (cmd: Command): Command =>
  cmd
    .option('--session <id>', 'the session (id or unique prefix; default: the only one running here)')
    .option('--project', "for every session of this project (stored in paude's data dir, never in the repository)")
    .option('--global', 'for every session (stored in your global paude.json)');

export function registerPolicyCommands(program: Command, ctx: CliContext): void {
  scoped(program.command('allow').description('allow a host, for this session by default').argument('[host]', 'an allowlist entry: host, *.host, .host, host:port, ip:ADDRESS, @group (with --last: the session)'))
    .option('--once', 'only answer the requests to it that are waiting now')
    .option('--last', "allow the host of the latest request the session's proxy refused (with its port when not 80 or 443)")
    .action(async (host: string | undefined, opts: ScopeFlags & { last?: boolean }) => {
      const { allowLast, changePolicy } = await import('./commands/policy.js');
      if (opts.last) await allowLast(ctx, host, opts);
      else if (host === undefined) throw new UsageError('paude allow needs a host (an allowlist entry), or --last for the host the proxy refused last');
      else await changePolicy(ctx, 'allow', host, opts);
    });
  scoped(program.command('deny').description('deny a host (the denylist beats the allowlist), for this session by default').argument('<host>', 'an entry in the same grammar'))
    .option('--once', 'only refuse the requests to it that are waiting now')
    .action(async (host: string, opts: ScopeFlags) => {
      const { changePolicy } = await import('./commands/policy.js');
      await changePolicy(ctx, 'deny', host, opts);
    });
  program
    .command('blocked')
    .description('hosts the proxy refused, with counts and when last')
    .argument('[session]', 'one session (default: all running)')
    .option('--json', 'machine-readable output')
    .action(async (session: string | undefined, opts: { json?: boolean }) => {
      const { blocked } = await import('./commands/policy.js');
      await blocked(ctx, session, opts);
    });
  program
    .command('approvals')
    .description('requests held in ask mode, waiting for a decision')
    .option('--json', 'machine-readable output')
    .option('--watch', 'stay and report new held requests, also of sessions that start meanwhile (requests are held only while someone watches)')
    .action(async (opts: { json?: boolean; watch?: boolean }) => {
      const { approvals } = await import('./commands/policy.js');
      await approvals(ctx, opts);
    });
  program
    .command('approve')
    .description('answer a held request')
    .argument('<id>', 'the request id shown by paude approvals')
    .option('--scope <scope>', 'once, session, project or global', 'once')
    .option('--deny', 'refuse it instead')
    .action(async (id: string, opts: { scope?: string; deny?: boolean }) => {
      const { approve } = await import('./commands/policy.js');
      await approve(ctx, id, opts);
    });
}
