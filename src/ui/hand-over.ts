/**
 * Attaching from the dashboard, k9s's way: the controller is suspended (no listing, no feed, no
 * preview, no policy load), the terminal is handed to the session until its detach key (or its
 * end), and then everything starts again and the outcome is said on the notice line. The
 * dashboard stays a watcher of held requests meanwhile, so a request in ask mode is held for the
 * user rather than refused, and each new one is announced on the attached session's own screen
 * (tmux's message line) with the key that brings the dashboard back to answer it.
 */
import type { Controller } from './controller.js';
import type { DashboardServices } from './services.js';
import type { DashboardStore } from './store.js';

export interface HandOverDeps {
  controller: Controller;
  services: DashboardServices;
  store: DashboardStore;
  /** The detach key as the user configured it (sessions.detachKeys), for the announcement. */
  detachKey: string;
}

export async function attachFromDashboard(session: string, deps: HandOverDeps): Promise<void> {
  await deps.controller.suspend();
  const told = new Set(deps.store.getState().approvals.map((h) => `${h.session}/${h.id}`));
  const unwatch = deps.store.subscribe((now) => {
    for (const h of now.approvals) {
      const key = `${h.session}/${h.id}`;
      if (told.has(key)) continue;
      told.add(key);
      void deps.services.notify(session, `paude: ${h.method} ${h.host}:${h.port} from ${h.session} is waiting for approval - ${deps.detachKey} to answer`);
    }
  });
  try {
    const line = await deps.services.attach(session).catch((error: unknown) => `error: ${(error as Error).message}`);
    deps.store.getState().say(line);
  } finally {
    unwatch();
    deps.controller.resume();
  }
}
