import { describe, expect, it } from 'vitest';
import { ExitCode, PaudeError } from '../../errors.js';
import { engineReason, engineRefusal, engineStep } from './engine-failure.js';

/** An error as dockerode raises it for an engine's HTTP error answer. */
const refusal = (status: number, message: string): Error => Object.assign(new Error(`(HTTP code ${status}) server error - ${message}`), { statusCode: status, json: { message } });

describe('engine refusals as sentences', () => {
  it("names the container, keeps the engine's reason and says what to try", async () => {
    const vfs = refusal(500, 'runc: runc create failed: unable to start container process: exec: "/bin/sh": permission denied: OCI permission denied');
    const error = await engineStep('agent', 'start', () => Promise.reject(vfs)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PaudeError);
    expect((error as PaudeError).exitCode).toBe(ExitCode.engine);
    expect((error as Error).message).toBe(
      'the engine could not start the session\'s agent container: runc: runc create failed: unable to start container process: exec: "/bin/sh": permission denied: OCI permission denied; on rootless Podman this is the vfs storage driver, under which no non-root process can run: use overlay (driver = "overlay" with mount_program = "/usr/bin/fuse-overlayfs" in ~/.config/containers/storage.conf, then podman system reset), and see paude doctor',
    );
    expect((error as Error).message).not.toContain('HTTP code');
  });

  it('falls back to paude doctor, and leaves errors that are not the engine\'s alone', async () => {
    const odd = await engineStep('proxy', 'create', () => Promise.reject(refusal(500, 'something new'))).catch((e: unknown) => e);
    expect((odd as Error).message).toBe("the engine could not create the session's proxy container: something new; see paude doctor");
    const mine = new Error('not an engine answer');
    expect(await engineStep('proxy', 'create', () => Promise.reject(mine)).catch((e: unknown) => e)).toBe(mine);
    expect(engineReason(new Error('(HTTP code 404) no such container - no such container'))).toBe('no such container');
  });

  it('names the directory a copy went to', async () => {
    const full = refusal(500, 'write /home/paude/.claude.json: no space left on device');
    const error = await engineStep('agent', 'copy files into', () => Promise.reject(full), '/home/paude').catch((e: unknown) => e);
    expect((error as PaudeError).exitCode).toBe(ExitCode.engine);
    expect((error as Error).message).toBe(
      "the engine could not copy files into the session's agent container (/home/paude): write /home/paude/.claude.json: no space left on device; free space where the engine keeps its storage, or remove old sessions with paude gc",
    );
  });

  it("turns an engine answer no step named into a sentence, and nothing else", () => {
    const gone = engineRefusal(refusal(409, 'container 4f2a is not running'));
    expect(gone).toBeInstanceOf(PaudeError);
    expect(gone?.exitCode).toBe(ExitCode.engine);
    expect(gone?.message).toBe('the container engine refused a request: container 4f2a is not running; see paude doctor');
    expect(engineRefusal(new Error('ENOENT: no such file'))).toBeUndefined();
    expect(engineRefusal(Object.assign(new Error('odd'), { statusCode: 'x' }))).toBeUndefined();
  });
});
