/**
 * Errors a user can act on. Each carries the process exit code the CLI uses for it
 * (documented in docs/CLI.md) and a message that is one sentence saying what to do.
 */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  config: 3,
  untrusted: 4,
  engine: 5,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export class PaudeError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = ExitCode.failure,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A configuration file could not be read, parsed or validated. */
export class ConfigError extends PaudeError {
  constructor(
    message: string,
    readonly file: string,
    readonly jsonPath?: string,
  ) {
    super(message, ExitCode.config);
  }
}

export class UsageError extends PaudeError {
  constructor(message: string) {
    super(message, ExitCode.usage);
  }
}

export function assertNever(value: never, what = 'value'): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(value)}`);
}

/**
 * JSON quoting that also escapes what JSON leaves as it is but terminals and editors act on: DEL,
 * the C1 controls (NEL is a line break, CSI starts an escape sequence) and the line and paragraph
 * separators. A message that quotes a value stays one plain line.
 */
export function quote(value: unknown): string {
  return (JSON.stringify(value) ?? String(value)).replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
