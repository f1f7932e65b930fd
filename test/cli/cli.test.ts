import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runPaude } from '../support/run-cli.js';

let dir: string;
let env: NodeJS.ProcessEnv;
let repo: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'paude-cli-'));
  env = { PAUDE_CONFIG_DIR: join(dir, 'config'), PAUDE_DATA_DIR: join(dir, 'data'), PAUDE_CACHE_DIR: join(dir, 'cache') };
  repo = join(dir, 'repo');
  await mkdir(join(repo, '.git'), { recursive: true });
  await mkdir(join(repo, 'sub', 'dir'), { recursive: true });
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(path: string, content: unknown): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
}

describe('paude CLI', () => {
  it('prints its version', async () => {
    const r = await runPaude(['--version'], { cwd: repo, env });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('lists each command with one line in --help', async () => {
    const r = await runPaude(['--help'], { cwd: repo, env });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\s+config\s+show, validate and locate configuration$/m);
    expect(r.stdout).toMatch(/^\s+trust \[options\]\s+review and approve/m);
    expect(r.stdout).toMatch(/^\s+doctor\s+show how paude finds a container engine/m);
    expect(r.stdout).toMatch(/^\s+--shell\s+run a shell/m);
  });

  it('shows help for a command with paude help COMMAND (not Claude Code with the prompt "help COMMAND")', async () => {
    const r = await runPaude(['help', 'sessions'], { cwd: repo, env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Usage: paude sessions \[options\]/m);
    const root = await runPaude(['help'], { cwd: repo, env });
    expect(root.code).toBe(0);
    expect(root.stdout).toMatch(/^Usage: paude \[options\]/m);
    expect(root.stdout).toMatch(/^\s+help \[command\]\s+show help for a command$/m);
  });

  it('rejects unknown commands and flags with exit code 2 and a suggestion', async () => {
    const cmd = await runPaude(['confgi'], { cwd: repo, env });
    expect(cmd.code).toBe(2);
    expect(cmd.stderr.trim()).toBe("paude: unknown command 'confgi' (did you mean 'config'?); to give it to Claude Code, write paude -- confgi");
    const flag = await runPaude(['config', 'show', '--jsno'], { cwd: repo, env });
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("unknown option '--jsno'");
    expect(flag.stderr).toContain('--json');
  });

  it('rejects a bad --network-allow before doing anything', async () => {
    const r = await runPaude(['config', 'show', '--network-allow', 'https://evil.example/x'], { cwd: repo, env });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      'paude: --network-allow: "https://evil.example/x" is not a domain: schemes are not allowed (expected host, *.host, .host, host:port, ip:ADDRESS or @group)',
    );
  });

  it('rejects a bad --namespace before connecting to any cluster', async () => {
    const r = await runPaude(['--backend', 'kubernetes', '--namespace', 'Team_A', '--shell', '--', 'true'], { cwd: repo, env });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      `paude: --namespace: "Team_A" is not a Kubernetes namespace name (expected lowercase letters, digits and '-', at most 63, starting and ending with a letter or digit)`,
    );
  });

  it('reports a malformed global file in one line with exit code 3', async () => {
    await write(join(env.PAUDE_CONFIG_DIR!, 'paude.json'), { network: { allowlist: ['a.com', 'b.com', 'http://x.com/a'] } });
    const r = await runPaude(['config', 'show'], { cwd: repo, env });
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/paude: .*paude\.json: network\.allowlist\[2\]: "http:\/\/x\.com\/a" is not a domain/);
  });

  it('merges global, project, devcontainer and flags with the source of every value', async () => {
    await write(join(env.PAUDE_CONFIG_DIR!, 'paude.json'), { network: { allowlist: ['registry.example.org'], mode: 'ask' }, backend: { type: 'podman' } });
    await write(join(repo, 'paude.json'), '{\n  // the team needs this one\n  "network": { "allowlist": ["files.example.org"], "mode": "restricted" },\n  "isolate": ["target"],\n}\n');
    await write(join(repo, '.devcontainer', 'devcontainer.json'), { image: 'localhost/team:1', containerEnv: { LANG: 'C.UTF-8' } });
    const sub = join(repo, 'sub', 'dir');

    const untrusted = await runPaude(['config', 'show', '--json'], { cwd: sub, env });
    expect(untrusted.code).toBe(4);
    expect(untrusted.stderr).toContain('paude trust');

    const approve = await runPaude(['trust', '--yes'], { cwd: sub, env });
    expect(approve.code).toBe(0);
    expect(approve.stdout).toContain('trusted:');

    const r = await runPaude(['config', 'show', '--json', '--network-allow', 'api.example.net'], { cwd: sub, env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { config: Record<string, never>; sources: Record<string, { kind: string; origin?: string }> };
    expect(out.config).toMatchObject({
      network: { mode: 'restricted', allowlist: ['registry.example.org', 'files.example.org', 'api.example.net'] },
      backend: { type: 'podman' },
      isolate: ['.venv', 'node_modules', 'target'],
      devcontainer: { image: 'localhost/team:1', containerEnv: { LANG: 'C.UTF-8' } },
    });
    expect(out.sources['network.allowlist[0]']).toMatchObject({ kind: 'global' });
    expect(out.sources['network.allowlist[1]']).toMatchObject({ kind: 'project', origin: '../../paude.json' });
    expect(out.sources['network.allowlist[2]']).toMatchObject({ kind: 'flag' });
    expect(out.sources['network.mode']).toMatchObject({ kind: 'project' });
    expect(out.sources['network.approvalTimeoutSeconds']).toMatchObject({ kind: 'default' });
    expect(out.sources['devcontainer.image']).toMatchObject({ kind: 'devcontainer' });
    expect(out.sources['backend.type']).toMatchObject({ kind: 'global' });
  });

  it('refuses a changed project paude.json until it is trusted again, showing the change', async () => {
    await write(join(repo, 'paude.json'), { network: { allowlist: ['files.example.org'] } });
    expect((await runPaude(['trust', '--yes'], { cwd: repo, env })).code).toBe(0);
    expect((await runPaude(['config', 'show'], { cwd: repo, env })).code).toBe(0);

    // What an agent might do between sessions.
    await write(join(repo, 'paude.json'), { network: { allowlist: ['files.example.org', 'exfil.example.com'] } });
    const refused = await runPaude(['config', 'show'], { cwd: repo, env });
    expect(refused.code).toBe(4);
    expect(refused.stderr.trim()).toBe(
      'paude: paude.json has changed since you approved it, and an agent could have written it; review and approve with "paude trust" before paude uses it',
    );
    const show = await runPaude(['trust', '--show'], { cwd: repo, env });
    expect(show.stdout).toMatch(/^\+.*exfil\.example\.com/m);
    const noTty = await runPaude(['trust'], { cwd: repo, env });
    expect(noTty.code).toBe(2);
    expect(noTty.stderr).toContain('paude trust --yes');
    expect((await runPaude(['config', 'show'], { cwd: repo, env })).code).toBe(4);
  });

  it('refuses a project file that tries to turn filtering off', async () => {
    await write(join(repo, 'paude.json'), { network: { mode: 'open' } });
    const r = await runPaude(['config', 'validate'], { cwd: repo, env });
    expect(r.code).toBe(3);
    expect(r.stderr.trim()).toBe(
      'paude: paude.json: network.mode: a project file cannot set "open" (only your global paude.json or --allow-network can turn filtering off); use "restricted" or "ask"',
    );
  });

  it('refuses devcontainer.json fields that widen the sandbox', async () => {
    await write(join(repo, '.devcontainer', 'devcontainer.json'), '{ "image": "x", /* host access */ "runArgs": ["--privileged"] }');
    const r = await runPaude(['config', 'validate'], { cwd: repo, env });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('.devcontainer/devcontainer.json: runArgs: refused because extra engine flags');
  });

  it('prints where things are', async () => {
    const r = await runPaude(['config', 'path', '--json'], { cwd: join(repo, 'sub'), env });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ globalConfigFile: join(env.PAUDE_CONFIG_DIR!, 'paude.json'), project: { root: repo } });
  });
});
