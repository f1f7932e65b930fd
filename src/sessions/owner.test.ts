import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { claimOwner, liveOwner, releaseOwner } from './owner.js';

describe('session owners', () => {
  const dirs: string[] = [];
  const dir = async (): Promise<string> => {
    const d = await mkdtemp(join(tmpdir(), 'paude-owner-'));
    dirs.push(d);
    return d;
  };
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  it('reports a live owner and forgets a released one', async () => {
    const d = await dir();
    await claimOwner(d, 'keeper');
    expect(await liveOwner(d, 'keeper')).toBe(process.pid);
    expect(await liveOwner(d, 'starter')).toBeUndefined();
    await releaseOwner(d, 'keeper');
    expect(await liveOwner(d, 'keeper')).toBeUndefined();
  });

  it('does not take a dead process, or a reused pid, for the owner', async () => {
    const d = await dir();
    const child = spawn(process.execPath, ['-e', '0']);
    await new Promise((r) => child.once('exit', r));
    await claimOwner(d, 'starter', child.pid);
    expect(await liveOwner(d, 'starter')).toBeUndefined();
    // Our own pid with another start time: a different process that got the same pid.
    await writeFile(join(d, 'starter.pid'), JSON.stringify({ pid: process.pid, started: '1' }));
    expect(await liveOwner(d, 'starter')).toBeUndefined();
    await writeFile(join(d, 'starter.pid'), 'not json');
    expect(await liveOwner(d, 'starter')).toBeUndefined();
  });
});
