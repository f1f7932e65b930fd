/**
 * The sessions' part of the command tree: `paude sessions | attach | stop | rm | sync | gc`, the
 * keeper a detached session runs (hidden), and `paude audit`. What each command does is in
 * commands/lifecycle.ts, commands/sessions.ts and commands/audit.ts, imported only when it runs.
 */
import type { Command } from 'commander';
import { collect } from './flags.js';
import type { CliContext } from './program.js';

export function registerSessionCommands(program: Command, ctx: CliContext): void {
  program
    .command('sessions')
    .description('the sessions on every engine that answers: status, backend, age, workspace, network mode, blocked requests, tokens')
    .option('--json', 'machine-readable output')
    .option('-a, --all', 'also the stopped sessions')
    .action(async (opts: { json?: boolean; all?: boolean }) => {
      const { sessions } = await import('./commands/sessions.js');
      await sessions(ctx, opts);
    });
  program
    .command('attach')
    .description("connect this terminal to a session (default: the only one running here); the detach key (sessions.detachKeys, default ctrl-]) leaves it running")
    .argument('[session]', 'session id or unique prefix')
    .action(async (session: string | undefined) => {
      const { attach } = await import('./commands/lifecycle.js');
      process.exitCode = await attach(ctx, session);
    });
  program
    .command('stop')
    .description('stop sessions (their command gets SIGHUP); their state is kept until paude rm')
    .argument('[sessions...]', 'session ids or unique prefixes (default: the only one running here)')
    .option('--rm', 'remove them too')
    .option('-t, --time <seconds>', 'how long to wait before killing the command', '5')
    .action(async (refs: string[], opts: { rm?: boolean; time?: string }) => {
      const { stop } = await import('./commands/lifecycle.js');
      await stop(ctx, refs, opts);
    });
  program
    .command('rm')
    .description("remove stopped sessions: containers, volumes and paude's metadata")
    .argument('<sessions...>', 'session ids or unique prefixes')
    .option('-f, --force', 'stop and remove running ones too')
    .option('--discard', "a remote session's workspace changes are not brought back first")
    .action(async (refs: string[], opts: { force?: boolean; discard?: boolean }) => {
      const { remove } = await import('./commands/lifecycle.js');
      await remove(ctx, refs, opts);
    });
  program
    .command('sync')
    .description("bring a remote session's workspace changes to this host (or, with --push, this host's to the session); changes on both sides are conflicts, never overwritten")
    .argument('[session]', 'session id or unique prefix (default: the only one running here)')
    .option('--push', "send this host's changes to the session instead")
    .option('--up', 'the same as --push')
    .option('--down', 'from the session to this host (the default)')
    .option('--git', "exchange commits instead of files: the session's branches arrive as paude/<id>/<branch>; with --up this host's branch arrives there as host/<branch>")
    .option('-n, --dry-run', 'only say what would change')
    .action(async (session: string | undefined, opts: { push?: boolean; up?: boolean; down?: boolean; git?: boolean; dryRun?: boolean }) => {
      const { sync } = await import('./commands/lifecycle.js');
      await sync(ctx, session, opts);
    });
  program
    .command('gc')
    .description('remove what crashes left: interrupted starts, orphaned proxies and volumes, stale metadata')
    .option('--stopped', 'also remove stopped sessions')
    .option('-n, --dry-run', 'only say what would be removed')
    .action(async (opts: { stopped?: boolean; dryRun?: boolean }) => {
      const { gc } = await import('./commands/lifecycle.js');
      await gc(ctx, opts);
    });
  program
    .command('_keeper', { hidden: true })
    .argument('<session>')
    .action(async (id: string) => {
      const { keeper } = await import('./commands/lifecycle.js');
      await keeper(ctx, id);
    });

  program
    .command('audit')
    .description("the sessions' stories: starts and ends, policy changes and approvals (who, scope, from where), the proxy's requests, the agent's commands (as its hooks report them), file changes")
    .argument('[session]', 'one session (id or unique prefix)')
    .option('--since <when>', 'only events since then: 30s, 15m, 2h, 7d, or a date/time')
    .option('--event <type>', 'only these events (repeatable or comma separated): session.start, session.end, policy.change, approval, network', collect<string>, [])
    .option('-f, --follow', 'stay and print new events as they come')
    .option('--json', 'one JSON object per line')
    .action(async (session: string | undefined, opts: { since?: string; event?: string[]; follow?: boolean; json?: boolean }) => {
      const { audit } = await import('./commands/audit.js');
      await audit(ctx, session, opts);
    });
}
