/**
 * Prerequisites of a test (root, squid, an engine). When the whole suite must run (CI, or the
 * README's test command, which sets PAUDE_TEST_FULL) a missing one fails the test; when a
 * developer runs a part of the suite it is skipped, with the reason in its name. Never a
 * silent pass.
 */
import { it, type TestFunction } from 'vitest';

export const wholeSuite = Boolean(process.env.CI || process.env.PAUDE_TEST_FULL);

/** `it` when `ok`; otherwise a failing test (whole suite) or a skipped one naming `what` is missing. */
export function itNeeds(ok: boolean, what: string): (name: string, fn: TestFunction, timeout?: number) => void {
  if (ok) return (name, fn, timeout) => it(name, fn, timeout);
  if (wholeSuite) {
    return (name) =>
      it(name, () => {
        throw new Error(`this test needs ${what}, and the whole suite must run here (CI or PAUDE_TEST_FULL)`);
      });
  }
  return (name, fn) => it.skip(`${name} (NOT RUN: needs ${what})`, fn);
}
