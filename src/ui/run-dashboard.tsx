/**
 * `paude ui`: the dashboard in the alternate screen until q. Attaching hands the terminal to the
 * session: the dashboard is unmounted (so nothing of it writes to the terminal), its watchers
 * stop (hand-over.ts), the session gets raw keys until its detach key; then the dashboard comes
 * back, drawn at the terminal's current size, with the store (selection, feed) as it was.
 */
import { render } from 'ink';
import type { ResolvedConfig } from '../config/load-config.js';
import { App } from './app.js';
import { attachFromDashboard } from './hand-over.js';
import { startController } from './controller.js';
import { keyTable } from './keys.js';
import { liveServices } from './live-services.js';
import { createDashboardStore } from './store.js';
import { theme } from './theme.js';

export interface DashboardOptions {
  resolved: ResolvedConfig;
  env: NodeJS.ProcessEnv;
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  /** Select this session at start (the demo's). */
  select?: string;
}

export async function runDashboard(o: DashboardOptions): Promise<number> {
  const keys = keyTable(o.resolved.config.ui?.keys ?? {}, o.resolved.paths.globalConfigFile);
  const store = createDashboardStore();
  if (o.select) store.getState().select(o.select);
  const services = liveServices(o.resolved, o.env, { stdin: o.stdin, stdout: o.stdout, stderr: o.stderr });
  const controller = startController(store, services);
  const paint = theme(o.resolved.config.ui?.theme, o.env);
  o.stdout.write('\x1b[?1049h\x1b[H\x1b[2J');
  try {
    for (;;) {
      let attachTo: string | undefined;
      const app = render(
        <App
          store={store}
          services={services}
          keys={keys}
          paint={paint}
          refreshPolicy={() => controller.refreshPolicy()}
          onAttach={(id) => {
            attachTo = id;
            app.unmount();
          }}
          onQuit={() => app.unmount()}
        />,
        { stdin: o.stdin, stdout: o.stdout, stderr: o.stderr, exitOnCtrlC: false, patchConsole: false },
      );
      await app.waitUntilExit();
      if (!attachTo) break;
      o.stdout.write('\x1b[H\x1b[2J');
      await attachFromDashboard(attachTo, { controller, services, store, detachKey: o.resolved.config.sessions.detachKeys });
      o.stdout.write('\x1b[?1049h\x1b[H\x1b[2J');
    }
  } finally {
    await controller.stop();
    o.stdout.write('\x1b[?1049l');
  }
  return 0;
}
