/**
 * Which host process looks after a session: the `paude` that is starting it (starter), or the
 * small background process that guards a detached session's workspace (keeper). Each writes
 * its pid, with the process's start time so that a reused pid is not taken for it, into the
 * session's directory. The engine says what runs; these files say who is watching it.
 */
import { readFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { processAlive } from '../fs/process-alive.js';

/**
 * starter, keeper, stopper (a paude stop/rm ending the session: it records the end, the keeper
 * leaves it to it), or clients/<token> for a terminal attached from this host.
 */
export type OwnerRole = 'starter' | 'keeper' | 'stopper' | `clients/${string}`;

const OwnerSchema = z.strictObject({ pid: z.number().int().positive(), started: z.string() });

/** The kernel's start time of a process (jiffies since boot), or '' where /proc is absent. */
function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22, counted after the command name, which is in parentheses and may hold spaces.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return process.platform === 'linux' ? undefined : '';
  }
}

const file = (sessionDir: string, role: OwnerRole): string => join(sessionDir, `${role}.pid`);

export async function claimOwner(sessionDir: string, role: OwnerRole, pid = process.pid): Promise<void> {
  await writeFileAtomic(file(sessionDir, role), JSON.stringify({ pid, started: processStart(pid) ?? '' }) + '\n');
}

export async function releaseOwner(sessionDir: string, role: OwnerRole): Promise<void> {
  await rm(file(sessionDir, role), { force: true });
}

/** The owner's pid while that process lives; undefined when there is none or it has died. */
export async function liveOwner(sessionDir: string, role: OwnerRole): Promise<number | undefined> {
  let parsed;
  try {
    parsed = OwnerSchema.safeParse(JSON.parse(await readFile(file(sessionDir, role), 'utf8')));
  } catch {
    return undefined;
  }
  if (!parsed.success) return undefined;
  const { pid, started } = parsed.data;
  if (!processAlive(pid)) return undefined;
  const now = processStart(pid);
  return now === undefined || (started !== '' && now !== started) ? undefined : pid;
}
