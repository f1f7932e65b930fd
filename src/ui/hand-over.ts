/**
 * Attaching from the dashboard, k9s's way: the controller is suspended (no listing, no feed, no
 * preview, no policy load, and no watcher of held requests: the session is in front of the user,
 * not the dashboard), the terminal is handed to the session until its detach key (or its end),
 * and then everything starts again and the outcome is said on the notice line.
 */
import type { Controller } from './controller.js';
import type { DashboardServices } from './services.js';
import type { DashboardStore } from './store.js';

export async function attachFromDashboard(session: string, deps: { controller: Controller; services: DashboardServices; store: DashboardStore }): Promise<void> {
  await deps.controller.suspend();
  try {
    const line = await deps.services.attach(session).catch((error: unknown) => `error: ${(error as Error).message}`);
    deps.store.getState().say(line);
  } finally {
    deps.controller.resume();
  }
}
