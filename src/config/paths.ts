/**
 * Where paude keeps things. XDG directories come from env-paths; PAUDE_CONFIG_DIR,
 * PAUDE_DATA_DIR and PAUDE_CACHE_DIR override them (tests and unusual setups use these).
 */
import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import envPaths from 'env-paths';

export interface PaudePaths {
  configDir: string;
  dataDir: string;
  cacheDir: string;
  globalConfigFile: string;
  trustFile: string;
  sessionsDir: string;
  /** Heartbeats of the processes watching every session's held requests (app/held-requests.ts). */
  watchersDir: string;
}

export function resolvePaths(env: NodeJS.ProcessEnv = process.env): PaudePaths {
  const xdg = envPaths('paude', { suffix: '' });
  const configDir = env.PAUDE_CONFIG_DIR ?? xdg.config;
  const dataDir = env.PAUDE_DATA_DIR ?? xdg.data;
  const cacheDir = env.PAUDE_CACHE_DIR ?? xdg.cache;
  return {
    configDir,
    dataDir,
    cacheDir,
    globalConfigFile: join(configDir, 'paude.json'),
    trustFile: join(dataDir, 'trust.json'),
    sessionsDir: join(dataDir, 'sessions'),
    watchersDir: watchersDirOf(dataDir),
  };
}

/** DATA/watchers: heartbeats of the processes that watch every session's held requests. */
export function watchersDirOf(dataDir: string): string {
  return join(dataDir, 'watchers');
}

export interface ProjectFiles {
  root: string;
  paudeJson: string;
  devcontainerJson: string;
}

/** The project is the enclosing git work tree, or the directory itself outside git. */
export function findProject(cwd: string): ProjectFiles {
  const start = resolve(cwd);
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, '.git'))) break;
    const parent = dirname(dir);
    if (parent === dir) {
      dir = start;
      break;
    }
    dir = parent;
  }
  return {
    root: dir,
    paudeJson: join(dir, 'paude.json'),
    devcontainerJson: join(dir, '.devcontainer', 'devcontainer.json'),
  };
}

/** A path as users like to read it: relative to `base` when inside it, with ~ for home. */
export function displayPath(path: string, base: string, home = homedir()): string {
  const rel = relative(base, path);
  if (rel && !rel.startsWith('..') && !rel.startsWith(sep)) return rel;
  if (home && (path === home || path.startsWith(home + sep))) return '~' + path.slice(home.length);
  return path;
}

export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
