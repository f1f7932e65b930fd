/**
 * The host fails paude: the engine does not answer, its socket is not this user's, the disk
 * holding paude's data is full. Each is one sentence on stderr naming the socket or file and
 * what to do, a non-zero exit, and nothing half done: no session directory, no containers, no
 * half-written record or audit line, the previous content of every file intact.
 */
import { execFileSync } from 'node:child_process';
import { chmod, chown, copyFile, link, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { expect } from 'vitest';
import { itNeeds } from '../support/requirements.js';
import { describeEngines, type EngineHandle } from '../support/engine-test.js';
import { runPaude, type CliResult } from '../support/run-cli.js';
import { testProject, type TestProject } from '../support/workspace.js';
import { AuditEventSchema } from '../../src/audit/audit-event.js';

const itRoot = itNeeds(process.getuid?.() === 0, 'root (a mount namespace, setpriv, a tmpfs of its own)');

/** A system tool by its full path: paude runs with only node on its PATH. */
function tool(name: string): string {
  const found = (process.env.PATH ?? '').split(':').concat('/usr/sbin', '/sbin', '/usr/bin', '/bin').map((d) => join(d, name)).find((p) => existsSync(p));
  if (!found) throw new Error(`${name} is not installed`);
  return found;
}
const DEFAULT_SOCKETS = ['/run/podman/podman.sock', '/var/run/docker.sock'];

/** Runs `paude ARGS` as `PREFIX... node paude.js ARGS` (unshare, setpriv), with only node on PATH. */
function run(prefix: string[], args: string[], p: TestProject, nodePath = process.execPath): Promise<CliResult> {
  // No podman on PATH: paude would otherwise start a Podman service of this user's own.
  return runPaude(args, { cwd: p.ws, env: { ...p.env, PATH: join(nodePath, '..') }, prefix, node: nodePath });
}

async function leftovers(engine: EngineHandle, p: TestProject): Promise<string[]> {
  const filters = JSON.stringify({ label: [`paude.workspace=${p.ws}`] });
  const [containers, volumes] = await Promise.all([engine.docker.listContainers({ all: true, filters }), engine.docker.listVolumes({ filters })]);
  return [...containers.map((c) => `container ${c.Names[0] ?? c.Id}`), ...(volumes.Volumes ?? []).map((v) => `volume ${v.Name}`)];
}

/** paude's data directory on that disk. */
function onDisk(p: TestProject, dir: string): void {
  p.env.PAUDE_DATA_DIR = join(dir, 'data');
  Object.assign(p, { dataDir: join(dir, 'data') });
}

const sessionDirs = async (p: TestProject): Promise<string[]> => readdir(join(p.dataDir, 'sessions')).catch(() => []);

/** Every line of every audit file is a whole event. */
async function expectAuditWhole(p: TestProject): Promise<void> {
  const dir = join(p.dataDir, 'audit');
  for (const name of (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.jsonl'))) {
    const text = await readFile(join(dir, name), 'utf8');
    expect(text === '' || text.endsWith('\n'), `${name} ends in half a line`).toBe(true);
    for (const line of text.split('\n').filter(Boolean)) AuditEventSchema.parse(JSON.parse(line));
  }
}

/** A small tmpfs of the test's own (paude's data directory, or the audit log's). */
async function tinyDisk(engine: EngineHandle): Promise<{ dir: string; fill(freePages: number): Promise<void>; free(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'paude-full-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0700', 'tmpfs', dir]);
  engine.defer(async () => {
    // A keeper that is still ending may hold a file there for a moment.
    for (let i = 0; ; i++) {
      try {
        execFileSync('umount', i < 50 ? [dir] : ['-l', dir], { stdio: 'ignore' });
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    await rm(dir, { recursive: true, force: true });
  });
  const filler = join(dir, 'filler');
  const page = 4096;
  return {
    dir,
    // Leaves exactly this many pages free (tmpfs counts whole pages).
    async fill(freePages) {
      await rm(filler, { force: true });
      // As much as fits (fallocate fails when asked for more, having allocated nothing).
      execFileSync('sh', ['-c', 'dd if=/dev/zero of="$1" bs=4096 2>/dev/null; true', 'sh', filler]);
      const all = (await stat(filler).catch(() => ({ size: 0 }))).size;
      await rm(filler);
      execFileSync('fallocate', ['-l', String(all - freePages * page), filler]);
    },
    free: () => rm(filler, { force: true }),
  };
}
describeEngines('host faults: engine, socket, disk', (engine) => {
  itRoot('says in one sentence that the engine does not answer, and starts nothing', async () => {
    const p = await testProject(engine);
    // The engine's socket is there but nothing answers on it (a stopped engine): in a mount
    // namespace of this command only, an empty file lies over it.
    const stale = join(p.dir, 'stale.sock');
    await writeFile(stale, '');
    const hide = [...new Set([engine.socketPath, ...DEFAULT_SOCKETS])].filter((s) => existsSync(s));
    const script = `${hide.map((s) => `${tool('mount')} --bind ${stale} ${s}`).join(' && ')} && exec "$@"`;
    const stopped = [tool('unshare'), '--mount', '--propagation', 'private', tool('sh'), '-c', script, 'sh'];
    for (const args of [['--detach', '--shell'], ['sessions'], ['gc']]) {
      const r = await run(stopped, args, p);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(5);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(new RegExp(`^paude: no ${engine.name} engine answered \\(.*${engine.socketPath.replace(/\//g, '\\/')} does not answer .*\\); start one, or run "paude doctor" for details\\n$`));
    }
    expect(await sessionDirs(p)).toEqual([]);
    expect(await leftovers(engine, p)).toEqual([]);
  });

  itRoot('says which socket this user may not use, and what to do', async () => {
    const p = await testProject(engine);
    // paude as nobody, against the real root-owned socket; its files are nobody's.
    const bin = join(p.dir, 'bin');
    await mkdir(bin);
    const node = join(bin, basename(process.execPath));
    await link(process.execPath, node).catch(() => copyFile(process.execPath, node));
    await chmod(node, 0o755);
    for (const d of [p.dir, join(p.dir, 'config'), join(p.dir, 'config', 'paude.json'), join(p.dir, 'home')]) await chown(d, 65534, 65534);
    await chmod(p.dir, 0o755);
    const nobody = [tool('setpriv'), '--reuid=65534', '--regid=65534', '--clear-groups', '--'];
    const r = await run(nobody, ['--detach', '--shell'], p, node);
    expect(r.code, r.stderr).toBe(5);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `paude: paude may not use ${engine.socketPath} (permission denied for this user); run paude as a user allowed to use that socket (for Docker, a member of the group that owns it), or use an engine of your own (rootless Podman), then see "paude doctor"\n`,
    );
    expect(await sessionDirs(p)).toEqual([]);
    expect(await leftovers(engine, p)).toEqual([]);
  });

  itRoot('fails a start on a full disk at every write with one sentence naming the file, leaving nothing behind', async () => {
    const p = await testProject(engine);
    const disk = await tinyDisk(engine);
    onDisk(p, disk.dir);
    const named = new Set<string>();
    let started = false;
    // From no free page up, until the start has room: each run stops at a later write.
    for (let pages = 0; pages <= 16 && !started; pages++) {
      await disk.fill(pages);
      const r = await run([], ['--detach', '--shell'], p);
      if (r.code === 0) {
        started = true;
        await disk.free();
        expect((await run([], ['stop', '--rm', r.stdout.trim()], p)).code).toBe(0);
      } else {
        expect(r.code, r.stderr).toBe(1);
        const m = /^paude: could not write (\S+) \(no space left on its disk\); free some space there and try again\n$/.exec(r.stderr);
        expect(m, `with ${pages} pages free: ${r.stderr}`).not.toBeNull();
        const file = m?.[1] ?? '';
        expect(file.startsWith(p.dataDir)).toBe(true);
        named.add(file.slice(p.dataDir.length).replace(/paude-[a-z0-9]+/, 'ID'));
        expect(await sessionDirs(p)).toEqual([]);
        expect(await leftovers(engine, p)).toEqual([]);
      }
      await expectAuditWhole(p);
    }
    expect(started).toBe(true);
    // The session record was among the writes that failed, and the proxy's state (its rules and
    // squid.conf are written side by side: whichever finds the disk full first is the one named).
    // Which of the later ones fail depends on when squid writes its own log to the same disk.
    expect([...named]).toEqual(expect.arrayContaining(['/sessions/ID/starter.pid', '/sessions/ID/session.json']));
    expect([...named].filter((f) => f === '/sessions/ID/proxy/squid.conf' || f === '/sessions/ID/proxy/policy/rules').length).toBeGreaterThan(0);
    process.stderr.write(`[${engine.name}] full disk at: ${[...named].join(', ')}\n`);
  });

  itRoot('fails a start whose audit log cannot be written, leaving no session and no half line', async () => {
    const disk = await tinyDisk(engine);
    const p = await testProject(engine, { config: { audit: { sinks: [{ type: 'file', path: disk.dir }] } } });
    // An earlier session's story is there, and must stay whole.
    const earlier = await run([], ['--shell', '--', 'true'], p);
    expect(earlier.code, earlier.stderr).toBe(0);
    const before = await readdir(disk.dir).then((names) => Promise.all(names.filter((n) => n.endsWith('.jsonl')).map((n) => readFile(join(disk.dir, n), 'utf8'))));
    await disk.fill(0);
    const r = await run([], ['--detach', '--shell'], p);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^paude: could not write ${disk.dir}/paude-[a-z0-9]+\\.jsonl \\(no space left on its disk\\); free some space there and try again\n$`));
    expect(await sessionDirs(p)).toEqual([]);
    expect(await leftovers(engine, p)).toEqual([]);
    const after = await readdir(disk.dir).then((names) => Promise.all(names.filter((n) => n.endsWith('.jsonl')).map((n) => readFile(join(disk.dir, n), 'utf8'))));
    expect(after.filter(Boolean)).toEqual(before);
  });

  itRoot('keeps every file as it was when a change cannot be written to a full disk', async () => {
    const p = await testProject(engine);
    const disk = await tinyDisk(engine);
    onDisk(p, disk.dir);
    const start = await run([], ['--detach', '--shell'], p);
    expect(start.code, start.stderr).toBe(0);
    const id = start.stdout.trim();
    const files = async (): Promise<Record<string, string>> => {
      const out: Record<string, string> = {};
      const walk = async (dir: string): Promise<void> => {
        for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
          const path = join(dir, e.name);
          if (e.isDirectory()) await walk(path);
          // Logs and the keeper's own bookkeeping go on by themselves.
          else if (e.isFile() && !/\.log$|files\.json|\.pid$|telemetry\.json/.test(e.name)) out[path.slice(p.dataDir.length)] = await readFile(path, 'utf8');
        }
      };
      await walk(p.dataDir);
      return out;
    };
    const before = await files();
    expect(Object.keys(before)).toEqual(expect.arrayContaining([`/sessions/${id}/session.json`, `/sessions/${id}/proxy/policy/rules`, `/audit/${id}.jsonl`]));
    await disk.fill(0);
    for (const args of [['allow', 'extra.test', '--session', id], ['deny', 'other.test', '--session', id], ['stop', id]]) {
      const r = await run([], args, p);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(1);
      expect(r.stderr).toMatch(/^paude: could not write \S+ \(no space left on its disk\); free some space there and try again\n$/);
    }
    expect(await files()).toEqual(before);
    await expectAuditWhole(p);
    // Nothing was stopped half way: the session runs, and with room again everything works.
    await disk.free();
    const listed = await run([], ['sessions', '--json'], p);
    expect((JSON.parse(listed.stdout) as Array<{ id: string; status: string }>).find((s) => s.id === id)?.status).toBe('detached');
    expect((await run([], ['allow', 'extra.test', '--session', id], p)).code).toBe(0);
    expect(await readFile(join(p.dataDir, 'sessions', id, 'proxy', 'policy', 'rules'), 'utf8')).toContain('extra.test');
    expect((await run([], ['stop', '--rm', id], p)).code).toBe(0);
    expect(await leftovers(engine, p)).toEqual([]);
    await expectAuditWhole(p);
  });
});
