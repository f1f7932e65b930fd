/**
 * Every escape case must be able to fail: each declares a control, and runs it. A control is
 * either the same action succeeding where the protection is off (session B, a container of the
 * test's own with a network, an unprotected path, a listener the test started), or an assertion
 * that needs the protection's own active answer (the proxy's 403 with X-Paude-Denied, EROFS,
 * EPERM, ENETUNREACH, the uid the agent is left with). A case records its control only by
 * running it through `prove`, after the control's assertions passed; at the end of the suite
 * `report` prints how many cases ran and how many exercised their control, and fails when one
 * did not.
 */
import { it } from 'vitest';

/** Runs a control's assertions; the control counts once they passed. */
export type Prove = (what: string, check: () => unknown) => Promise<void>;

interface Entry {
  name: string;
  control: string;
  proven: string[];
}

export interface EscapeCases {
  /** An `it` whose body must exercise its declared control through `prove`. */
  escapeCase: (name: string, declared: { control: string }, body: (prove: Prove) => Promise<void>, timeout?: number) => void;
  /** Counts the cases that ran; throws when one ran without exercising its control. */
  report: (title: string) => string;
}

export function escapeCases(): EscapeCases {
  const ran: Entry[] = [];
  return {
    escapeCase(name, declared, body, timeout) {
      if (!declared.control.trim()) throw new Error(`escape case "${name}" declares no control`);
      it(
        name,
        async () => {
          const entry: Entry = { name, control: declared.control, proven: [] };
          ran.push(entry);
          await body(async (what, check) => {
            await check();
            entry.proven.push(what);
          });
        },
        timeout,
      );
    },
    report(title) {
      const without = ran.filter((e) => e.proven.length === 0);
      const line = `${title}: ${ran.length} cases ran, ${ran.length - without.length} with an exercised control`;
      if (without.length > 0) {
        throw new Error(`${line}; without one: ${without.map((e) => `"${e.name}" (declared: ${e.control})`).join(', ')}`);
      }
      return line;
    },
  };
}
