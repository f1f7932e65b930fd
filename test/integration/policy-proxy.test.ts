import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { LogFollower } from '../../src/policy/log-follower.js';
import { parseAccessLine, type ProxyEvent } from '../../src/policy/proxy-event.js';
import { renderPolicyRules } from '../../src/policy/policy-rules.js';
import { nodeClientHost } from '../../src/policy/registries/client-host.js';
import { RegistryGroupResolver, withRegistryHosts } from '../../src/policy/registry-groups.js';
import { demuxLogs, describeEngines } from '../support/engine-test.js';
import { execIn } from '../support/exec.js';
import { policyOf, startSandboxFixture, type SandboxFixture } from '../support/sandbox-fixture.js';
import { waitFor } from '../support/session-fixture.js';

const BASE_POLICY = { allow: ['allowed.test', '*.wild.test', '.apex.test'], deny: ['bad.apex.test'] };

/** A real host name the engine's resolver knows: the registry npm is configured with (never written down here). */
function configuredRegistryHost(): string {
  return new URL(execFileSync('npm', ['config', 'get', 'registry'], { encoding: 'utf8' }).trim()).hostname;
}

describeEngines('network policy through the session proxy', (engine) => {
  let f: SandboxFixture;
  let events: ProxyEvent[];
  let follower: LogFollower;

  beforeAll(async () => {
    f = await startSandboxFixture(engine, policyOf({ ...BASE_POLICY, allow: [...BASE_POLICY.allow, 'ports.test:PORT'.replace('PORT', '1')] }));
    // Now that the upstream's high port is known, the real policy (with the port rule).
    await f.sandbox.state.writeRules(renderPolicyRules(policyOf({ ...BASE_POLICY, allow: [...BASE_POLICY.allow, `ports.test:${f.upstream.extraPort}`] })));
    events = [];
    follower = new LogFollower(f.sandbox.state.accessLog, (lines) => {
      for (const l of lines) {
        const e = parseAccessLine(l.line, f.sandbox.sessionId, l.offset);
        if (e) events.push(e);
      }
    });
    follower.start();
    engine.defer(() => Promise.resolve(follower.stop()));
  });

  describe('decisions', () => {
    it('lets an allowed host through over HTTP and over HTTPS (CONNECT)', async () => {
      expect((await f.curl(['http://allowed.test/'])).status).toBe('200');
      expect((await f.curl(['-k', 'https://allowed.test/'])).status).toBe('200');
      expect(f.upstream.seen).toContain('allowed.test /');
    });

    it('refuses a host that is not allowed with a 403 that explains itself', async () => {
      const r = await f.exec(['curl', '-sS', '-i', '--max-time', '8', 'http://blocked.test/']);
      expect(r.stdout).toMatch(/^HTTP\/1\.1 403/);
      expect(r.stdout).toMatch(/^X-Paude-Denied: blocked\.test\r?$/m);
      expect(r.stdout).toContain(`paude blocked blocked.test for session ${f.sandbox.sessionId} because it is not on the allowlist`);
      expect(r.stdout).toContain('paude allow blocked.test');
      const tls = await f.curl(['-k', 'https://blocked.test/']);
      expect(tls.exitCode).not.toBe(0);
      expect(tls.stderr).toMatch(/403/);
      expect(f.upstream.seen.some((s) => s.startsWith('blocked.test'))).toBe(false);
    });

    it.each([
      ['a.wild.test', '200', '*.wild.test allows a subdomain'],
      ['wild.test', '403', '*.wild.test does not allow the apex'],
      ['apex.test', '200', '.apex.test allows the apex'],
      ['x.apex.test', '200', '.apex.test allows subdomains'],
      ['bad.apex.test', '403', 'the denylist beats the allowlist'],
      ['sub.allowed.test', '403', 'an exact host does not allow its subdomains'],
    ])('%s -> %s (%s)', async (host, status) => {
      expect((await f.curl([`http://${host}/`])).status).toBe(status);
    });

    it('opens another port only where a rule names it', async () => {
      const port = f.upstream.extraPort;
      expect((await f.curl([`http://ports.test:${port}/`])).status).toBe('200');
      expect((await f.curl([`http://allowed.test:${port}/`])).status).toBe('403');
      expect((await f.curl(['http://ports.test/'])).status).toBe('403');
    });
  });

  describe('isolation', () => {
    it('gives the agent no direct route: bypassing the proxy fails, even to the host', async () => {
      // Negative checks get a short timeout: a dropped packet only ever times out.
      const quick = ['--noproxy', '*', '--connect-timeout', '2'];
      const [direct, byName, links] = await Promise.all([
        f.curl([...quick, `http://${f.upstream.address}/`]),
        f.curl([...quick, 'http://allowed.test/']),
        f.exec(['ip', '-o', 'link']),
      ]);
      expect(direct.status).toBe('000');
      expect(byName.status).toBe('000');
      // Loopback is the agent's only interface.
      expect(links.stdout.trim().split('\n').map((l) => l.split(':')[1]?.trim())).toEqual(['lo']);
    });

    it('has no network at all without the proxy variables', async () => {
      const r = await f.exec(['env', '-u', 'http_proxy', '-u', 'HTTP_PROXY', '-u', 'https_proxy', '-u', 'HTTPS_PROXY', '-u', 'ALL_PROXY', '-u', 'all_proxy', 'curl', '-sS', '--connect-timeout', '2', 'http://allowed.test/']);
      expect(r.exitCode).not.toBe(0);
    });

    it('resolves no names itself, so DNS cannot carry data out', async () => {
      // Positive control: the same lookup from an ordinary container on the engine's network.
      const known = configuredRegistryHost();
      const control = await engine.docker.createContainer({ name: engine.uniqueName('dns'), Image: engine.baseImage, Cmd: ['timeout', '5', 'getent', 'hosts', known], Labels: engine.labels });
      engine.defer(() => control.remove({ force: true }));
      await control.start();
      const hostCanResolve = ((await control.wait()) as { StatusCode: number }).StatusCode === 0;
      const [fromAgent, made] = await Promise.all([
        f.exec(['timeout', '5', 'getent', 'hosts', known]),
        f.exec(['timeout', '5', 'getent', 'hosts', 'exfil-data-1234.example.com']),
      ]);
      expect(fromAgent.exitCode, hostCanResolve ? 'the engine network resolves it, the agent must not' : 'no resolver here at all').not.toBe(0);
      expect(made.exitCode).not.toBe(0);
    });

    it('serves only its own agent: the proxy is not reachable from its network', async () => {
      const proxy = (await engine.docker.getContainer(f.sandbox.proxyId).inspect()) as { NetworkSettings: { Networks: Record<string, { IPAddress: string }> } };
      const proxyAddress = proxy.NetworkSettings.Networks[f.egressNetwork]?.IPAddress;
      expect(proxyAddress).toBeTruthy();
      const intruder = await engine.docker.createContainer({
        name: engine.uniqueName('intruder'),
        Image: engine.baseImage,
        Cmd: ['sh', '-c', `curl -sS -o /dev/null -w '%{http_code}' --connect-timeout 3 -x http://${proxyAddress}:3128 http://allowed.test/; echo " exit=$?"`],
        Labels: engine.labels,
        HostConfig: { NetworkMode: f.egressNetwork },
      });
      engine.defer(() => intruder.remove({ force: true }));
      await intruder.start();
      await intruder.wait();
      const { stdout } = demuxLogs(await intruder.logs({ stdout: true, stderr: true }));
      expect(stdout).toMatch(/000 exit=(7|28)/);
    });
  });

  describe('live policy', () => {
    it('applies an added host to the very next request and a removed one as fast, without restarting anything', async () => {
      const agentStarted = (await engine.docker.getContainer(f.sandbox.agentId).inspect()).State.StartedAt;
      expect((await f.curl(['http://blocked.test/'])).status).toBe('403');
      const withBlocked = policyOf({ ...BASE_POLICY, allow: [...BASE_POLICY.allow, 'blocked.test', `ports.test:${f.upstream.extraPort}`] });
      await f.sandbox.state.writeRules(renderPolicyRules(withBlocked));
      expect((await f.curl(['http://blocked.test/'])).status).toBe('200');
      await f.sandbox.state.writeRules(renderPolicyRules(policyOf({ ...BASE_POLICY, allow: [...BASE_POLICY.allow, `ports.test:${f.upstream.extraPort}`] })));
      expect((await f.curl(['http://blocked.test/'])).status).toBe('403');
      expect((await engine.docker.getContainer(f.sandbox.agentId).inspect()).State.StartedAt).toBe(agentStarted);
    });

    it('does not cut a download in flight when the policy changes', async () => {
      const path = `/slow/1500?${Date.now()}`;
      const slow = f.curl([`http://allowed.test${path}`]);
      try {
        // The change comes once the request is at the upstream (allowed and in flight), however
        // slow the machine is.
        await waitFor(() => Promise.resolve(f.upstream.seen.includes(`allowed.test ${path}`) ? true : undefined), 20_000);
        await f.sandbox.state.writeRules(renderPolicyRules(policyOf({ allow: ['apex.test'] })));
        expect((await slow).status).toBe('200');
      } finally {
        await f.sandbox.state.writeRules(renderPolicyRules(policyOf({ ...BASE_POLICY, allow: [...BASE_POLICY.allow, `ports.test:${f.upstream.extraPort}`] })));
      }
    });
  });

  describe('package registry groups', () => {
    it("gives the proxy the hosts @npm resolves to from npm's own configuration (real npm, made-up registry)", async () => {
      const dir = await mkdtemp(join(tmpdir(), 'paude-npmrc-'));
      engine.defer(() => rm(dir, { recursive: true, force: true }));
      const npmrc = join(dir, 'npmrc');
      await writeFile(npmrc, 'registry=http://held3.test/\n');
      // npm reads the registry from this user config only (npx and npm run export their own).
      const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_config_(registry|userconfig)$/i.test(k)));
      const resolver = new RegistryGroupResolver(nodeClientHost({ ...env, npm_config_userconfig: npmrc }));
      const { policy, warnings } = await withRegistryHosts(policyOf({ ...BASE_POLICY, allow: [...BASE_POLICY.allow, '@npm'] }), resolver);
      expect(warnings).toEqual([]);
      const rules = renderPolicyRules(policy);
      expect(rules).toContain('allow host held3.test 80,443 @npm\n');
      expect((await f.curl(['http://held3.test/'])).status).toBe('403');
      await f.sandbox.state.writeRules(rules);
      try {
        expect((await f.curl(['http://held3.test/'])).status).toBe('200');
        // The access log names the group as the rule that allowed it.
        await waitFor(() => Promise.resolve(events.some((e) => e.host === 'held3.test' && e.decision === 'allow' && e.rule === '@npm') ? true : undefined), 20_000);
      } finally {
        await f.sandbox.state.writeRules(renderPolicyRules(policyOf({ ...BASE_POLICY, allow: [...BASE_POLICY.allow, `ports.test:${f.upstream.extraPort}`] })));
      }
      expect((await f.curl(['http://held3.test/'])).status).toBe('403');
    });
  });

  describe('events', () => {
    it('reports every request exactly once, with its decision and the rule that decided', async () => {
      await follower.poll();
      const before = events.length;
      const marker = 'events.apex.test';
      for (let i = 0; i < 3; i++) expect((await f.curl([`http://${marker}/`])).status).toBe('200');
      expect((await f.curl(['http://blocked.test/'])).status).toBe('403');
      await expect.poll(async () => (await follower.poll(), events.length - before), { timeout: 5000 }).toBe(4);
      const mine = events.slice(before);
      expect(mine.filter((e) => e.host === marker)).toHaveLength(3);
      expect(mine.find((e) => e.host === marker)).toMatchObject({ decision: 'allow', rule: '.apex.test', status: 200, method: 'GET', port: 80, session: f.sandbox.sessionId });
      expect(mine.find((e) => e.host === 'blocked.test')).toMatchObject({ decision: 'deny', rule: 'not-allowed', status: 403 });
      // A restart resumes from the stored offset: nothing again, nothing missing.
      const resumed: ProxyEvent[] = [];
      const again = new LogFollower(f.sandbox.state.accessLog, (lines) => lines.forEach((l) => resumed.push(parseAccessLine(l.line, 's', l.offset)!)), follower.offset);
      await again.poll();
      expect(resumed).toHaveLength(0);
    });
  });

  describe('fail closed', () => {
    it('leaves the agent with no network at all when the proxy dies', async () => {
      expect((await f.curl(['http://allowed.test/'])).status).toBe('200');
      await engine.docker.getContainer(f.sandbox.proxyId).kill();
      const r = await f.curl(['--connect-timeout', '2', 'http://allowed.test/']);
      expect(r.status).toBe('000');
      const direct = await execIn(engine.docker, f.sandbox.agentId, ['curl', '-sS', '--noproxy', '*', '--connect-timeout', '2', `http://${f.upstream.address}/`]);
      expect(direct.exitCode).not.toBe(0);
    });
  });
});
