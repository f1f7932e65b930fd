/**
 * Sessions on an engine reached over SSH (the test's own sshd on 127.0.0.1 stands for the
 * remote host): nothing is mounted from this host, the workspace is copied in and synced back
 * (protected paths never), the proxy's state is bridged (denials seen here, allowlist changes
 * applied there), and an unknown host key is refused.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEngines, type EngineHandle } from '../support/engine-test.js';
import { execIn } from '../support/exec.js';
import { waitFor } from '../support/session-fixture.js';
import { sshdAvailable, startSshd, type Sshd } from '../support/sshd.js';
import { testProject, type TestProject } from '../support/workspace.js';

function remoteBackend(engine: EngineHandle, sshd: Sshd): Record<string, unknown> {
  const url = `ssh://enginehost${engine.socketPath}`;
  return {
    backend: engine.name === 'podman' ? { type: 'podman', podman: { socket: url }, sshConfig: sshd.configFile } : { type: 'docker', docker: { host: url }, sshConfig: sshd.configFile },
  };
}

async function remoteProject(engine: EngineHandle, sshd: Sshd): Promise<TestProject> {
  const p = await testProject(engine, { config: remoteBackend(engine, sshd) });
  await writeFile(join(p.ws, 'hello.txt'), 'hello\n');
  await mkdir(join(p.ws, 'src'));
  await writeFile(join(p.ws, 'src', 'both.txt'), 'base\n');
  if (process.getuid?.() === 0) {
    const { chown } = await import('node:fs/promises');
    for (const f of ['hello.txt', 'src', 'src/both.txt']) await chown(join(p.ws, f), 1000, 1000);
  }
  return p;
}

describeEngines('remote engines over SSH', (engine) => {
  let sshd: Sshd | undefined;
  const why = sshdAvailable();
  beforeAll(async () => {
    if (!why) sshd = await startSshd();
  });
  afterAll(async () => {
    await sshd?.stop();
  });
  const server = (): Sshd => {
    if (!sshd) throw new Error(`no sshd for this test: ${why ?? 'it did not start'}`);
    return sshd;
  };

  it('copies the workspace in, brings the session’s changes back at the end, never its protected paths', async () => {
    const p = await remoteProject(engine, server());
    // Besides .envrc, git's control files: a submodule checkout's .git file naming a repository
    // of the agent's, and a submodule repository's config.
    const git = 'mkdir -p sub .git/modules/sub && echo "gitdir: ../evil" > sub/.git && printf "[core]\\n\\tfsmonitor = evil\\n" > .git/modules/sub/config';
    const script = `cat hello.txt; echo from-remote > made.txt; echo more >> hello.txt; echo "eval evil" > .envrc; ${git}; exit 4`;
    const r = await p.paude(['--shell', '--', 'sh', '-c', script]);
    expect(r.code, r.stderr).toBe(4);
    expect(r.stdout).toContain('hello\n');
    expect(r.stderr).toMatch(/copied 2 files of .* to the remote engine/);
    expect(r.stderr).toContain('bring 2 changes from the session to ws/');
    expect(await readFile(join(p.ws, 'made.txt'), 'utf8')).toBe('from-remote\n');
    expect(await readFile(join(p.ws, 'hello.txt'), 'utf8')).toBe('hello\nmore\n');
    expect(await readdir(p.ws)).not.toContain('.envrc');
    expect(existsSync(join(p.ws, 'sub', '.git'))).toBe(false);
    expect(existsSync(join(p.ws, '.git', 'modules', 'sub', 'config'))).toBe(false);
  });

  it('syncs a detached session both ways, keeps conflicts aside, and bridges the proxy state', async () => {
    const p = await remoteProject(engine, server());
    const start = await p.paude(['--detach', '--shell']);
    expect(start.code, start.stderr).toBe(0);
    const id = start.stdout.trim();
    const inAgent = (cmd: string): Promise<string> => execIn(engine.docker, id, ['sh', '-c', cmd]).then((x) => x.stdout);

    // Changes on both sides: one each, and one file changed on both.
    await inAgent(`cd ${p.ws} && echo agent > agent.txt && echo agent-side > src/both.txt`);
    await writeFile(join(p.ws, 'host.txt'), 'host\n');
    await writeFile(join(p.ws, 'src', 'both.txt'), 'host-side\n');

    const dry = await p.paude(['sync', id, '--dry-run']);
    expect(dry.stdout).toContain('would bring 1 change');
    await expect(readFile(join(p.ws, 'agent.txt'))).rejects.toThrow();

    const pull = await p.paude(['sync', id]);
    expect(pull.code, pull.stderr).toBe(0);
    expect(pull.stdout).toContain('M agent.txt');
    expect(pull.stdout).toMatch(/1 changed on both sides, left as they are here: src\/both.txt; the session's versions are in .*sync-conflicts/);
    expect(await readFile(join(p.ws, 'agent.txt'), 'utf8')).toBe('agent\n');
    expect(await readFile(join(p.ws, 'src', 'both.txt'), 'utf8')).toBe('host-side\n');
    expect(await readFile(join(p.dataDir, 'sync-conflicts', id, 'src', 'both.txt'), 'utf8')).toBe('agent-side\n');

    const push = await p.paude(['sync', id, '--push']);
    expect(push.code, push.stderr).toBe(0);
    expect(push.stdout).toContain('M host.txt');
    expect(await inAgent(`cat ${p.ws}/host.txt`)).toBe('host\n');
    expect(await inAgent(`cat ${p.ws}/src/both.txt`)).toBe('agent-side\n');

    // The proxy runs over there; its denials show here, and an allow made here applies there.
    const denied = await inAgent('curl -s -o /dev/null -D - -x http://127.0.0.1:3128 http://nowhere.test/ | grep -i x-paude-denied || true');
    expect(denied).toMatch(/X-Paude-Denied/i);
    await waitFor(async () => {
      const b = await p.paude(['blocked', id, '--json']);
      return b.stdout.includes('nowhere.test') ? true : undefined;
    }, 20_000);
    const allow = await p.paude(['allow', 'nowhere.test', '--session', id]);
    expect(allow.code, allow.stderr).toBe(0);
    await waitFor(async () => {
      const again = await inAgent('curl -s -o /dev/null -D - -x http://127.0.0.1:3128 http://nowhere.test/ | grep -ci x-paude-denied || true');
      return again.trim() === '0' ? true : undefined;
    }, 20_000);

    // rm brings the last changes back before the session's copy goes.
    await inAgent(`echo last > ${p.ws}/last.txt`);
    const rm = await p.paude(['rm', '--force', id]);
    expect(rm.code, rm.stderr).toBe(0);
    expect(await readFile(join(p.ws, 'last.txt'), 'utf8')).toBe('last\n');
  });

  it('refuses a remote host whose key it does not know (fail closed)', async () => {
    const p = await testProject(engine, { config: { ...remoteBackend(engine, server()), backend: { ...(remoteBackend(engine, server()).backend as object), sshConfig: server().strangerConfigFile } } });
    const r = await p.paude(['--shell', '--', 'true']);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/ssh to enginehost failed: Host key verification failed/);
    const doctor = await p.paude(['doctor']);
    expect(doctor.stdout).toMatch(/Host key verification failed/);
  });
});
