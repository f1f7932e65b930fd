/**
 * Fault points: a test hook that kills paude outright (SIGKILL, as `kill -9` or a power cut
 * would) at a named step of starting, attaching, detaching, stopping or removing a session, so
 * that test/integration/faults.test.ts can check that whatever is left is listed truthfully,
 * collected by `paude gc` and usable again. Armed only by PAUDE_FAULT_POINT=<name>; otherwise
 * each point is one string comparison. Not a user feature: names may change with the code.
 *
 * The same points are the steps of a profile: PAUDE_TRACE=1 prints each one as it is passed,
 * with the time since the process began (module loading included), as do the few other steps
 * marked with `traceStep` (docs/DEVELOPING.md, "Where the time goes").
 */

/** Every point, in the order a session meets them. The fault test runs each one. */
export const FAULT_POINTS = [
  // paude [--detach] (app/start-session.ts, backends/local/local-sandbox.ts)
  'start.dir-created',
  'start.owner-claimed',
  'start.state-written',
  'start.link-created',
  'start.volumes-created',
  'start.containers-created',
  'start.proxy-started',
  'start.record-written',
  'start.audit-recorded',
  'start.config-copied',
  'start.agent-started',
  'start.secrets-written',
  // handing a session over to its keeper (the detach key, or --detach)
  'detach.keeper-started',
  'detach.handed-over',
  // paude attach (cli/commands/lifecycle.ts, sessions/attach.ts)
  'attach.keeper-ensured',
  'attach.lease-claimed',
  'attach.terminal-opened',
  'attach.detached',
  // paude stop (backends/local/local-backend.ts, cli/commands/lifecycle.ts)
  'stop.agent-stopped',
  'stop.proxy-stopped',
  'stop.settled',
  // paude rm / stop --rm / gc (sessions/session-service.ts, backends/local/local-sandbox.ts)
  'rm.settled',
  'rm.containers-removed',
  'rm.engine-cleared',
  'gc.settled',
  // the keeper of a detached session (sessions/keeper.ts)
  'keeper.claimed',
  // the proxy supervisor (sessions/proxy-supervisor.ts), in the keeper or an attached paude
  'proxy.restarting',
] as const;

export type FaultPoint = (typeof FAULT_POINTS)[number];

export const FAULT_ENV = 'PAUDE_FAULT_POINT';

const TRACING = process.env.PAUDE_TRACE === '1';

/** With PAUDE_TRACE=1, says on stderr that this step was reached, and when (ms since the process began). */
export function traceStep(name: string): void {
  if (TRACING) process.stderr.write(`paude: trace ${performance.now().toFixed(0).padStart(5)} ms ${name}\n`);
}

/** Kills this process with SIGKILL when PAUDE_FAULT_POINT names this point. */
export function faultPoint(name: FaultPoint): void {
  traceStep(name);
  if (process.env[FAULT_ENV] === name) process.kill(process.pid, 'SIGKILL');
}

