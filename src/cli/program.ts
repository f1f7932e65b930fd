/**
 * The command tree. Each command lives in commands/ and is imported only when it runs.
 * Exit codes: see docs/CLI.md (0 ok, 1 failure, 2 usage, 3 config, 4 untrusted config, 5 engine).
 */
import { Command, CommanderError, Option } from 'commander';
import { ExitCode, PaudeError, UsageError } from '../errors.js';
import { didYouMean } from '../config/did-you-mean.js';
import { BACKEND_TYPES } from '../config/schema.js';
import { packageVersion } from './package-version.js';
import { collect, type ConfigFlags } from './flags.js';
import { takeRegistryWarnings } from '../policy/registry-warnings.js';
import type { RunFlags } from './commands/run.js';
import type { ScopeFlags } from './commands/policy.js';

export interface CliContext {
  cwd: string;
  env: NodeJS.ProcessEnv;
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
}

function addConfigFlags(cmd: Command): Command {
  return cmd
    .option('--network-allow <entry>', 'also allow this host for this session (repeatable)', collect<string>, [])
    .option('--allow-network', 'turn network filtering off (open mode); use with care')
    .addOption(new Option('--backend <type>', 'where sessions run').choices(BACKEND_TYPES))
    .option('--context <name>', 'kubeconfig context for the kubernetes backend (default: the current one)')
    .option('--namespace <name>', 'namespace for the kubernetes backend');
}

export function buildProgram(ctx: CliContext): Command {
  const program = new Command('paude')
    .description('Run Claude Code in a container with a network policy you see and control.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .option('--debug', 'show stack traces for unexpected errors')
    .helpOption('-h, --help', 'show help')
    .usage('[options] [-- CLAUDE ARGS...]  |  [options] COMMAND')
    .argument('[args...]', 'arguments for Claude Code (or, with --shell, the command to run)')
    .option('--shell', 'run a shell (or the command after --) in the sandbox instead of Claude Code')
    .option('-p, --print <prompt>', 'run Claude Code non-interactively with this prompt, like claude -p')
    .option('--rebuild', 'rebuild the agent and proxy images even if they are cached')
    .option('--sync-claude-config', "when the session ends, show its changes to the project's .claude/ and apply the ones you accept")
    .option('-d, --detach', 'start the session in the background and print its id (paude attach ID to see it)')
    .showSuggestionAfterError(true)
    // Options belong to the command they follow: `paude config show --json`, not the root's.
    .enablePositionalOptions()
    .configureOutput({
      writeOut: (s) => ctx.stdout.write(s),
      writeErr: (s) => ctx.stderr.write(s),
      outputError: (s, write) => write(`${oneLine(s.replace(/^error: /, 'paude: '))}\n`),
    })
    .exitOverride();

  addConfigFlags(program).action(async (args: string[], opts: RunFlags) => {
    const { run } = await import('./commands/run.js');
    process.exitCode = await run(ctx, args, opts);
  });

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

  const scoped = (cmd: Command): Command =>
    cmd
      .option('--session <id>', 'the session (id or unique prefix; default: the only one running here)')
      .option('--project', "for every session of this project (stored in paude's data dir, never in the repository)")
      .option('--global', 'for every session (stored in your global paude.json)');
  scoped(program.command('allow').description('allow a host, for this session by default').argument('<host>', 'an allowlist entry: host, *.host, .host, host:port, ip:ADDRESS, @group'))
    .option('--once', 'only answer the requests to it that are waiting now')
    .action(async (host: string, opts: ScopeFlags) => {
      const { changePolicy } = await import('./commands/policy.js');
      await changePolicy(ctx, 'allow', host, opts);
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
    .option('--watch', 'stay and report new held requests (requests are held only while someone watches)')
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

  program
    .command('ui')
    .description('the full-screen dashboard: sessions with live previews, network feed, held requests, allowlist editor; enter attaches')
    .option('--session <id>', 'select this session at start')
    .action(async (opts: { session?: string }) => {
      const { ui } = await import('./commands/ui.js');
      process.exitCode = await ui(ctx, opts);
    });

  program
    .command('doctor')
    .description('show how paude finds a container engine and what it found')
    .action(async () => {
      const { doctor } = await import('./commands/doctor.js');
      process.exitCode = await doctor(ctx);
    });

  program
    .command('trust')
    .description("review and approve this project's paude.json and devcontainer.json")
    .option('--show', 'only show what would be approved')
    .option('-y, --yes', 'approve without asking')
    .option('--revoke', 'forget earlier approvals for this project')
    .action(async (opts: { show?: boolean; yes?: boolean; revoke?: boolean }) => {
      const { trust } = await import('./commands/trust.js');
      await trust(ctx, opts);
    });

  for (const cmd of [program, ...program.commands, ...program.commands.flatMap((c) => c.commands)]) {
    cmd.exitOverride().configureOutput(program.configureOutput());
  }
  return program;
}

export async function runCli(argv: readonly string[], ctx: CliContext = defaultContext()): Promise<number> {
  const program = buildProgram(ctx);
  const debug = argv.includes('--debug');
  try {
    process.exitCode = undefined;
    rejectMistypedCommand(program, argv);
    await program.parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.ok;
  } catch (error) {
    return reportError(error, ctx, debug);
  } finally {
    // A package registry group (@npm...) that resolved to nothing says so once per run.
    for (const w of takeRegistryWarnings()) ctx.stderr.write(`paude: warning: ${w}\n`);
  }
}

/**
 * `paude confgi` would otherwise start Claude Code with the prompt "confgi". A first word that
 * is close to a command is taken for a typo; `paude -- confgi` passes it to Claude as it is.
 */
function rejectMistypedCommand(program: Command, argv: readonly string[]): void {
  const first = argv[0];
  if (first === undefined || first.startsWith('-') || /\s/.test(first)) return;
  const names = program.commands.map((c) => c.name());
  if (names.includes(first)) return;
  const suggestion = didYouMean(first, names);
  if (suggestion) throw new UsageError(`unknown command '${first}' (did you mean '${suggestion}'?); to give it to Claude Code, write paude -- ${first}`);
}

function reportError(error: unknown, ctx: CliContext, debug: boolean): number {
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return ExitCode.ok;
    return ExitCode.usage;
  }
  if (error instanceof PaudeError) {
    ctx.stderr.write(`paude: ${oneLine(error.message)}\n`);
    if (debug && error.stack) ctx.stderr.write(`${error.stack}\n`);
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  ctx.stderr.write(`paude: unexpected error: ${oneLine(message)}${debug ? '' : ' (run again with --debug for details)'}\n`);
  if (debug && error instanceof Error && error.stack) ctx.stderr.write(`${error.stack}\n`);
  return ExitCode.failure;
}

/**
 * An error message as one line. Commander quotes what was typed as it is (a typed newline or
 * escape would split the message or reach the terminal raw) and puts "(Did you mean ...?)" on
 * a line of its own, which joins the first here. paude's own messages quote what they repeat
 * (quote()); this is the backstop for any that does not, and for a library's message.
 */
function oneLine(message: string): string {
  const joined = message.replace(/\n$/, '').replace(/\n(\(Did you mean [^\n]*\))$/, ' $1');
  // eslint-disable-next-line no-control-regex -- escaping control characters is the point
  return joined.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
    const escaped = JSON.stringify(c).slice(1, -1);
    return escaped === c ? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}` : escaped;
  });
}

function defaultContext(): CliContext {
  return { cwd: process.cwd(), env: process.env, stdout: process.stdout, stderr: process.stderr, stdin: process.stdin };
}
