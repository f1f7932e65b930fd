/**
 * Starting a session from the dashboard: the same `paude --detach` a user would type, in that
 * workspace (its configuration, its trust rules), as a child process; its output is kept for the
 * error message.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { DashboardServices } from '../services.js';

export function liveNewSession(env: NodeJS.ProcessEnv): Pick<DashboardServices, 'newSession'> {
  return {
    newSession(workspace, what, backend) {
      const bin = fileURLToPath(new URL('../../../bin/paude.js', import.meta.url));
      const args = [bin, '--detach', ...(what === 'shell' ? ['--shell'] : []), ...(backend === 'auto' ? [] : ['--backend', backend])];
      return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, args, { cwd: workspace, env, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        child.on('error', reject);
        child.on('close', (code) => {
          const id = out.trim();
          if (code === 0 && id) resolve(id);
          else reject(new Error(err.trim().split('\n').filter((l) => !l.startsWith('building') && !l.startsWith('built')).pop()?.replace(/^paude: /, '') ?? `paude --detach exited ${code}`));
        });
      });
    },
  };
}
