/**
 * The command tree: `paude` itself (a session), the families of commands registered by
 * config-commands.ts, policy-commands.ts and session-commands.ts (in this order, which is the
 * help's), then ui, doctor and trust. Each command lives in commands/ and is imported only when
 * it runs.
 * Exit codes: see docs/CLI.md (0 ok, 1 failure, 2 usage, 3 config, 4 untrusted config, 5 engine).
 */
import { Command, CommanderError } from 'commander';
import { ExitCode, PaudeError, UsageError } from '../errors.js';
import { didYouMean } from '../config/did-you-mean.js';
import { packageVersion } from './package-version.js';
import { engineRefusal } from '../backends/engine/engine-failure.js';
import { takeRegistryWarnings } from '../policy/registry-warnings.js';
import type { RunFlags } from './commands/run.js';
import { addConfigFlags, registerConfigCommands } from './config-commands.js';
import { registerPolicyCommands } from './policy-commands.js';
import { registerSessionCommands } from './session-commands.js';

export interface CliContext {
  cwd: string;
  env: NodeJS.ProcessEnv;
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
}

export function buildProgram(ctx: CliContext): Command {
  const program = new Command('paude')
    .description('Run Claude Code in a container with a network policy you see and control.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .option('--debug', 'show stack traces for unexpected errors')
    .helpOption('-h, --help', 'show help')
    // The root takes Claude's arguments, so commander adds no help command by itself: without
    // this, `paude help sessions` would start Claude Code with the prompt "help sessions".
    .helpCommand('help [command]', 'show help for a command')
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

  registerConfigCommands(program, ctx);
  registerPolicyCommands(program, ctx);
  registerSessionCommands(program, ctx);

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
  // An engine's answer that no step turned into a sentence is still the engine's, not a bug.
  const refusal = engineRefusal(error);
  const message = error instanceof Error ? error.message : String(error);
  ctx.stderr.write(refusal ? `paude: ${oneLine(refusal.message)}\n` : `paude: unexpected error: ${oneLine(message)}${debug ? '' : ' (run again with --debug for details)'}\n`);
  if (debug && error instanceof Error && error.stack) ctx.stderr.write(`${error.stack}\n`);
  return refusal?.exitCode ?? ExitCode.failure;
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
