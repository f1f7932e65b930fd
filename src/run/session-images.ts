/** The proxy and agent images a session runs: configured ones as they are, else built and cached. */
import type { EffectiveConfig } from '../config/defaults.js';
import type { PaudePaths } from '../config/paths.js';
import type { Engine } from '../backends/engine/engine.js';
import { agentRecipe, readCaCertificates } from '../images/agent-recipe.js';
import { platformFor, resolveClaudeCode } from '../images/claude-code-package.js';
import { ensureImage } from '../images/image-builder.js';
import { createProgressPrinter, type ProgressOutput } from '../images/progress-printer.js';
import { proxyRecipe } from '../images/proxy-recipe.js';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

const HOST_CA_DIR = '/usr/local/share/ca-certificates';

export interface SessionImages {
  agent: string;
  proxy: string;
}

export async function sessionImages(engine: Engine, config: EffectiveConfig, paths: PaudePaths, options: { rebuild: boolean; out: ProgressOutput }): Promise<SessionImages> {
  const base = config.image.base;
  const proxy = config.image.proxy
    ? Promise.resolve(config.image.proxy)
    : proxyRecipe(base).then((recipe) => build(engine, recipe, options, 'proxy'));
  const agent = config.image.agent ? Promise.resolve(config.image.agent) : buildAgent(engine, config, paths, options);
  const [a, p] = await Promise.all([agent, proxy]);
  return { agent: a, proxy: p };
}

async function buildAgent(engine: Engine, config: EffectiveConfig, paths: PaudePaths, options: { rebuild: boolean; out: ProgressOutput }): Promise<string> {
  const arch = ((await engine.docker.info()) as { Architecture?: string }).Architecture ?? 'x86_64';
  const claude = await resolveClaudeCode(paths.cacheDir, config.image.claudeVersion, platformFor(arch));
  const certFiles = [...config.certificates.extra];
  if (config.certificates.inheritHost) {
    const names = await readdir(HOST_CA_DIR).catch(() => [] as string[]);
    certFiles.push(...names.filter((n) => n.endsWith('.crt')).map((n) => join(HOST_CA_DIR, n)));
  }
  const recipe = await agentRecipe({ baseImage: config.image.base, claude, certificates: await readCaCertificates(certFiles) });
  return build(engine, recipe, options, 'agent');
}

async function build(engine: Engine, recipe: Parameters<typeof ensureImage>[1], options: { rebuild: boolean; out: ProgressOutput }, what: string): Promise<string> {
  const printer = createProgressPrinter(options.out, `${what} image`);
  try {
    return (await ensureImage(engine.docker, recipe, { rebuild: options.rebuild, onProgress: (e) => printer.onProgress(e) })).ref;
  } finally {
    printer.close();
  }
}
