import { createInterface } from 'node:readline/promises';
import type { CliContext } from './program.js';

/** Interactive only when a person can answer: both ends are terminals and we are not in CI. */
export function isInteractive(ctx: CliContext): boolean {
  return Boolean(ctx.stdin.isTTY && ctx.stdout.isTTY) && !ctx.env.CI;
}

export async function confirm(ctx: CliContext, question: string): Promise<boolean> {
  const rl = createInterface({ input: ctx.stdin, output: ctx.stdout });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
