import { discoverEngines, defaultDiscoveryEnv } from '../../backends/engine/discovery.js';
import { loadConfig } from '../../config/load-config.js';
import { rootlessChecks, rootlessFacts } from '../../backends/engine/rootless-check.js';
import type { CliContext } from '../program.js';

/** Prints how paude looks for an engine and what each way found. */
export async function doctor(ctx: CliContext): Promise<number> {
  const resolved = await loadConfig({ cwd: ctx.cwd, env: ctx.env, trust: 'ignore' });
  const { backend } = resolved.config;
  ctx.stdout.write(`backend: ${backend.type}\n\nengines (in the order paude tries them):\n`);
  const results = await discoverEngines(defaultDiscoveryEnv(ctx.env, { sshConfigFile: backend.sshConfig }), backend.type, { podman: backend.podman?.socket, docker: backend.docker?.host }, { all: true, startService: false });
  let picked = false;
  for (const r of results) {
    if (r.engine) {
      ctx.stdout.write(`  ${picked ? 'ok  ' : 'USE '} ${r.strategy}: ${r.engine.flavor} ${r.engine.version} at ${r.engine.endpoint}\n`);
      picked = true;
    } else {
      ctx.stdout.write(`  --   ${r.strategy}: ${r.reason}\n`);
    }
  }
  if (!picked) {
    ctx.stdout.write('\nno engine answered: install Podman or Docker, or point backend.podman.socket / DOCKER_HOST at one\n');
    return 5;
  }
  const used = results.find((r) => r.engine)?.engine;
  if (!used) return 5;
  const facts = await rootlessFacts(used, ctx.env);
  if (!facts.engine.rootless) {
    ctx.stdout.write(`\n${used.flavor} runs as root (rootful)\n`);
    return 0;
  }
  ctx.stdout.write(`\n${used.flavor} runs rootless, as ${facts.user.name}; what that needs:\n`);
  const checks = rootlessChecks(facts);
  for (const c of checks) ctx.stdout.write(`  ${c.ok ? 'ok  ' : 'FIX '} ${c.name}: ${c.found}${c.fix ? `\n         ${c.fix}` : ''}\n`);
  return checks.every((c) => c.ok) ? 0 : 5;
}
