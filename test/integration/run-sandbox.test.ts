/**
 * The real `paude` binary running real sessions: exit codes, a real PTY, the workspace and its
 * protected paths, hardening, secrets, and the real Claude Code against a stub Messages API.
 */
import { createHash } from 'node:crypto';
import { chown, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { gatewayOf } from '../support/workspace.js';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { describeEngines, type EngineHandle } from '../support/engine-test.js';
import { runPaude } from '../support/run-cli.js';
import { resolvePaths } from '../../src/config/paths.js';
import { runInPty } from '../support/pty.js';
import { startAnthropicStub } from '../support/anthropic-stub.js';
import { removeByWorkspace } from '../support/session-fixture.js';

async function setup(engine: EngineHandle): Promise<{ ws: string; env: NodeJS.ProcessEnv }> {
  const dir = await mkdtemp(join(tmpdir(), 'paude-run-'));
  engine.defer(() => rm(dir, { recursive: true, force: true }));
  const ws = join(dir, 'ws');
  engine.defer(() => removeByWorkspace(engine, ws));
  await mkdir(join(ws, '.git', 'hooks'), { recursive: true });
  await writeFile(join(ws, '.git', 'config'), '[core]\n\tbare = false\n');
  await mkdir(join(ws, '.vscode'));
  await writeFile(join(ws, '.vscode', 'settings.json'), '{}\n');
  await writeFile(join(ws, '.mcp.json'), '{"mcpServers":{}}\n');
  await mkdir(join(ws, '.claude'));
  await writeFile(join(ws, '.claude', 'settings.json'), '{"permissions":{}}\n');
  // Isolated by default: the session gets a directory of its own in its place.
  await mkdir(join(ws, 'node_modules'));
  await writeFile(join(ws, 'node_modules', 'host-only.js'), '\n');
  if (process.getuid?.() === 0) await chownTree(ws, 1000, 1000);
  const gateway = await gatewayOf(engine);
  const config = {
    backend: engine.name === 'podman' ? { type: 'podman', podman: { socket: `unix://${engine.socketPath}` } } : { type: 'docker', docker: { host: `unix://${engine.socketPath}` } },
    image: { agent: engine.images.agent, proxy: engine.images.proxy },
    network: { hosts: { 'stub.test': gateway } },
  };
  await mkdir(join(dir, 'config'));
  await writeFile(join(dir, 'config', 'paude.json'), JSON.stringify(config));
  const home = join(dir, 'home');
  await mkdir(home);
  return { ws, env: { PAUDE_CONFIG_DIR: join(dir, 'config'), PAUDE_DATA_DIR: join(dir, 'data'), PAUDE_CACHE_DIR: join(dir, 'cache'), HOME: home } };
}

async function chownTree(path: string, uid: number, gid: number): Promise<void> {
  const { readdir, lstat } = await import('node:fs/promises');
  await chown(path, uid, gid);
  if ((await lstat(path)).isDirectory()) for (const name of await readdir(path)) await chownTree(join(path, name), uid, gid);
}

async function retry(attempt: () => Promise<void>, times: number): Promise<void> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (error) {
      if (i >= times) throw error;
    }
  }
}

describeEngines('paude sessions, end to end', (engine) => {
  let ws: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    ({ ws, env } = await setup(engine));
  });

  it('passes the command exit code through (--shell -- sh -c "exit 7")', async () => {
    const r = await runPaude(['--shell', '--', 'sh', '-c', 'echo out; echo err >&2; exit 7'], { cwd: ws, env });
    expect(r.stdout, r.stderr).toBe('out\n');
    expect(r.stderr).toContain('err\n');
    expect(r.code, r.stderr).toBe(7);
  });

  it('starts the command only once the proxy port listens in the agent, so its first request is answered', async () => {
    // Read first thing: the kernel's listening sockets (state 0A) at the moment the command starts.
    const script = 'cat /proc/net/tcp; curl -s -o /dev/null -w "status=%{http_code}\\n" -x http://127.0.0.1:3128 http://nowhere.test/';
    // Four sessions at once: the race this guards against was lost about one start in four. (No
    // API key: the agent would wait for its secrets, which gives the listeners time anyway.)
    const runs = await Promise.all([1, 2, 3, 4].map(() => runPaude(['--shell', '--', 'sh', '-c', script], { cwd: ws, env })));
    for (const r of runs) {
      expect(r.code, r.stderr).toBe(0);
      const listening = [...r.stdout.matchAll(/^\s*\d+: 0100007F:([0-9A-F]{4}) 00000000:0000 0A /gm)].map((m) => parseInt(m[1] ?? '', 16));
      expect(listening).toContain(3128);
      expect(r.stdout).toContain('status=403');
    }
  });

  it('runs an interactive shell in a real terminal: echo, resize, exit code', async () => {
    const run = runInPty(['--shell'], { cwd: ws, env, cols: 100, rows: 30 });
    try {
      await run.waitFor(/[$#] $/m);
      run.write('echo hello-$((6*7))\r');
      await run.waitFor(/^hello-42$/m);
      run.write('tput cols\r');
      await run.waitFor(/^100$/m);
      run.resize(123, 40);
      // The new size reaches the container through an API call; ask until it has landed.
      await retry(async () => {
        run.write('clear; tput cols\r');
        await run.waitFor(/^123$/m, 500);
      }, 20);
      run.write('exit 3\r');
      expect(await run.exit).toBe(3);
    } finally {
      run.pty.kill();
    }
  });

  it("gives the agent the project's .claude and an empty node_modules of its own, both writable, and leaves the host's as they were", async () => {
    const facts = async (): Promise<unknown> => {
      const [settings, modules] = await Promise.all([stat(join(ws, '.claude', 'settings.json')), stat(join(ws, 'node_modules'))]);
      return { settings: [settings.ino, settings.mtimeMs, settings.uid], modules: [modules.ino, modules.mtimeMs], claude: await readdir(join(ws, '.claude')), moduleFiles: await readdir(join(ws, 'node_modules')) };
    };
    const before = await facts();
    const script = 'cat .claude/settings.json; echo notes > .claude/notes.md; echo claude=$?; ls -A node_modules; echo "x" > node_modules/dep.js; echo modules=$?; ls -A .claude node_modules';
    const r = await runPaude(['--shell', '--', 'sh', '-c', script], { cwd: ws, env });
    expect(r.code, r.stderr).toBe(0);
    // The project's settings reach the agent, and its copies take new files...
    expect(r.stdout).toContain('{"permissions":{}}');
    expect(r.stdout).toContain('claude=0');
    expect(r.stdout).toContain('modules=0');
    expect(r.stdout).toMatch(/^\.claude:\nnotes\.md\nsettings\.json\n\nnode_modules:\ndep\.js\n$/m);
    // ...which start as the session's own: the host's node_modules is not seen...
    expect(r.stdout).not.toContain('host-only.js');
    // ...and the host's files are the same files, untouched, with nothing added.
    expect(await facts()).toEqual(before);
  });

  it('writes the workspace, but never its protected paths on the host', async () => {
    const script = [
      'echo made > made.txt',
      'echo "eval evil" > .envrc; echo envrc=$?',
      'echo "#!/bin/sh" > .git/hooks/pre-commit 2>/dev/null; echo hook=$?',
      'echo "[alias] x = !evil" >> .git/config 2>/dev/null; echo gitconfig=$?',
      'echo "{}" > .mcp.json 2>/dev/null; echo mcp=$?',
      'echo "{}" > .vscode/settings.json 2>/dev/null; echo vscode=$?',
      'echo "{\\"hooks\\":\\"evil\\"}" > .claude/settings.json; echo claude=$?',
      'cat .claude/settings.json',
    ].join('; ');
    const r = await runPaude(['--shell', '--', 'sh', '-c', script], { cwd: ws, env });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/hook=[1-9]/);
    expect(r.stdout).toMatch(/gitconfig=[1-9]/);
    expect(r.stdout).toMatch(/mcp=[1-9]/);
    expect(r.stdout).toMatch(/vscode=[1-9]/);
    // .claude/ is an ephemeral copy: writable in the session...
    expect(r.stdout).toContain('claude=0');
    expect(r.stdout).toContain('{"hooks":"evil"}');
    // ...and none of it reaches the host.
    expect(await readFile(join(ws, 'made.txt'), 'utf8')).toBe('made\n');
    await expect(readFile(join(ws, '.git', 'hooks', 'pre-commit'))).rejects.toThrow();
    expect(await readFile(join(ws, '.git', 'config'), 'utf8')).toBe('[core]\n\tbare = false\n');
    expect(await readFile(join(ws, '.mcp.json'), 'utf8')).toBe('{"mcpServers":{}}\n');
    expect(await readFile(join(ws, '.claude', 'settings.json'), 'utf8')).toBe('{"permissions":{}}\n');
    // A protected path that did not exist is taken out of the repository and kept aside.
    expect(r.stdout).toContain('envrc=0');
    await expect(readFile(join(ws, '.envrc'))).rejects.toThrow();
    const quarantined = /moved to (\S+) /.exec(r.stderr)?.[1];
    expect(r.stderr).toContain('the session created .envrc');
    expect(await readFile(join(quarantined ?? '', '.envrc'), 'utf8')).toBe('eval evil\n');
    // And the audit log says so, before the session's end.
    const audit = await runPaude(['audit', '--json'], { cwd: ws, env });
    const events = audit.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { event: string; session_id: string; data: Record<string, unknown> });
    const moved = events.filter((e) => e.event === 'quarantine');
    expect(moved.map((e) => e.data)).toEqual([{ path: '.envrc', moved_to: join(quarantined ?? '', '.envrc') }]);
    const mine = events.filter((e) => e.session_id === moved[0]?.session_id).map((e) => e.event);
    expect(mine.indexOf('quarantine')).toBeLessThan(mine.indexOf('session.end'));
    // The session left no metadata behind (its directory is not made again by a note of what moved).
    expect(await readdir(join(env.PAUDE_DATA_DIR ?? '', 'sessions'))).toEqual([]);
  });

  it('brings .claude changes back only when asked: shown with --sync-claude-config, applied with persistProjectConfig', async () => {
    const script = 'echo "# notes" > .claude/notes.md; echo "{\\"permissions\\":{\\"allow\\":[\\"Bash\\"]}}" > .claude/settings.json';
    const shown = await runPaude(['--sync-claude-config', '--shell', '--', 'sh', '-c', script], { cwd: ws, env });
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stderr).toMatch(/^\+# notes$/m);
    expect(shown.stderr).toContain('nothing applied to .claude/ (no terminal to ask');
    expect(await readFile(join(ws, '.claude', 'settings.json'), 'utf8')).toBe('{"permissions":{}}\n');
    await expect(readFile(join(ws, '.claude', 'notes.md'))).rejects.toThrow();

    const configFile = join(env.PAUDE_CONFIG_DIR!, 'paude.json');
    const original = await readFile(configFile, 'utf8');
    await writeFile(configFile, JSON.stringify({ ...JSON.parse(original), claude: { persistProjectConfig: true } }));
    try {
      const kept = await runPaude(['--shell', '--', 'sh', '-c', 'echo "# kept" > .claude/kept.md'], { cwd: ws, env });
      expect(kept.code, kept.stderr).toBe(0);
      expect(kept.stderr).toContain('applied to .claude/: kept.md (added)');
      expect(await readFile(join(ws, '.claude', 'kept.md'), 'utf8')).toBe('# kept\n');
    } finally {
      await writeFile(configFile, original);
      await rm(join(ws, '.claude', 'kept.md'), { force: true });
    }
  });

  it('runs the agent as non-root with no capabilities, no network interface but loopback, and a read-only image', async () => {
    const script = 'id -u; grep CapEff /proc/self/status; ls /sys/class/net | tr "\\n" " "; echo; touch /usr/local/bin/x 2>/dev/null; echo rootfs=$?; touch "$HOME/x" /tmp/x; echo home=$?';
    const r = await runPaude(['--shell', '--', 'sh', '-c', script], { cwd: ws, env });
    const [uid, caps, nets, rootfs, home] = r.stdout.trim().split('\n');
    expect(Number(uid)).not.toBe(0);
    expect(caps).toMatch(/CapEff:\s+0{16}/);
    expect(nets?.trim()).toBe('lo');
    // The image is read-only; home and /tmp are the agent's.
    expect(rootfs).toMatch(/^rootfs=[1-9]/);
    expect(home).toBe('home=0');
  });

  it('keeps the API key out of the agent entirely: the proxy adds it; inspect, labels and logs never show it', async () => {
    const secret = `sk-fake-${Date.now()}-do-not-leak`;
    const script = 'cat /run/paude-secrets/anthropic-api-key; echo; env; cat "$HOME/.claude/settings.json" "$HOME/.claude.json" 2>/dev/null; sleep 4';
    const pending = runPaude(['--shell', '--', 'sh', '-c', script], { cwd: ws, env: { ...env, ANTHROPIC_API_KEY: secret } });
    let inspected = '';
    const deadline = Date.now() + 20_000;
    while (!inspected && Date.now() < deadline) {
      const found = await engine.docker.listContainers({ all: true, filters: JSON.stringify({ label: [`paude.workspace=${ws}`] }) });
      for (const c of found) {
        const container = engine.docker.getContainer(c.Id);
        // A container can go between the list and the inspect (a session ending): skip it.
        const info = await container.inspect().catch(() => undefined);
        if (!info) continue;
        inspected += JSON.stringify(info) + JSON.stringify(c.Labels);
        inspected += (await container.logs({ stdout: true, stderr: true }).catch(() => Buffer.alloc(0))).toString('latin1');
      }
      if (!inspected) await new Promise((r) => setTimeout(r, 100));
    }
    const r = await pending;
    expect(r.code, r.stderr).toBe(0);
    // The agent holds a placeholder and talks to the proxy's provider route.
    expect(r.stdout).toContain('paude-the-session-proxy-adds-the-real-key');
    expect(r.stdout).toContain('ANTHROPIC_BASE_URL=http://127.0.0.1:3129');
    expect(inspected).not.toBe('');
    expect(inspected).not.toContain(secret);
    expect(r.stdout + r.stderr).not.toContain(secret);
  });

  it('with credentials.anthropic.keyInProxy false, gives the agent the key in a tmpfs file only', async () => {
    const secret = `sk-fake-${Date.now()}-in-agent`;
    const digest = createHash('sha256').update(secret).digest('hex');
    const config = JSON.parse(await readFile(join(env.PAUDE_CONFIG_DIR ?? '', 'paude.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(join(env.PAUDE_CONFIG_DIR ?? '', 'paude.json'), JSON.stringify({ ...config, credentials: { anthropic: { keyInProxy: false } } }));
    try {
      const r = await runPaude(['--shell', '--', 'sh', '-c', 'sha256sum < /run/paude-secrets/anthropic-api-key; env'], { cwd: ws, env: { ...env, ANTHROPIC_API_KEY: secret } });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(digest);
      expect(r.stdout).not.toContain(secret);
    } finally {
      await writeFile(join(env.PAUDE_CONFIG_DIR ?? '', 'paude.json'), JSON.stringify(config));
    }
  });

  it('runs the real claude -p against a stub Messages API, the key added by the proxy', async () => {
    const stub = await startAnthropicStub('hello from the stub model');
    engine.defer(() => stub.close());
    const r = await runPaude(['-p', 'say hello'], {
      cwd: ws,
      env: { ...env, ANTHROPIC_API_KEY: 'sk-fake-for-stub', ANTHROPIC_BASE_URL: `http://stub.test:${stub.port}` },
    });
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.stdout).toContain('hello from the stub model');
    expect(r.code).toBe(0);
    const messages = stub.requests.filter((q) => q.path.startsWith('/v1/messages'));
    expect(messages.length).toBeGreaterThan(0);
    // The key reached the provider, added by the proxy (the agent only had a placeholder).
    expect(messages.every((q) => q.apiKey === 'sk-fake-for-stub')).toBe(true);
  });
});

describeEngines('devcontainer.json images', (engine) => {
  it('builds the devcontainer Dockerfile, layers Claude Code on top, and passes containerEnv', async () => {
    const { ws, env } = await setup(engine);
    const prefix = `localhost/${engine.uniqueName('img')}`;
    // This test builds the agent image itself: no prebuilt image, the run's base, its own names.
    const config = JSON.parse(await readFile(join(env.PAUDE_CONFIG_DIR!, 'paude.json'), 'utf8')) as { image: Record<string, string> };
    config.image = { base: engine.baseImage };
    await writeFile(join(env.PAUDE_CONFIG_DIR!, 'paude.json'), JSON.stringify(config));
    await writeFile(join(ws, '.devcontainer', 'Dockerfile'), `FROM ${engine.baseImage}\nRUN echo built-from-devcontainer > /etc/devcontainer-marker\n`).catch(async () => {
      await mkdir(join(ws, '.devcontainer'));
      await writeFile(join(ws, '.devcontainer', 'Dockerfile'), `FROM ${engine.baseImage}\nRUN echo built-from-devcontainer > /etc/devcontainer-marker\n`);
    });
    await writeFile(join(ws, '.devcontainer', 'devcontainer.json'), '{ "build": { "dockerfile": "Dockerfile" }, "containerEnv": { "TEAM_SETTING": "from-devcontainer" } }');
    // The Claude Code package cache is shared (it is a cache); the images are this test's own.
    const runEnv = { ...env, PAUDE_IMAGE_PREFIX: prefix, PAUDE_CACHE_DIR: resolvePaths().cacheDir };
    engine.defer(async () => {
      const images = await engine.docker.listImages();
      for (const image of images.filter((i) => (i.RepoTags ?? []).some((t) => t.startsWith(prefix)))) await engine.docker.getImage(image.Id).remove({ force: true });
    });
    expect((await runPaude(['trust', '--yes'], { cwd: ws, env: runEnv })).code).toBe(0);
    const r = await runPaude(['--shell', '--', 'sh', '-c', 'cat /etc/devcontainer-marker; echo "$TEAM_SETTING"; claude --version'], { cwd: ws, env: runEnv });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('built-from-devcontainer\nfrom-devcontainer\n');
    expect(r.stdout).toMatch(/\(Claude Code\)/);
    expect(r.stderr).toContain(`built ${prefix}-devcontainer:`);
  }, 300_000);
});
