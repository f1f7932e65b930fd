/**
 * Entry point. Kept light: `paude --version` answers without loading commander or any
 * command module; each command imports what it needs when it runs.
 */
import { packageVersion } from './package-version.js';

export async function main(argv: readonly string[]): Promise<number> {
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  const { runCli } = await import('./program.js');
  return runCli(argv);
}
