/**
 * Starting a session from the dashboard: the start use case (app/start-session.ts) in this
 * process, as `paude --detach [--shell]` in that workspace would run it (its configuration, its
 * trust rules, its keeper). What it prints while it gets ready (image builds) is passed on as
 * progress; its last line is the error message when it fails.
 */
import { PassThrough, Writable } from 'node:stream';
import { runSession } from '../../app/start-session.js';
import type { DashboardServices } from '../services.js';

/** Lines written to a stream, each handed on as it completes. */
function lineStream(onLine: (line: string) => void): Writable {
  let rest = '';
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      const lines = (rest + chunk.toString()).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) onLine(line.replace(/^paude: /, ''));
      done();
    },
  });
}

export function liveNewSession(env: NodeJS.ProcessEnv, terminal: { rows?: number; columns?: number }): Pick<DashboardServices, 'newSession'> {
  return {
    async newSession(workspace, what, backend, onProgress) {
      let id: string | undefined;
      let last: string | undefined;
      const stderr = lineStream((line) => {
        last = line;
        onProgress?.(line);
      });
      // The session's terminal size is the dashboard's (it is attached from here).
      const stdout = Object.assign(lineStream(() => undefined), { rows: terminal.rows, columns: terminal.columns });
      try {
        await runSession({
          cwd: workspace,
          env,
          flags: { ...(backend === 'auto' ? {} : { backend }), ...(env.PAUDE_BASE_IMAGE ? { baseImage: env.PAUDE_BASE_IMAGE } : {}) },
          command: what === 'shell' ? { kind: 'shell', command: [] } : { kind: 'claude', args: [] },
          rebuild: false,
          stdio: { stdin: new PassThrough(), stdout, stderr },
          detach: true,
          onStarted: (s) => (id = s.id),
        });
      } catch (error) {
        throw new Error((error as Error).message.replace(/^paude: /, ''));
      }
      if (!id) throw new Error(last ?? 'the session did not start');
      return id;
    },
  };
}
