/** The proxy and agent images a session runs: configured ones as they are, else built and cached. */
import type { EffectiveConfig } from '../../config/defaults.js';
import type { PaudePaths } from '../../config/paths.js';
import type { Engine } from '../engine/engine.js';
import { agentRecipe, readCaCertificates } from '../../images/agent-recipe.js';
import { platformFor, resolveClaudeCode } from '../../images/claude-code-package.js';
import { ensureImage } from '../../images/image-builder.js';
import { createProgressPrinter, type ProgressOutput } from '../../images/progress-printer.js';
import { proxyRecipe } from '../../images/proxy-recipe.js';
import { devcontainerBase } from '../../images/devcontainer-image.js';
import { readdir } from 'node:fs/promises';
import { traceStep } from '../../faults.js';
import { join } from 'node:path';

const HOST_CA_DIR = '/usr/local/share/ca-certificates';

export interface SessionImages {
  agent: string;
  proxy: string;
}

export async function sessionImages(
  engine: Engine,
  config: EffectiveConfig,
  paths: PaudePaths,
  options: { rebuild: boolean; out: ProgressOutput; devcontainerFile: string },
): Promise<SessionImages> {
  const base = config.image.base;
  const proxy = config.image.proxy
    ? Promise.resolve(config.image.proxy)
    : proxyRecipe(base).then((recipe) => build(engine, recipe, options, 'proxy'));
  const agent = config.image.agent ? Promise.resolve(config.image.agent) : buildAgent(engine, config, paths, options, options.devcontainerFile);
  const [a, p] = await Promise.all([agent, proxy]);
  return { agent: a, proxy: p };
}

async function buildAgent(engine: Engine, config: EffectiveConfig, paths: PaudePaths, options: { rebuild: boolean; out: ProgressOutput }, devcontainerFile: string): Promise<string> {
  const certFiles = [...config.certificates.extra];
  if (config.certificates.inheritHost) {
    const names = await readdir(HOST_CA_DIR).catch(() => [] as string[]);
    certFiles.push(...names.filter((n) => n.endsWith('.crt')).map((n) => join(HOST_CA_DIR, n)));
  }
  const printer = createProgressPrinter(options.out, 'devcontainer image');
  let base = config.image.base;
  try {
    base = (await devcontainerBase(engine.docker, config.devcontainer, devcontainerFile, { rebuild: options.rebuild, onProgress: (e) => printer.onProgress(e) })) ?? base;
  } finally {
    printer.close();
  }
  const claude = await resolveClaudeCode(paths.cacheDir, config.image.claudeVersion, platformFor(await architecture(engine, base)));
  traceStep('images.claude-code-resolved');
  const recipe = await agentRecipe({ baseImage: base, claude, certificates: await readCaCertificates(certFiles) });
  traceStep('images.agent-recipe');
  return build(engine, recipe, options, 'agent');
}

/**
 * The architecture Claude Code is fetched for: the base image's, which the agent image inherits
 * (an image inspect takes milliseconds). A base not pulled yet is the engine's own architecture,
 * from /info, which Podman takes half a second or more to answer.
 */
async function architecture(engine: Engine, base: string | undefined): Promise<string> {
  const image = base
    ? await engine.docker
        .getImage(base)
        .inspect()
        .catch(() => undefined)
    : undefined;
  if (image?.Architecture) return image.Architecture;
  return ((await engine.docker.info()) as { Architecture?: string }).Architecture ?? 'x86_64';
}

/**
 * PAUDE_IMAGE_PREFIX renames the images paude builds (`localhost/paude-agent` becomes
 * `PREFIX-agent`): for keeping several installations, or a test run, apart.
 */
export function withPrefix<T extends { repository: string }>(recipe: T, env: NodeJS.ProcessEnv = process.env): T {
  const prefix = env.PAUDE_IMAGE_PREFIX;
  if (!prefix || !/^[a-z0-9][a-z0-9._/-]*$/.test(prefix)) return recipe;
  return { ...recipe, repository: recipe.repository.replace(/^localhost\/paude/, prefix) };
}

async function build(engine: Engine, recipe: Parameters<typeof ensureImage>[1], options: { rebuild: boolean; out: ProgressOutput }, what: string): Promise<string> {
  recipe = withPrefix(recipe);
  const printer = createProgressPrinter(options.out, `${what} image`);
  try {
    return (await ensureImage(engine.docker, recipe, { rebuild: options.rebuild, onProgress: (e) => printer.onProgress(e) })).ref;
  } finally {
    printer.close();
  }
}
