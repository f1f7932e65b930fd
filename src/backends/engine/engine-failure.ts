/**
 * An engine's refusal to create or start one of a session's containers, as one sentence: which
 * container (agent, proxy, a one-shot helper), the engine's own reason, and what to try. The
 * engine's answers come as HTTP errors ("(HTTP code 500) server error - runc create failed:
 * ..."); the sentence keeps the engine's reason and drops the transport's wording.
 */
import { ExitCode, PaudeError } from '../../errors.js';

export type ContainerRole = 'agent' | 'proxy' | 'helper';

/** The engine's reason in an error from dockerode (its JSON message), else the error's text. */
export function engineReason(error: unknown): string {
  const e = error as { json?: { message?: string } | null; reason?: string; message?: string };
  const text = e.json?.message ?? e.message ?? String(error);
  return text.replace(/^\(HTTP code \d+\) [a-z ]+ - /, '').replace(/\s+/g, ' ').trim();
}

/** An engine's HTTP error answer as dockerode raises it (a status code beside the message). */
export const isEngineError = (error: unknown): boolean => typeof error === 'object' && error !== null && typeof (error as { statusCode?: unknown }).statusCode === 'number';

/** What to try for a reason we know, else `paude doctor`. */
export function engineAdvice(reason: string, role: ContainerRole | undefined): string {
  if (/permission denied/i.test(reason) && /exec|\/bin\/sh|runc create|crun/i.test(reason)) {
    return 'on rootless Podman this is the vfs storage driver, under which no non-root process can run: use overlay (driver = "overlay" with mount_program = "/usr/bin/fuse-overlayfs" in ~/.config/containers/storage.conf, then podman system reset), and see paude doctor';
  }
  if (/no such image|image not known|not found: manifest unknown/i.test(reason)) return `${role ? `the ${role}` : 'an'} image is not on the engine: run paude again with --rebuild`;
  if (/no space left/i.test(reason)) return "free space where the engine keeps its storage, or remove old sessions with paude gc";
  if (/keep-id|user namespace|newuidmap|subuid|subgid/i.test(reason)) return 'rootless Podman needs subuid and subgid ranges for your user and newuidmap (Debian: the uidmap package); see paude doctor';
  return 'see paude doctor';
}

/** What an engine step does to a container, as the sentence says it. */
export type EngineStepKind = 'create' | 'start' | 'copy files into';

/**
 * Runs one engine step of a container's life; an engine refusal becomes the sentence. `where`
 * names the directory a copy goes to.
 */
export async function engineStep<T>(role: ContainerRole, what: EngineStepKind, work: () => Promise<T>, where?: string): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!isEngineError(error)) throw error;
    const reason = engineReason(error);
    const place = where === undefined ? '' : ` (${where})`;
    throw new PaudeError(`the engine could not ${what} the session's ${role} container${place}: ${reason}; ${engineAdvice(reason, role)}`, ExitCode.engine);
  }
}

/** An engine refusal no step named (the last line of defence in the CLI), as a sentence. */
export function engineRefusal(error: unknown): PaudeError | undefined {
  if (!isEngineError(error)) return undefined;
  const reason = engineReason(error);
  return new PaudeError(`the container engine refused a request: ${reason}; ${engineAdvice(reason, undefined)}`, ExitCode.engine);
}
