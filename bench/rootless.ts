/**
 * Rootless Podman for the benchmarks: a normal user's own Podman service, and a way to run
 * commands as that user. Run as root (as CI does), the user is the one the test command sets up
 * (`paude-rootless`, .ci/provision-rootless.sh; PAUDE_BENCH_ROOTLESS_USER names another);
 * run as a normal user, it is that user. paude itself must be readable by the user: when the
 * checkout or Node is not (root's home is 0700), they are hard-linked (or copied) into a
 * temporary directory the user can read, removed at the end of the run.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { openEngine, type EngineProbe } from './engines.js';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('..', import.meta.url));

export interface RootlessUser {
  name: string;
  uid: number;
  home: string;
  /** The user's runtime directory, where its Podman socket lives. */
  runtimeDir: string;
  /** The command and arguments that run `command` as the user with exactly `env`. */
  as(command: string, args: string[], env: Record<string, string>): [string, string[]];
  /** Node and bin/paude.js as the user can run them. */
  node: string;
  paudeBin: string;
}

export type RootlessProbe = { available: true; user: RootlessUser; probe: EngineProbe & { available: true } } | { available: false; reason: string };

export async function openRootless(runId: string, log: (line: string) => void): Promise<RootlessProbe> {
  const root = process.getuid?.() === 0;
  const name = root ? (process.env.PAUDE_BENCH_ROOTLESS_USER ?? 'paude-rootless') : userInfo().username;
  const entry = await run('getent', ['passwd', name]).then((r) => r.stdout.trim().split(':'), () => undefined);
  if (!entry) return { available: false, reason: `no user ${name} (the test command sets it up: npm test, or .ci/provision-rootless.sh)` };
  const uid = Number(entry[2]);
  const home = entry[5] ?? '/';
  const runtimeDir = root ? `/run/user/${uid}` : (process.env.XDG_RUNTIME_DIR ?? `/run/user/${uid}`);
  const as: RootlessUser['as'] = (command, args, env) => {
    const pairs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
    return root ? ['runuser', ['-u', name, '--', 'env', '-i', ...pairs, command, ...args]] : ['env', ['-i', ...pairs, command, ...args]];
  };
  const socket = join(runtimeDir, 'podman', 'podman.sock');
  const probe = await openEngine('podman', runId, log, socket);
  if (!probe.available) return { available: false, reason: `rootless Podman of ${name}: ${probe.reason}` };
  const { node, paudeBin } = await readableCopy(as, (cleanup) => probe.bench.defer(cleanup));
  return { available: true, probe, user: { name, uid, home, runtimeDir, as, node, paudeBin } };
}

/** Node and paude where the user can read them: in place, or linked into a directory of their own. */
async function readableCopy(as: RootlessUser['as'], defer: (cleanup: () => Promise<unknown>) => void): Promise<{ node: string; paudeBin: string }> {
  const node = process.execPath;
  const paudeBin = join(REPO, 'bin', 'paude.js');
  const [command, args] = as('sh', ['-c', 'test -x "$1" && test -r "$2" && test -r "$3"', 'sh', node, paudeBin, join(REPO, 'node_modules', 'dockerode', 'package.json')], { PATH: '/usr/bin:/bin' });
  if (await run(command, args).then(() => true, () => false)) return { node, paudeBin };
  const dir = await mkdtemp(join(tmpdir(), 'paude-bench-rootless-'));
  defer(() => rm(dir, { recursive: true, force: true }));
  await chmod(dir, 0o755);
  const entries = (await readdir(REPO)).filter((e) => !['.git', 'bench'].includes(e));
  await linkOrCopy(entries.map((e) => join(REPO, e)), dir);
  await linkOrCopy([dirname(dirname(node))], join(dir, '.node'));
  return { node: join(dir, '.node', 'bin', 'node'), paudeBin: join(dir, 'bin', 'paude.js') };
}

/**
 * Hard links where the file system allows them (instant, no space), else a copy. One source is
 * linked as `target`; several go into it.
 */
async function linkOrCopy(sources: string[], target: string): Promise<void> {
  const dest = sources.length === 1 ? target : `${target}/`;
  await run('cp', ['-al', ...sources, dest]).catch(async () => {
    if (sources.length === 1) await rm(target, { recursive: true, force: true });
    await run('cp', ['-a', ...sources, dest]);
  });
}
