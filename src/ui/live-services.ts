/**
 * The dashboard's services over paude's core (live/, one module per concern): the session list
 * with stop and remove, the network feed, held requests, the allowlist, the terminal (preview,
 * attach, a message on its screen) and new sessions. Nothing here renders.
 */
import type { ResolvedConfig } from '../config/load-config.js';
import { liveApprovals } from './live/approvals.js';
import { createLiveContext } from './live/context.js';
import { liveFeed } from './live/feed.js';
import { liveNewSession } from './live/new-session.js';
import { livePolicy } from './live/policy.js';
import { liveSessions } from './live/sessions.js';
import { liveTerminal } from './live/terminal.js';
import type { DashboardServices } from './services.js';

export function liveServices(resolved: ResolvedConfig, env: NodeJS.ProcessEnv, stdio: { stdin: NodeJS.ReadStream; stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream }, cwd = process.cwd()): DashboardServices {
  const ctx = createLiveContext(resolved, env);
  return {
    cwd,
    ...liveSessions(ctx),
    ...liveFeed(ctx),
    ...liveApprovals(ctx),
    ...livePolicy(ctx),
    ...liveTerminal(ctx, stdio),
    ...liveNewSession(env, stdio.stdout),
  };
}
