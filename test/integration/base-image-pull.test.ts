/**
 * The first paude on an ordinary machine: the base image is not on the engine, and the engine
 * can reach a registry. A real registry (Debian's docker-registry, distribution 2.8) runs on
 * 127.0.0.1 for this suite, holds the run's base image under a unique name, and the real
 * binary must pull it through the engine's API, show the pull, and build on it; a name the
 * registry lacks fails with one sentence and exit code 5.
 *
 * Plain HTTP on 127.0.0.1: Docker allows it by default (127.0.0.0/8 is insecure). Podman needs a
 * registries.conf entry with `insecure = true`, and a running Podman service reads registries.conf
 * once (a file added later is not seen until it restarts or gets SIGHUP; measured, see
 * docs/ENGINE-FACTS.md). So on Podman this suite starts a Podman service of its own
 * (CONTAINERS_REGISTRIES_CONF pointing at a file in its temporary directory; same storage as the
 * machine's service), and touches no configuration the machine's engines read.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, expect } from 'vitest';
import { describeEngines, imageExists, isNotFound } from '../support/engine-test.js';
import { itNeeds } from '../support/requirements.js';
import { runPaude } from '../support/run-cli.js';
import { testProject } from '../support/workspace.js';

const REGISTRY_BIN = ['/usr/bin/docker-registry', '/usr/local/bin/docker-registry'].find((path) => existsSync(path));
const PODMAN_BIN = ['/usr/bin/podman', '/usr/local/bin/podman'].find((path) => existsSync(path));

describeEngines('base image pull', (engine) => {
  const it = itNeeds(REGISTRY_BIN !== undefined, "Debian's docker-registry package (.ci/provision-engines.sh installs it)");
  let dir = '';
  let port = 0;
  /** The engine paude talks to here: the suite's engine, or on Podman the suite's own service (same storage). */
  let socketPath = engine.socketPath;
  let docker: Docker = engine.docker;
  const children: ChildProcess[] = [];
  /** Tags this suite created on the engine, removed by tag in afterAll. */
  const tags = new Set<string>();
  let pushed = '';

  beforeAll(async () => {
    if (REGISTRY_BIN === undefined) return;
    dir = await mkdtemp(join(tmpdir(), 'paude-registry-'));
    port = await freePort();
    await writeFile(
      join(dir, 'registry.yml'),
      ['version: 0.1', 'log:', '  level: error', 'storage:', '  filesystem:', `    rootdirectory: ${join(dir, 'data')}`, 'http:', `  addr: 127.0.0.1:${port}`, ''].join('\n'),
    );
    children.push(start(REGISTRY_BIN, ['serve', join(dir, 'registry.yml')], {}));
    await waitUntil(() => httpStatus(`http://127.0.0.1:${port}/v2/`).then((status) => status === 200), 'the registry to answer');

    if (engine.name === 'podman') {
      if (PODMAN_BIN === undefined) throw new Error('podman is not installed');
      await writeFile(join(dir, 'registries.conf'), `[[registry]]\nlocation = "127.0.0.1:${port}"\ninsecure = true\n`);
      socketPath = join(dir, 'podman.sock');
      children.push(start(PODMAN_BIN, ['system', 'service', '--time=0', `unix://${socketPath}`], { CONTAINERS_REGISTRIES_CONF: join(dir, 'registries.conf') }));
      docker = new Docker({ socketPath });
      await waitUntil(() => docker.ping().then(() => true, () => false), 'the suite’s Podman service to answer');
      // It must see what the machine's service has (same user, same storage).
      await docker.getImage(engine.images.agent).inspect();
    }

    // The run's base image goes to the registry under a unique name that the engine then lacks.
    const repo = `127.0.0.1:${port}/${engine.uniqueName('base')}`;
    pushed = `${repo}:1`;
    tags.add(pushed);
    await docker.getImage(engine.baseImage).tag({ repo, tag: '1' });
    await follow(await docker.getImage(pushed).push({ authconfig: {} }));
    await docker.getImage(pushed).remove();
    expect(await present(pushed)).toBe(false);
  });

  // Runs before describeEngines' own cleanups (hooks run last-registered first), so images are
  // removed through the suite's engine, which shares the storage, not the service stopped here.
  afterAll(async () => {
    for (const tag of tags) {
      await engine.docker
        .getImage(tag)
        .remove()
        .catch((error: unknown) => {
          if (!isNotFound(error)) throw error;
        });
    }
    for (const child of children.reverse()) await stop(child);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const present = (name: string): Promise<boolean> => imageExists(docker, name);

  /** `paude --shell -- true` with image.base set, the agent image prebuilt, the proxy image built here from the base. */
  async function paudeWithBase(base: string): Promise<{ code: number | null; stderr: string }> {
    const backend = engine.name === 'podman' ? { type: 'podman', podman: { socket: `unix://${socketPath}` } } : { type: 'docker', docker: { host: `unix://${socketPath}` } };
    const project = await testProject(engine, { config: { backend, image: { agent: engine.images.agent, base } } });
    const prefix = `localhost/${engine.uniqueName('pull')}`;
    engine.defer(() => removeTagsStartingWith(engine.docker, `${prefix}-`));
    const started = Date.now();
    const result = await runPaude(['--shell', '--', 'true'], { cwd: project.ws, env: { ...project.env, PAUDE_IMAGE_PREFIX: prefix } });
    process.stderr.write(`base image pull [${engine.name}]: paude --shell -- true with image.base=${base}: exit ${String(result.code)} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    return result;
  }

  it('pulls a missing base from the registry with progress on stderr, builds on it and runs; a name the registry lacks fails in one sentence with exit code 5', async () => {
    const missing = `127.0.0.1:${port}/${engine.uniqueName('absent')}:1`;
    tags.add(missing);
    const failed = await paudeWithBase(missing);
    expect(failed.code, failed.stderr).toBe(5);
    const engineName = engine.name === 'podman' ? 'Podman' : 'Docker';
    const sentence = `Pulling the base image ${missing} on ${engineName} `;
    const lines = failed.stderr.split('\n').filter((line) => line.includes(sentence));
    expect(lines, failed.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/failed: the registry has no such image; set image\.base in your global paude\.json \(or PAUDE_BASE_IMAGE\) to an image that engine has or can pull\.$/);
    expect(failed.stderr).not.toMatch(/HTTP code|^\s+at /m);
    expect(await present(missing)).toBe(false);

    // The positive control: the same command with the name the registry has.
    expect(await present(pushed)).toBe(false);
    const ok = await paudeWithBase(pushed);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toContain(`pulling ${pushed} for the proxy image`);
    expect(ok.stderr).toContain(`pulled ${pushed}`);
    expect(ok.stderr).toMatch(/built localhost\/paude-test-pull-[0-9a-f]+-proxy:[0-9a-f]{16}/);
    expect(await present(pushed)).toBe(true);
  }, 300_000);
});

function start(command: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (data: Buffer) => {
    stderr = (stderr + data.toString()).slice(-2000);
  });
  child.on('exit', (code, signal) => {
    if (!child.killed) process.stderr.write(`${command} ended early (${String(code ?? signal)}): ${stderr}\n`);
  });
  return child;
}

/** Ends a process this suite started, by its pid, and waits for it to be gone. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  await gone;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function httpStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const request = get(url, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('error', () => resolve(0));
  });
}

/** Polls until `check` is true; gives up after 300 tries (a readiness wait, not a timing assertion). */
async function waitUntil(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** Reads a push stream to its end; an error object in it is a failure. */
async function follow(stream: NodeJS.ReadableStream): Promise<void> {
  let text = '';
  for await (const chunk of stream as AsyncIterable<Buffer>) text += chunk.toString();
  const error = /"error"\s*:\s*"([^"]*)"/.exec(text);
  if (error) throw new Error(`push failed: ${error[1] ?? ''}`);
}

async function removeTagsStartingWith(docker: Docker, prefix: string): Promise<void> {
  for (const image of await docker.listImages()) {
    for (const tag of (image.RepoTags ?? []).filter((t) => t.startsWith(prefix))) {
      await docker
        .getImage(tag)
        .remove()
        .catch((error: unknown) => {
          if (!isNotFound(error)) throw error;
        });
    }
  }
}
