import { beforeAll, expect, it } from 'vitest';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ApprovalBroker, presentEverywhere, relayWatchers, type HeldRequest } from '../../src/policy/approval-broker.js';
import { LogFollower } from '../../src/policy/log-follower.js';
import { renderPolicyRules } from '../../src/policy/policy-rules.js';
import { parseAccessLine, type ProxyEvent } from '../../src/policy/proxy-event.js';
import { describeEngines } from '../support/engine-test.js';
import { policyOf, startSandboxFixture, type SandboxFixture } from '../support/sandbox-fixture.js';

describeEngines('held approvals in ask mode', (engine) => {
  let f: SandboxFixture;
  let broker: ApprovalBroker;
  const events: ProxyEvent[] = [];
  let follower: LogFollower;

  beforeAll(async () => {
    f = await startSandboxFixture(engine, policyOf({ mode: 'ask', allow: ['allowed.test'], timeout: 2 }));
    broker = new ApprovalBroker(f.sandbox.state, f.sandbox.sessionId, 'test-client');
    follower = new LogFollower(f.sandbox.state.accessLog, (lines) => lines.forEach((l) => events.push(parseAccessLine(l.line, f.sandbox.sessionId, l.offset)!)));
    follower.start();
    engine.defer(() => Promise.resolve(follower.stop()));
  });

  const lastEventFor = async (host: string): Promise<ProxyEvent> => {
    await follower.poll();
    const found = events.filter((e) => e.host === host).at(-1);
    if (!found) throw new Error(`no event for ${host}`);
    return found;
  };

  const nextHeld = (): Promise<HeldRequest> =>
    new Promise((resolve) => {
      const stop = broker.watch((held) => {
        if (held[0]) {
          stop();
          resolve(held[0]);
        }
      }, 50);
    });

  it('denies at once, saying so, when nobody is there to approve', async () => {
    const started = Date.now();
    const r = await f.exec(['curl', '-sS', '-i', '--max-time', '8', 'http://held.test/']);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(r.stdout).toMatch(/^HTTP\/1\.1 403/);
    expect(r.stdout).toContain('because nobody was there to approve it');
    expect((await lastEventFor('held.test')).rule).toBe('no-approver');
  });

  it('holds a request until it is approved, then completes it', async () => {
    const leave = await broker.present();
    try {
      const held = nextHeld();
      const request = f.curl(['http://held.test/approve-me']);
      const h = await held;
      expect(h).toMatchObject({ host: 'held.test', port: 80, method: 'GET', session: f.sandbox.sessionId });
      await broker.decide(h.id, 'allow');
      expect((await request).status).toBe('200');
      expect(f.upstream.seen).toContain('held.test /approve-me');
      expect(await lastEventFor('held.test')).toMatchObject({ decision: 'allow', rule: 'approved', status: 200 });
      expect(await broker.pending()).toEqual([]);
    } finally {
      await leave();
    }
  });

  it('holds a request for a client present in every session (DATA/watchers), relayed into this one, and refuses it again once that client left', async () => {
    const everywhere = join(f.sessionDir, 'data-watchers');
    const leave = await presentEverywhere(everywhere, 'dashboard-test');
    try {
      // Nothing of this client is in the session's own watchers/ but the relayed heartbeat.
      await relayWatchers(everywhere, f.sandbox.state);
      expect(await readdir(f.sandbox.state.watchersDir)).toEqual(['all-dashboard-test']);
      const held = nextHeld();
      const request = f.curl(['http://held.test/everywhere']);
      await broker.decide((await held).id, 'allow');
      expect((await request).status).toBe('200');
    } finally {
      await leave();
    }
    // The relay takes it back with its client: the next request is refused at once again.
    await relayWatchers(everywhere, f.sandbox.state);
    expect(await readdir(f.sandbox.state.watchersDir)).toEqual([]);
    const r = await f.exec(['curl', '-sS', '-i', '--max-time', '8', 'http://held.test/']);
    expect(r.stdout).toMatch(/^HTTP\/1\.1 403/);
    expect((await lastEventFor('held.test')).rule).toBe('no-approver');
  });

  it('fails a held HTTPS request after a deny', async () => {
    const leave = await broker.present();
    try {
      const held = nextHeld();
      const request = f.curl(['-k', 'https://held2.test/']);
      const h = await held;
      expect(h).toMatchObject({ host: 'held2.test', port: 443, method: 'CONNECT' });
      await broker.decide(h.id, 'deny');
      const r = await request;
      expect(r.exitCode).not.toBe(0);
      expect(r.stderr).toMatch(/403/);
      expect(await lastEventFor('held2.test')).toMatchObject({ decision: 'deny', rule: 'denied' });
      await expect(broker.decide(h.id, 'allow')).rejects.toThrow(/no longer waiting/);
    } finally {
      await leave();
    }
  });

  it('denies a held request nobody answers, after the timeout', async () => {
    const leave = await broker.present();
    try {
      const started = Date.now();
      const r = await f.curl(['http://held3.test/']);
      const waited = Date.now() - started;
      expect(r.status).toBe('403');
      expect(waited).toBeGreaterThanOrEqual(1800);
      expect(await lastEventFor('held3.test')).toMatchObject({ decision: 'deny', rule: 'timeout' });
    } finally {
      await leave();
    }
  });

  it('releases a held request when the policy changes under it (allow for this session)', async () => {
    const leave = await broker.present();
    try {
      const held = nextHeld();
      const request = f.curl(['http://held.test/policy']);
      await held;
      await f.sandbox.state.writeRules(renderPolicyRules(policyOf({ mode: 'ask', allow: ['allowed.test', 'held.test'], timeout: 2 })));
      expect((await request).status).toBe('200');
      // And the next request is not held at all.
      const started = Date.now();
      expect((await f.curl(['http://held.test/again'])).status).toBe('200');
      expect(Date.now() - started).toBeLessThan(1500);
      expect(await lastEventFor('held.test')).toMatchObject({ decision: 'allow', rule: 'held.test' });
    } finally {
      await leave();
    }
  });
});
