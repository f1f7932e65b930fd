/** The agent image recipe: assets/agent, the Claude Code package, and extra CA certificates. */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { ConfigError } from '../errors.js';
import type { ClaudeCodePackage } from './claude-code-package.js';
import type { ImageRecipe } from './image-recipe.js';
import { DEFAULT_BASE_IMAGE } from './proxy-recipe.js';

const ASSETS = new URL('../../assets/agent/', import.meta.url);
const PEM = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

export interface CaCertificate {
  /** Where it came from, for messages. */
  source: string;
  pem: string;
}

/** Reads PEM files; a file without a certificate is an error naming it. */
export async function readCaCertificates(paths: readonly string[]): Promise<CaCertificate[]> {
  const out: CaCertificate[] = [];
  for (const path of paths) {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      throw new ConfigError(`certificates.extra: ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}); fix the path`, path);
    }
    const pems = text.match(PEM);
    if (!pems) throw new ConfigError(`certificates.extra: ${path} holds no PEM certificate (expected "-----BEGIN CERTIFICATE-----")`, path);
    for (const pem of pems) out.push({ source: path, pem: `${pem}\n` });
  }
  return out;
}

export async function agentRecipe(options: { baseImage?: string; claude: ClaudeCodePackage; certificates: readonly CaCertificate[] }): Promise<ImageRecipe> {
  const names = ['paude-agent-init', 'paude-tmux-session', 'paude-tmux-run', 'paude-tmux-attach', 'paude-hook', 'tmux.conf'];
  const [containerfile, ...scripts] = await Promise.all([readFile(new URL('Containerfile', ASSETS), 'utf8'), ...names.map((n) => readFile(new URL(n, ASSETS)))]);
  const files: Record<string, string | Buffer> = { 'certs/.keep': '' };
  names.forEach((n, i) => (files[n] = scripts[i] ?? ''));
  options.certificates.forEach((c, i) => (files[`certs/paude-${i}-${basename(c.source).replace(/\.(crt|pem|cer)$/i, '').replace(/[^A-Za-z0-9_.-]/g, '_')}.crt`] = c.pem));
  const { tarball, version, integrity, platform } = options.claude;
  return {
    repository: 'localhost/paude-agent',
    containerfile,
    files,
    buildArgs: { BASE_IMAGE: options.baseImage ?? DEFAULT_BASE_IMAGE },
    labels: { 'paude.image': 'agent', 'paude.claude.version': version },
    largeFiles: { key: `${platform}@${version}#${integrity}`, load: async () => ({ 'claude-code.tgz': await readFile(tarball) }) },
  };
}
