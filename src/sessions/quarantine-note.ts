/** The note in a session's directory of what its guard moved to the quarantine, for `paude sessions` and `paude attach` to tell the user. */
import { join } from 'node:path';
import { writeFileAtomic } from '../fs/atomic-write.js';

export async function noteQuarantined(sessionDir: string, moved: readonly string[]): Promise<void> {
  await writeFileAtomic(join(sessionDir, 'quarantined.json'), JSON.stringify(moved) + '\n');
}
