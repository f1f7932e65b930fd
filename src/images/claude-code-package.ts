/**
 * Gets the Claude Code native binary package for the engine's platform through the host's npm,
 * so the user's registry, proxy and certificate settings apply (and no TLS setup is needed
 * inside the image build). Tarballs are cached by version; "latest" is resolved at most once a
 * day and the last known version is used when the registry cannot be reached.
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import { ExitCode, PaudeError } from '../errors.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { quote } from '../errors.js';

const run = promisify(execFile);
const PACKAGE = '@anthropic-ai/claude-code';
const DAY_MS = 24 * 3600 * 1000;
const VERSION = /^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$/;

export interface ClaudeCodePackage {
  version: string;
  /** linux-x64, linux-arm64 */
  platform: string;
  /** Registry integrity of the platform tarball: with the version, the cache key. */
  integrity: string;
  tarball: string;
}

export function platformFor(engineArch: string): string {
  switch (engineArch) {
    case 'amd64':
    case 'x86_64':
      return 'linux-x64';
    case 'arm64':
    case 'aarch64':
      return 'linux-arm64';
    default:
      throw new PaudeError(`Claude Code has no Linux build for the engine's architecture "${engineArch}"`, ExitCode.engine);
  }
}

const LatestSchema = z.object({ version: z.string().regex(VERSION), checkedAt: z.number() });
const MetaSchema = z.object({ version: z.string().regex(VERSION), integrity: z.string().min(10) });

export async function resolveClaudeCode(cacheDir: string, wanted: string | undefined, platform: string, now = Date.now()): Promise<ClaudeCodePackage> {
  const dir = join(cacheDir, 'claude-code');
  await mkdir(dir, { recursive: true });
  const version = wanted && wanted !== 'latest' ? checkVersion(wanted) : await latestVersion(dir, now);
  const name = `${PACKAGE}-${platform}`;
  const base = join(dir, `${platform}-${version}`);
  const metaFile = `${base}.json`;
  const tarball = `${base}.tgz`;
  const cached = await readFile(metaFile, 'utf8').then((t) => MetaSchema.safeParse(JSON.parse(t)), () => undefined);
  if (cached?.success && (await stat(tarball).then((s) => s.size > 0, () => false))) {
    return { version, platform, integrity: cached.data.integrity, tarball };
  }
  const tmp = join(dir, `tmp-${process.pid}-${Date.now()}`);
  await mkdir(tmp, { recursive: true });
  try {
    const { stdout } = await npm(['pack', '--json', '--pack-destination', tmp, `${name}@${version}`]);
    const packed = z.array(z.object({ filename: z.string(), integrity: z.string() })).parse(JSON.parse(stdout));
    const file = (await readdir(tmp)).find((f) => f.endsWith('.tgz'));
    const entry = packed[0];
    if (!file || !entry) throw new PaudeError(`npm pack ${name}@${version} produced no tarball`, ExitCode.engine);
    await rename(join(tmp, file), tarball);
    await writeFileAtomic(metaFile, JSON.stringify({ version, integrity: entry.integrity }) + '\n', 0o644);
    return { version, platform, integrity: entry.integrity, tarball };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

function checkVersion(v: string): string {
  if (!VERSION.test(v)) throw new PaudeError(`image.claudeVersion ${quote(v)} is not a version such as 2.1.0 (or "latest")`, ExitCode.config);
  return v;
}

async function latestVersion(dir: string, now: number): Promise<string> {
  const file = join(dir, 'latest.json');
  const known = await readFile(file, 'utf8').then((t) => LatestSchema.safeParse(JSON.parse(t)), () => undefined);
  if (known?.success && now - known.data.checkedAt < DAY_MS) return known.data.version;
  try {
    // Asked again once after a moment: a registry that dropped one request is not a reason to fail.
    const { stdout } = await npm(['view', PACKAGE, 'version']).catch(async () => {
      await new Promise((r) => setTimeout(r, 2000));
      return npm(['view', PACKAGE, 'version']);
    });
    const version = checkVersion(stdout.trim());
    await writeFileAtomic(file, JSON.stringify({ version, checkedAt: now }) + '\n', 0o644);
    return version;
  } catch (error) {
    if (known?.success) return known.data.version;
    // npm's own last word says why (a registry that does not answer, a 404, an auth error).
    const said = ((error as { stderr?: string }).stderr ?? '').trim().split('\n').filter(Boolean).pop();
    throw new PaudeError(
      `could not find the latest Claude Code version with npm (${(error as Error).message.split('\n')[0]}${said ? `: ${said}` : ''}); check npm's registry settings or set image.claudeVersion`,
      ExitCode.engine,
    );
  }
}

async function npm(args: string[]): Promise<{ stdout: string }> {
  return run('npm', args, { maxBuffer: 16 * 1024 * 1024, env: { ...process.env, npm_config_loglevel: 'error', npm_config_update_notifier: 'false' } });
}
