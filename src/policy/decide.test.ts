import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { NetworkMode } from '../config/schema.js';
import { decide, normaliseRequestHost, ruleMatches, type CompiledPolicy, type Decision } from './decide.js';
import type { CompiledRule, EffectivePolicy, PolicyEntry } from './effective-policy.js';
import { GROUP_NAMES } from '../config/groups.js';
import { formatNetworkRule, parseNetworkEntry } from '../config/network-entry.js';
import { compilePolicy, renderPolicyRules } from './policy-rules.js';
import { ProxyStateDir } from './proxy-state.js';

const HELPER = fileURLToPath(new URL('../../assets/proxy/policy-helper', import.meta.url));
const SESSION = 'paude-test1';

function entries(texts: readonly string[]): PolicyEntry[] {
  return texts.map((t) => {
    const parsed = parseNetworkEntry(t);
    if (!parsed.ok) throw new Error(`bad test entry ${t}: ${parsed.problem}`);
    return { rule: parsed.rule, text: formatNetworkRule(parsed.rule), source: 'session' };
  });
}

function policyOf(p: { mode?: NetworkMode; allow?: readonly string[]; deny?: readonly string[]; timeout?: number }): EffectivePolicy {
  return { mode: p.mode ?? 'restricted', allow: entries(p.allow ?? []), deny: entries(p.deny ?? []), approvalTimeoutSeconds: p.timeout ?? 30 };
}

const compiled = (p: Parameters<typeof policyOf>[0]): CompiledPolicy => compilePolicy(policyOf(p));

describe('normaliseRequestHost', () => {
  it.each([
    ['Example.COM', 'example.com'],
    ['example.com.', 'example.com'],
    ['EXAMPLE.com.', 'example.com'],
    ['[FD00::1]', 'fd00::1'],
    // Brackets come off first, so a dot after them leaves an address no rule names.
    ['[fd00::1].', '?fd00::1?'],
    ['10.0.0.1', '10.0.0.1'],
    ['under_score.test', 'under_score.test'],
    ['a"b\\c d.test', 'a?b?c?d.test'],
    ['', ''],
  ])('%j -> %j', (raw, normalised) => {
    expect(normaliseRequestHost(raw)).toBe(normalised);
  });

  it('strips only one trailing dot, so "x.." never becomes a name in the policy', () => {
    expect(normaliseRequestHost('example.com..')).toBe('example.com.');
  });
});

describe('ruleMatches', () => {
  const rule = (kind: CompiledRule['kind'], name: string, ports: CompiledRule['ports'] = [80, 443]): CompiledRule => ({ kind, name, ports, label: name });

  it('a host rule matches that host only', () => {
    expect(ruleMatches(rule('host', 'example.com'), 'example.com', 443)).toBe(true);
    expect(ruleMatches(rule('host', 'example.com'), 'www.example.com', 443)).toBe(false);
    expect(ruleMatches(rule('host', 'example.com'), 'example.co', 443)).toBe(false);
    expect(ruleMatches(rule('host', 'example.com'), 'badexample.com', 443)).toBe(false);
  });

  it('a sub rule (*.x) matches subdomains at any depth but not the apex', () => {
    const sub = rule('sub', 'example.com');
    expect(ruleMatches(sub, 'a.example.com', 80)).toBe(true);
    expect(ruleMatches(sub, 'a.b.example.com', 80)).toBe(true);
    expect(ruleMatches(sub, 'example.com', 80)).toBe(false);
    expect(ruleMatches(sub, 'notexample.com', 80)).toBe(false);
    // ".example.com" is not a subdomain: the label before the dot must not be empty.
    expect(ruleMatches(sub, '.example.com', 80)).toBe(false);
  });

  it('a dom rule (.x) matches the apex and every subdomain', () => {
    const dom = rule('dom', 'example.com');
    expect(ruleMatches(dom, 'example.com', 443)).toBe(true);
    expect(ruleMatches(dom, 'deep.a.example.com', 443)).toBe(true);
    expect(ruleMatches(dom, 'xexample.com', 443)).toBe(false);
    expect(ruleMatches(dom, 'example.com.evil.test', 443)).toBe(false);
  });

  it('an ip rule compares the address exactly', () => {
    expect(ruleMatches(rule('ip', '10.0.0.1'), '10.0.0.1', 80)).toBe(true);
    expect(ruleMatches(rule('ip', '10.0.0.1'), '10.0.0.10', 80)).toBe(false);
    expect(ruleMatches(rule('ip', 'fd00::1'), 'fd00::1', 80)).toBe(true);
  });

  it('ports: a listed port only, or any port for "any"', () => {
    expect(ruleMatches(rule('host', 'a.test', [8080]), 'a.test', 8080)).toBe(true);
    expect(ruleMatches(rule('host', 'a.test', [8080]), 'a.test', 80)).toBe(false);
    expect(ruleMatches(rule('host', 'a.test'), 'a.test', 22)).toBe(false);
    expect(ruleMatches(rule('host', 'a.test', 'any'), 'a.test', 22)).toBe(true);
    expect(ruleMatches(rule('dom', 'a.test', 'any'), 'x.a.test', 65535)).toBe(true);
  });
});

describe('decide', () => {
  it('allows a listed host on 80 and 443 only, naming the entry that allowed it', () => {
    const p = compiled({ allow: ['example.com'] });
    expect(decide(p, 'example.com', 443)).toEqual({ decision: 'allow', rule: 'example.com' });
    expect(decide(p, 'example.com', 80)).toEqual({ decision: 'allow', rule: 'example.com' });
    expect(decide(p, 'example.com', 8080)).toEqual({ decision: 'deny', rule: 'not-allowed' });
    expect(decide(p, 'www.example.com', 443)).toEqual({ decision: 'deny', rule: 'not-allowed' });
  });

  it('"*.x" allows subdomains, not the apex; ".x" allows both', () => {
    expect(decide(compiled({ allow: ['*.example.com'] }), 'api.example.com', 443)).toEqual({ decision: 'allow', rule: '*.example.com' });
    expect(decide(compiled({ allow: ['*.example.com'] }), 'example.com', 443)).toEqual({ decision: 'deny', rule: 'not-allowed' });
    expect(decide(compiled({ allow: ['.example.com'] }), 'example.com', 443)).toEqual({ decision: 'allow', rule: '.example.com' });
    expect(decide(compiled({ allow: ['.example.com'] }), 'a.b.example.com', 80)).toEqual({ decision: 'allow', rule: '.example.com' });
  });

  it('an explicit port opens that port only', () => {
    const p = compiled({ allow: ['example.com:8443'] });
    expect(decide(p, 'example.com', 8443)).toEqual({ decision: 'allow', rule: 'example.com:8443' });
    expect(decide(p, 'example.com', 443)).toEqual({ decision: 'deny', rule: 'not-allowed' });
  });

  it('a group allows its members under the group name', () => {
    const p = compiled({ allow: ['@github'] });
    expect(decide(p, 'api.github.com', 443)).toEqual({ decision: 'allow', rule: '@github' });
    expect(decide(p, 'evil.github.com', 443)).toEqual({ decision: 'deny', rule: 'not-allowed' });
  });

  it('a registry group allows the hosts resolved for it, under the group name', () => {
    const p = compilePolicy({ ...policyOf({ allow: ['@npm'] }), registryHosts: { npm: ['registry.test'] } });
    expect(decide(p, 'registry.test', 443)).toEqual({ decision: 'allow', rule: '@npm' });
    expect(decide(p, 'evil.registry.test', 443)).toEqual({ decision: 'deny', rule: 'not-allowed' });
    expect(decide(compiled({ allow: ['@npm'] }), 'registry.test', 443)).toEqual({ decision: 'deny', rule: 'not-allowed' });
  });

  it('deny beats allow, on every port when the deny rule names none', () => {
    const p = compiled({ allow: ['.example.com', 'example.com:22'], deny: ['secret.example.com', 'example.com'] });
    expect(decide(p, 'secret.example.com', 443)).toEqual({ decision: 'deny', rule: 'secret.example.com' });
    expect(decide(p, 'example.com', 22)).toEqual({ decision: 'deny', rule: 'example.com' });
    expect(decide(p, 'www.example.com', 443)).toEqual({ decision: 'allow', rule: '.example.com' });
  });

  it('a deny rule with a port denies only that port', () => {
    const p = compiled({ allow: ['.example.com'], deny: ['example.com:80'] });
    expect(decide(p, 'example.com', 80)).toEqual({ decision: 'deny', rule: 'example.com:80' });
    expect(decide(p, 'example.com', 443)).toEqual({ decision: 'allow', rule: '.example.com' });
  });

  it('the first matching rule names the decision', () => {
    const p = compiled({ allow: ['api.example.com', '.example.com'] });
    expect(decide(p, 'api.example.com', 443)).toEqual({ decision: 'allow', rule: 'api.example.com' });
  });

  it.each<[NetworkMode, Decision]>([
    ['open', { decision: 'allow', rule: 'open-mode' }],
    ['ask', { decision: 'hold' }],
    ['restricted', { decision: 'deny', rule: 'not-allowed' }],
  ])('in %s mode an unlisted host gets %j', (mode, expected) => {
    expect(decide(compiled({ mode, allow: ['a.test'] }), 'b.test', 443)).toEqual(expected);
  });

  it('the deny list applies in open mode too', () => {
    expect(decide(compiled({ mode: 'open', deny: ['.tracker.test'] }), 'x.tracker.test', 443)).toEqual({ decision: 'deny', rule: '.tracker.test' });
  });

  it('reads the request host case-insensitively, with a trailing dot, and IPv6 in brackets', () => {
    const p = compiled({ allow: ['example.com', 'ip:fd00::1', 'ip:10.0.0.1'] });
    expect(decide(p, 'EXAMPLE.Com', 443)).toEqual({ decision: 'allow', rule: 'example.com' });
    expect(decide(p, 'example.com.', 443)).toEqual({ decision: 'allow', rule: 'example.com' });
    expect(decide(p, '[FD00::1]', 443)).toEqual({ decision: 'allow', rule: 'ip:[fd00::1]' });
    expect(decide(p, '10.0.0.1', 80)).toEqual({ decision: 'allow', rule: 'ip:10.0.0.1' });
  });

  it('an allowed name does not allow its IP address or vice versa', () => {
    const p = compiled({ allow: ['localhost'] });
    expect(decide(p, '127.0.0.1', 80)).toEqual({ decision: 'deny', rule: 'not-allowed' });
  });
});

// ---------------------------------------------------------------------------------------------
// The real Perl helper, spoken to as squid does (concurrency protocol on stdin/stdout).
// ---------------------------------------------------------------------------------------------

interface Reply {
  channel: string;
  decision: 'allow' | 'deny';
  rule: string;
  message?: string;
}

const REPLY = /^(\S+) (OK|ERR) decision=(allow|deny) rule=(\S+)(?: message="([^"\n]*)")?$/;

class PolicyHelper {
  readonly exited: Promise<number | null>;
  stderr = '';
  private buffer = '';
  private nextChannel = 0;
  private readonly waiting = new Map<string, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();

  constructor(private readonly proc: ChildProcessWithoutNullStreams) {
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (chunk: string) => this.read(chunk));
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (chunk: string) => (this.stderr += chunk));
    proc.stdin.on('error', () => undefined);
    this.exited = new Promise((resolve) => proc.on('exit', (code) => resolve(code)));
    void this.exited.then(() => {
      for (const w of this.waiting.values()) w.reject(new Error(`the helper exited; stderr: ${this.stderr}`));
      this.waiting.clear();
    });
  }

  /** Sends one request line; resolves with the helper's answer on that channel. */
  request(host: string, port: number | string, method = 'GET', client = '10.0.0.2'): Promise<Reply> {
    return this.send(`${host} ${port} ${method}`, client);
  }

  send(rest: string, client = '10.0.0.2'): Promise<Reply> {
    const channel = String(this.nextChannel++);
    const reply = new Promise<Reply>((resolve, reject) => this.waiting.set(channel, { resolve, reject }));
    this.proc.stdin.write(`${channel} ${client} ${rest}\n`);
    return reply;
  }

  closeInput(): void {
    this.proc.stdin.end();
  }

  async kill(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
    await this.exited;
  }

  private read(chunk: string): void {
    this.buffer += chunk;
    for (let nl = this.buffer.indexOf('\n'); nl !== -1; nl = this.buffer.indexOf('\n')) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      const m = REPLY.exec(line);
      const channel = line.split(' ')[0] ?? '';
      const waiter = this.waiting.get(channel);
      this.waiting.delete(channel);
      if (!waiter) throw new Error(`an answer nobody asked for: ${JSON.stringify(line)}`);
      if (!m) {
        waiter.reject(new Error(`not a squid helper answer: ${JSON.stringify(line)}`));
        continue;
      }
      const okMatchesDecision = (m[2] === 'OK') === (m[3] === 'allow');
      if (!okMatchesDecision) waiter.reject(new Error(`OK/ERR disagrees with the decision: ${line}`));
      else waiter.resolve({ channel, decision: m[3] as Reply['decision'], rule: m[4] ?? '', ...(m[5] === undefined ? {} : { message: m[5] }) });
    }
  }
}

const running = new Set<PolicyHelper>();
const stateDirs: string[] = [];

async function newState(): Promise<ProxyStateDir> {
  const root = await mkdtemp(join(tmpdir(), 'paude-helper-'));
  stateDirs.push(root);
  const state = new ProxyStateDir(root);
  await state.prepare();
  return state;
}

function startHelper(state: ProxyStateDir): PolicyHelper {
  const helper = new PolicyHelper(spawn('perl', [HELPER, state.root, SESSION], { stdio: ['pipe', 'pipe', 'pipe'] }));
  running.add(helper);
  return helper;
}

async function stopAll(): Promise<void> {
  await Promise.all([...running].map((h) => h.kill()));
  running.clear();
  await Promise.all(stateDirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

/** A promise plus whether it has settled yet, to tell "held" from "answered". */
function track<T>(p: Promise<T>): { promise: Promise<T>; settled: () => boolean } {
  let done = false;
  void p.then(
    () => (done = true),
    () => (done = true),
  );
  return { promise: p, settled: () => done };
}

const allow = (rule: string): Partial<Reply> => ({ decision: 'allow', rule });
const deny = (rule: string): Partial<Reply> => ({ decision: 'deny', rule });

describe('policy helper (Perl): decisions', () => {
  let state: ProxyStateDir;
  let helper: PolicyHelper;

  beforeAll(async () => {
    state = await newState();
    helper = startHelper(state);
  });
  afterAll(stopAll);

  it('answers like decide() on a hand-picked policy, with the messages users see on the 403 page', async () => {
    await state.writeRules(renderPolicyRules(policyOf({ allow: ['allowed.test', '*.wild.test', '.apex.test', 'ports.test:8080'], deny: ['bad.apex.test'] })));
    expect(await helper.request('allowed.test', 80)).toEqual({ channel: expect.any(String) as string, ...allow('allowed.test') });
    expect(await helper.request('ALLOWED.test.', 443, 'CONNECT')).toMatchObject(allow('allowed.test'));
    expect(await helper.request('a.wild.test', 443)).toMatchObject(allow('*.wild.test'));
    expect(await helper.request('apex.test', 80)).toMatchObject(allow('.apex.test'));
    expect(await helper.request('ports.test', 8080)).toMatchObject(allow('ports.test:8080'));
    expect(await helper.request('ports.test', 80)).toMatchObject(deny('not-allowed'));
    expect(await helper.request('wild.test', 443)).toEqual({
      channel: expect.any(String) as string,
      ...deny('not-allowed'),
      message: `paude blocked wild.test for session ${SESSION} because it is not on the allowlist`,
    });
    expect(await helper.request('bad.apex.test', 443)).toMatchObject({
      ...deny('bad.apex.test'),
      message: `paude blocked bad.apex.test for session ${SESSION} because it matches the deny rule bad.apex.test`,
    });
  });

  it('keeps every answer on one line, whatever the request host contains', async () => {
    await state.writeRules(renderPolicyRules(policyOf({})));
    const reply = await helper.request('a"b\\c<d>%0a', 80);
    expect(reply).toMatchObject({ ...deny('not-allowed'), message: `paude blocked a?b?c?d?%0a for session ${SESSION} because it is not on the allowlist` });
  });

  it('reads a port that is not a number as port 0, which no rule names', async () => {
    await state.writeRules(renderPolicyRules(policyOf({ allow: ['a.test'], deny: ['b.test'] })));
    expect(await helper.request('a.test', '-')).toMatchObject(deny('not-allowed'));
    // A deny rule without a port still applies.
    expect(await helper.request('b.test', 'x')).toMatchObject(deny('b.test'));
  });

  it('applies a rule change to the very next request', async () => {
    await state.writeRules(renderPolicyRules(policyOf({ allow: ['a.test'] })));
    expect(await helper.request('new.test', 443)).toMatchObject(deny('not-allowed'));
    await state.writeRules(renderPolicyRules(policyOf({ allow: ['a.test', 'new.test'] })));
    expect(await helper.request('new.test', 443)).toMatchObject(allow('new.test'));
    await state.writeRules(renderPolicyRules(policyOf({ allow: ['a.test'] })));
    expect(await helper.request('new.test', 443)).toMatchObject(deny('not-allowed'));
    // Same length, different host: the size does not change, the file does.
    await state.writeRules(renderPolicyRules(policyOf({ allow: ['b.test'] })));
    expect(await helper.request('a.test', 443)).toMatchObject(deny('not-allowed'));
    expect(await helper.request('b.test', 443)).toMatchObject(allow('b.test'));
    await state.writeRules(renderPolicyRules(policyOf({ mode: 'open' })));
    expect(await helper.request('anything.test', 443)).toMatchObject(allow('open-mode'));
  });

  it('denies everything when the rules file is missing (fail closed)', async () => {
    await state.writeRules(renderPolicyRules(policyOf({ mode: 'open', allow: ['a.test'] })));
    expect(await helper.request('a.test', 443)).toMatchObject(allow('a.test'));
    await rm(state.rulesFile);
    expect(await helper.request('a.test', 443)).toMatchObject(deny('not-allowed'));
    expect(await helper.request('other.test', 443)).toMatchObject(deny('not-allowed'));
  });

  it('denies everything when the header is not "paude-policy 1", even rules and mode that would allow', async () => {
    for (const header of ['paude-policy 2', 'paude-policy 1 ', '', '# paude-policy 1', 'PAUDE-POLICY 1']) {
      await state.writeRules(`${header}\nmode open\ntimeout 30\nallow host a.test 80,443 a.test\n`);
      expect(await helper.request('a.test', 443), `header ${JSON.stringify(header)}`).toMatchObject(deny('not-allowed'));
    }
  });

  it('ignores malformed lines and applies the well-formed ones', async () => {
    await state.writeRules(
      [
        'paude-policy 1',
        'mode restricted',
        'timeout 30',
        'allow host A.TEST 80,443 upper',
        'allow host b.test 80,443',
        'allow  host c.test 80,443 double-space',
        'allow host d.test 80,443 label extra',
        'allow host e.test 80;443 semicolon',
        'allow wild f.test 80,443 kind',
        'permit host g.test 80,443 effect',
        'allow host h.test 123456 long-port',
        'allow host i.test 80, trailing-comma',
        'mode wide-open',
        'deny host ok.test * malformed-deny extra',
        '',
        'allow host ok.test 80,443 ok.test',
      ].join('\n') + '\n',
    );
    for (const host of ['a.test', 'b.test', 'c.test', 'd.test', 'e.test', 'f.test', 'g.test', 'h.test', 'i.test']) {
      expect(await helper.request(host, 80), host).toMatchObject(deny('not-allowed'));
    }
    expect(await helper.request('ok.test', 443)).toMatchObject(allow('ok.test'));
  });

  it('answers every channel of a burst of interleaved requests', async () => {
    await state.writeRules(renderPolicyRules(policyOf({ allow: ['even.test'] })));
    const replies = await Promise.all(Array.from({ length: 200 }, (_, i) => helper.request(i % 2 ? 'odd.test' : 'even.test', 443)));
    replies.forEach((r, i) => expect(r).toMatchObject(i % 2 ? deny('not-allowed') : allow('even.test')));
  });

  it('exits when squid closes its input', async () => {
    const s = await newState();
    const h = startHelper(s);
    await s.writeRules(renderPolicyRules(policyOf({})));
    expect(await h.request('a.test', 80)).toMatchObject(deny('not-allowed'));
    h.closeInput();
    expect(await h.exited).toBe(0);
    expect(h.stderr).toBe('');
  });

  it('writes no warnings to stderr (squid copies them into cache.log) for odd requests', async () => {
    await state.writeRules(renderPolicyRules(policyOf({ allow: ['*.a.test', '.b.test'] })));
    expect(await helper.send('')).toMatchObject(deny('not-allowed'));
    expect(await helper.request('', '')).toMatchObject(deny('not-allowed'));
    expect(await helper.request('t', 80)).toMatchObject(deny('not-allowed'));
    expect(helper.stderr).toBe('');
  });
});

// ---- Equivalence: the Perl helper and decide() give the same answer and the same rule. ----

const LABELS = ['a', 'b', 'api', 'www', 'x-1', 'xn--bcher-kva'] as const;
const TOPS = ['test', 'com', 'co.uk', 'github.io'] as const;
const IPS = ['10.0.0.1', '10.0.0.2', '192.168.1.1', 'fd00::1', 'fd00::2', '::ffff:10.0.0.1'] as const;

const domainName = fc
  .tuple(fc.array(fc.constantFrom(...LABELS), { minLength: 1, maxLength: 3 }), fc.constantFrom(...TOPS))
  .map(([labels, top]) => [...labels, top].join('.'));
const somePort = fc.oneof(fc.constantFrom(80, 443, 8080), fc.integer({ min: 1, max: 65535 }));
const withPort = (text: string, port: number | undefined): string => (port === undefined ? text : `${text}:${port}`);

const entryText = fc
  .oneof(
    { weight: 8, arbitrary: fc.tuple(fc.constantFrom('', '*.', '.'), domainName, fc.option(somePort, { nil: undefined })).map(([form, name, port]) => withPort(form + name, port)) },
    {
      weight: 2,
      arbitrary: fc.tuple(fc.constantFrom(...IPS), fc.option(somePort, { nil: undefined })).map(([ip, port]) => {
        if (isIP(ip) === 6) return port === undefined ? `ip:${ip}` : `ip:[${ip}]:${port}`;
        return withPort(`ip:${ip}`, port);
      }),
    },
    { weight: 1, arbitrary: fc.constantFrom(...GROUP_NAMES).map((g) => `@${g}`) },
  )
  .filter((t) => parseNetworkEntry(t).ok);

const policyArb = fc
  .record({
    // Ask mode holds only while someone watches; with nobody watching it must deny at once.
    mode: fc.constantFrom<NetworkMode>('restricted', 'open', 'ask'),
    allow: fc.array(entryText, { maxLength: 6 }),
    deny: fc.array(entryText, { maxLength: 3 }),
  })
  // Registry groups carry made-up resolved hosts, as withRegistryHosts gives them.
  .map((p) => ({ ...policyOf(p), registryHosts: { npm: ['registry.test'], pypi: ['index.example.test', 'files.example.test'], crates: ['crates.mirror.example.test'], golang: ['proxy.example.test:8443'], debian: ['ip:10.20.30.40:3142'] } }));

interface Request {
  host: string;
  port: number;
  method: string;
}

function requestsFor(policy: EffectivePolicy): fc.Arbitrary<Request[]> {
  const c = compilePolicy(policy);
  const names = [...c.allow, ...c.deny].map((r) => r.name);
  const own = names.length > 0 ? fc.constantFrom(...names) : domainName;
  const base = fc.oneof(
    { weight: 5, arbitrary: own },
    { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...LABELS), own).map(([l, n]) => `${l}.${n}`) },
    { weight: 2, arbitrary: own.map((n) => n.split('.').slice(1).join('.') || n) },
    { weight: 1, arbitrary: own.map((n) => `x${n}`) },
    { weight: 2, arbitrary: domainName },
    { weight: 1, arbitrary: fc.constantFrom(...IPS).map((ip) => (isIP(ip) === 6 ? `[${ip}]` : ip)) },
    // Anything squid could pass on in one field (it never sends spaces or newlines).
    { weight: 1, arbitrary: fc.stringMatching(/^[\x21-\x7e]{1,24}$/) },
  );
  const host = fc
    .tuple(base, fc.nat(7))
    .map(([h, dress]) => (dress === 0 ? h.toUpperCase() : dress === 1 ? `${h}.` : dress === 2 ? `${h.toUpperCase()}.` : h));
  return fc.array(fc.record({ host: fc.oneof(host, fc.mixedCase(host)), port: somePort, method: fc.constantFrom('GET', 'CONNECT', 'POST') }), {
    minLength: 1,
    maxLength: 25,
  });
}

/** What squid will see: decide(), with "hold" answered as "nobody there to approve it". */
function expectedReply(policy: CompiledPolicy, host: string, port: number): Partial<Reply> {
  const d = decide(policy, host, port);
  return d.decision === 'hold' ? deny('no-approver') : { decision: d.decision, rule: d.rule };
}

describe('policy helper (Perl) and decide() agree', () => {
  let state: ProxyStateDir;
  let helper: PolicyHelper;

  beforeAll(async () => {
    state = await newState();
    helper = startHelper(state);
  });
  afterAll(stopAll);

  it('on random policies and requests aimed at their names, sub- and parent domains', async () => {
    let compared = 0;
    const outcomes = new Set<string>();
    await fc.assert(
      fc.asyncProperty(
        policyArb.chain((policy) => fc.tuple(fc.constant(policy), requestsFor(policy))),
        async ([policy, requests]) => {
          await state.writeRules(renderPolicyRules(policy));
          const c = compilePolicy(policy);
          const replies = await Promise.all(requests.map((r) => helper.request(r.host, r.port, r.method)));
          requests.forEach((r, i) => {
            const expected = expectedReply(c, r.host, r.port);
            expect(replies[i], `${policy.mode} ${r.host}:${r.port}\n${renderPolicyRules(policy)}`).toMatchObject(expected);
            // The 403 page names the host as both sides normalise it.
            if (expected.decision === 'deny') expect(replies[i]?.message).toMatch(new RegExp(`^paude blocked ${escapeRegExp(normaliseRequestHost(r.host))} for session ${SESSION} because `));
            outcomes.add(`${expected.decision}:${['not-allowed', 'open-mode', 'no-approver'].includes(expected.rule ?? '') ? expected.rule : 'rule'}`);
          });
          compared += requests.length;
        },
      ),
      { numRuns: 800 },
    );
    expect(helper.stderr).toBe('');
    expect(compared).toBeGreaterThan(3000);
    // The generators reach every kind of answer (the property is not vacuously true).
    expect([...outcomes].sort()).toEqual(['allow:open-mode', 'allow:rule', 'deny:no-approver', 'deny:not-allowed', 'deny:rule']);
  }, 60_000);

  // BUG (decide.ts normaliseRequestHost): String.prototype.toLowerCase folds some non-ASCII
  // letters to ASCII (U+212A KELVIN SIGN -> "k"), while Perl's lc on bytes leaves them alone and
  // then turns each byte into "?". Input: policy allowing key.test, request host "\u212Aey.test"
  // port 80. Expected: both deny (not-allowed). Actual: decide() says allow (rule key.test),
  // the helper says deny (rule not-allowed, host "???ey.test"). Squid URL-escapes hosts, so the
  // proxy itself is safe; an explanation computed with decide() would be wrong.
  it('on hosts with non-ASCII letters whose lower case is ASCII (KELVIN SIGN)', async () => {
    const policy = policyOf({ allow: ['key.test'] });
    await state.writeRules(renderPolicyRules(policy));
    const reply = await helper.request('\u212Aey.test', 80);
    expect(reply).toMatchObject(expectedReply(compilePolicy(policy), '\u212Aey.test', 80));
  });
});

// ---- Ask mode: held requests, approvals, timeouts. ----

describe('policy helper (Perl): ask mode', () => {
  let state: ProxyStateDir;
  let helper: PolicyHelper;

  const askPolicy = (timeout = 30, allowList: string[] = ['known.test']): string => renderPolicyRules(policyOf({ mode: 'ask', allow: allowList, timeout }));

  async function pendingOnce(count = 1): Promise<Array<{ id: string; text: string }>> {
    return vi.waitFor(
      async () => {
        const pending = await state.listPending();
        expect(pending).toHaveLength(count);
        return pending;
      },
      { timeout: 3000, interval: 10 },
    );
  }

  // Every test gets its own state directory and helper.
  afterEach(stopAll);

  async function setUp(rules: string, watching: boolean): Promise<void> {
    state = await newState();
    await state.writeRules(rules);
    if (watching) await state.heartbeat('dashboard');
    helper = startHelper(state);
  }

  it('denies at once with "no-approver" when nobody is watching', async () => {
    await setUp(askPolicy(), false);
    expect(await helper.request('unknown.test', 443)).toMatchObject({
      ...deny('no-approver'),
      message: `paude blocked unknown.test for session ${SESSION} because nobody was there to approve it`,
    });
    expect(await state.listPending()).toEqual([]);
    // Listed hosts are still decided by their rules.
    expect(await helper.request('known.test', 443)).toMatchObject(allow('known.test'));
  });

  it('treats a watcher that stopped heartbeating (over 10 s ago) as gone', async () => {
    await setUp(askPolicy(), true);
    const old = new Date(Date.now() - 60_000);
    await utimes(join(state.watchersDir, 'dashboard'), old, old);
    expect(await helper.request('unknown.test', 443)).toMatchObject(deny('no-approver'));
  });

  it('holds an unknown host while someone watches, and an approval releases it', async () => {
    await setUp(askPolicy(), true);
    const held = track(helper.request('Unknown.Test.', 8443, 'CONNECT', '10.9.8.7'));
    const [pending] = await pendingOnce();
    const fields = pending?.text.trimEnd().split(' ');
    expect(fields?.slice(0, 4)).toEqual(['unknown.test', '8443', 'CONNECT', '10.9.8.7']);
    expect(Math.abs(Number(fields?.[4]) - Date.now() / 1000)).toBeLessThan(5);
    expect(pending?.text.endsWith('\n')).toBe(true);
    expect(held.settled()).toBe(false);
    // Other requests are not blocked by the held one.
    expect(await helper.request('known.test', 443)).toMatchObject(allow('known.test'));
    await state.writeDecision(pending?.id ?? '', 'allow');
    expect(await held.promise).toMatchObject(allow('approved'));
    await vi.waitFor(async () => expect(await state.listPending()).toEqual([]), { timeout: 2000, interval: 10 });
    await vi.waitFor(async () => expect(await fileNames(state.decisionsDir)).toEqual([]), { timeout: 2000, interval: 10 });
  });

  it('answers a denial with "denied" and says so', async () => {
    await setUp(askPolicy(), true);
    const held = helper.request('unknown.test', 443);
    const [pending] = await pendingOnce();
    await state.writeDecision(pending?.id ?? '', 'deny');
    expect(await held).toMatchObject({ ...deny('denied'), message: `paude blocked unknown.test for session ${SESSION} because you denied it` });
    await vi.waitFor(async () => expect(await state.listPending()).toEqual([]), { timeout: 2000, interval: 10 });
  });

  it('ignores a decision file that says neither allow nor deny', async () => {
    await setUp(askPolicy(), true);
    const held = track(helper.request('unknown.test', 443));
    const [pending] = await pendingOnce();
    await writeFile(join(state.decisionsDir, pending?.id ?? ''), 'yes please\n');
    await new Promise((r) => setTimeout(r, 150));
    expect(held.settled()).toBe(false);
    await state.writeDecision(pending?.id ?? '', 'deny');
    expect(await held.promise).toMatchObject(deny('denied'));
  });

  it('denies with "timeout" after the rules file\'s timeout when nobody decides', async () => {
    await setUp(askPolicy(1), true);
    const started = Date.now();
    const held = helper.request('unknown.test', 443);
    await pendingOnce();
    expect(await held).toMatchObject({ ...deny('timeout'), message: `paude blocked unknown.test for session ${SESSION} because no decision was made in time` });
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(900);
    expect(elapsed).toBeLessThan(2500);
    await vi.waitFor(async () => expect(await state.listPending()).toEqual([]), { timeout: 2000, interval: 10 });
  }, 10_000);

  it('releases a held request when a policy change decides it', async () => {
    await setUp(askPolicy(), true);
    const held = helper.request('later.test', 443);
    await pendingOnce();
    await state.writeRules(askPolicy(30, ['known.test', 'later.test']));
    expect(await held).toMatchObject(allow('later.test'));
    await vi.waitFor(async () => expect(await state.listPending()).toEqual([]), { timeout: 2000, interval: 10 });
  });

  it('answers several held requests independently, in the order they are decided', async () => {
    await setUp(askPolicy(), true);
    const hosts = ['one.test', 'two.test', 'three.test'];
    const held = hosts.map((h) => track(helper.request(h, 443)));
    const pending = await pendingOnce(3);
    const idOf = (host: string): string => pending.find((p) => p.text.startsWith(`${host} `))?.id ?? '';
    expect(new Set(pending.map((p) => p.id)).size).toBe(3);

    await state.writeDecision(idOf('three.test'), 'deny');
    expect(await held[2]?.promise).toMatchObject(deny('denied'));
    expect(held[0]?.settled()).toBe(false);
    expect(held[1]?.settled()).toBe(false);

    await state.writeDecision(idOf('one.test'), 'allow');
    expect(await held[0]?.promise).toMatchObject(allow('approved'));
    expect(held[1]?.settled()).toBe(false);
    expect((await state.listPending()).map((p) => p.id)).toContain(idOf('two.test'));

    await state.writeDecision(idOf('two.test'), 'allow');
    expect(await held[1]?.promise).toMatchObject(allow('approved'));
    const channels = await Promise.all(held.map(async (h) => (await h.promise).channel));
    expect(new Set(channels).size).toBe(3);
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

async function fileNames(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => !n.startsWith('.'));
}
