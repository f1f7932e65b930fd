/**
 * Attaching a terminal to a session, written once for `paude attach` and the dashboard: the
 * checks that say why a session cannot be attached, the keeper a session whose paude died gets
 * back, the terminal hand-over, and what happened when the terminal came back (detached, or the
 * command ended: its last screen, exit code and what was moved to the quarantine). The foreground
 * `paude` that started a session attaches through the same hand-over (app/start/session-run.ts).
 */
import { PaudeError } from '../errors.js';
import { faultPoint } from '../faults.js';
import { attachTerminal, showLastScreen } from '../sessions/attach.js';
import { ensureKeeper } from '../sessions/keeper.js';
import { quarantined, type SessionView } from '../sessions/session-service.js';
import { sessionDir } from '../sessions/session-record.js';
import type { SessionBackend } from '../backends/session-backend.js';

export interface AttachDeps {
  sessionsDir: string;
  env: NodeJS.ProcessEnv;
}

export interface Terminal {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WritableStream;
}

export type AttachOutcome = { kind: 'detached' } | { kind: 'ended'; code: number; quarantined: string[] };

const short = (id: string): string => id.slice('paude-'.length);

/** The session's backend when it can be attached now; otherwise one sentence saying why not. */
export function attachableBackend(view: SessionView): SessionBackend {
  switch (view.status) {
    case 'stopped':
      throw new PaudeError(`${view.id} has stopped${view.exitCode !== undefined ? ` (exit ${view.exitCode})` : ''}; paude rm ${short(view.id)} removes it`);
    case 'error':
      throw new PaudeError(`${view.id} cannot be attached: ${view.detail ?? 'it is in error'}; paude gc removes it`);
    case 'starting':
      throw new PaudeError(`${view.id} is still starting; try again in a moment`);
    default:
      break;
  }
  if (!view.record?.tmux) throw new PaudeError(`${view.id} was started without a terminal (paude -p or a pipe) and cannot be attached; its paude shows its output`);
  if (!view.backendHandle) throw new PaudeError(`${view.id} is on ${view.endpoint}, which does not answer`);
  return view.backendHandle;
}

/** Hands the terminal to the session until it is detached or its command ends. */
export async function attachSession(deps: AttachDeps, view: SessionView, terminal: Terminal): Promise<AttachOutcome> {
  const backend = attachableBackend(view);
  const dir = sessionDir(deps.sessionsDir, view.id);
  // A session whose paude died (kill -9, a closed terminal) gets its keeper back.
  await ensureKeeper(dir, view.id, deps.env);
  faultPoint('attach.keeper-ensured');
  const outcome = await handOverTerminal(backend, view.id, terminal, { term: deps.env.TERM ?? 'xterm-256color', sessionDir: dir });
  if (outcome.kind === 'detached') {
    faultPoint('attach.detached');
    return outcome;
  }
  return { ...outcome, quarantined: await quarantined(deps.sessionsDir, view.id) };
}

/**
 * The terminal hand-over itself, also for the `paude` that started the session: until the user
 * detaches, the terminal goes away (an interrupt, when one is given), or the command ends, whose
 * last screen is then shown.
 */
export async function handOverTerminal(
  backend: SessionBackend,
  id: string,
  terminal: Terminal,
  options: { term: string; sessionDir: string; interrupted?: Promise<'signal'> },
): Promise<{ kind: 'detached' } | { kind: 'ended'; code: number }> {
  const farewell = await Promise.race([attachTerminal(backend, id, terminal, { term: options.term, sessionDir: options.sessionDir }), ...(options.interrupted ? [options.interrupted] : [])]);
  if (farewell === 'signal' || farewell === 'detached') return { kind: 'detached' };
  const after = await backend.inspect(id);
  if (farewell === undefined && after?.agent === 'running') return { kind: 'detached' };
  const code = await backend.waitAgent(id).catch(() => after?.exitCode ?? 1);
  await showLastScreen(backend, id, terminal.stdout);
  return { kind: 'ended', code };
}
