import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { SQUID_CONF_LINES } from '../../test/support/proxy-grammar.js';
import { itNeeds } from '../../test/support/requirements.js';
import { ACCESS_LOG_FORMAT, DEFAULT_BLOCKED_DESTINATIONS, renderSquidConfig, type SquidConfigInput, providerKeyConf } from './squid-config.js';

const BASE: SquidConfigInput = {
  sessionId: 'paude-abcd1234',
  agentAddress: '127.0.0.1',
  listenPort: 3128,
  stateDir: '/run/paude',
  helperPath: '/usr/lib/paude/policy-helper',
  errorDirectory: '/etc/paude/squid-errors',
  blockedDestinations: DEFAULT_BLOCKED_DESTINATIONS,
};

/** Creates an empty file (squid's include of the entry point's IPv6 file needs one) and returns its path. */
async function emptyFile(path: string): Promise<string> {
  await writeFile(path, '');
  return path;
}

const lines = (input: Partial<SquidConfigInput> = {}): string[] => renderSquidConfig({ ...BASE, ...input }).split('\n');

describe('renderSquidConfig: what the proxy is told', () => {
  it('listens on loopback only (the agent reaches it through the session link)', () => {
    const listen = lines().filter((l) => l.startsWith('http_port'));
    expect(listen).toEqual(['http_port 127.0.0.1:3128']);
    expect(lines({ listenPort: 8080 })).toContain('http_port 127.0.0.1:8080');
  });

  it('asks the policy helper about every request: no caching of answers, one helper with concurrency', () => {
    const helper = lines().filter((l) => l.startsWith('external_acl_type'));
    expect(helper).toEqual([
      'external_acl_type paude_policy ttl=0 negative_ttl=0 grace=0 concurrency=200 children-max=1 children-startup=1 %>a %DST %PORT %METHOD /usr/lib/paude/policy-helper /run/paude paude-abcd1234',
    ]);
  });

  it('never serves the cache manager, then serves only the agent, then the policy, then the blocked destinations, in that order', () => {
    const access = lines().filter((l) => l.startsWith('http_access'));
    expect(access).toEqual(['http_access deny manager', 'http_access deny !agent', 'http_access deny !paude_policy', 'http_access deny blocked_dst', 'http_access allow agent', 'http_access deny all']);
    expect(lines()).toContain('acl agent src 127.0.0.1/32');
    expect(lines({ agentAddress: '::1' })).toContain('acl agent src ::1/128');
  });

  it('blocks cloud metadata and the proxy\'s own loopback whatever the policy says', () => {
    expect(lines()).toContain('acl blocked_dst dst 169.254.0.0/16 127.0.0.0/8 0.0.0.0/8 fe80::/10 ::1/128');
  });

  it('includes, before any rule that lets a request through, the IPv6 file the entry point writes (IPv6 literals refused when squid has no IPv6)', () => {
    const conf = lines();
    expect(conf).toContain('acl paude_ipv6_literal dstdom_regex -n :');
    expect(conf.indexOf('include /tmp/paude-ipv6.conf')).toBeGreaterThan(conf.indexOf('http_access deny manager'));
    expect(conf.indexOf('include /tmp/paude-ipv6.conf')).toBeLessThan(conf.indexOf('http_access deny !agent'));
    expect(() => renderSquidConfig({ ...BASE, ipv6Conf: '/tmp/x\nhttp_access allow all' })).toThrow(/invalid path/);
  });

  it('answers a denial with paude\'s own error page and an X-Paude-Denied header naming the host', () => {
    const conf = lines();
    expect(conf).toContain('deny_info ERR_PAUDE_DENIED paude_policy');
    expect(conf).toContain('error_directory /etc/paude/squid-errors');
    expect(conf).toContain('acl paude_denied note decision deny');
    expect(conf).toContain('reply_header_add X-Paude-Denied "%DST" paude_denied');
  });

  it('logs every request in the format proxy-event.ts reads, into the state directory', () => {
    const conf = lines();
    expect(conf).toContain(`logformat paude ${ACCESS_LOG_FORMAT}`);
    expect(conf).toContain('access_log stdio:/run/paude/log/access.log logformat=paude');
    expect(conf).toContain('cache_log /run/paude/log/cache.log');
    expect(ACCESS_LOG_FORMAT.split(' ')).toHaveLength(11);
  });

  it('caches nothing and does not announce itself', () => {
    const conf = lines();
    for (const d of ['cache deny all', 'via off', 'forwarded_for delete', 'httpd_suppress_version_string on']) expect(conf).toContain(d);
  });
});

describe('renderSquidConfig: refuses values that could change its meaning', () => {
  it.each([
    ['sessionId', 'paude-ABCD'],
    ['sessionId', 'paude-abc'],
    ['sessionId', 'other-abcd1234'],
    ['sessionId', 'paude-abcd1234\nhttp_access allow all'],
    ['sessionId', 'paude-abcd1234 extra'],
    ['agentAddress', 'localhost'],
    ['agentAddress', '127.0.0.1/8'],
    ['agentAddress', '127.0.0.1 all'],
    ['agentAddress', ''],
    ['stateDir', 'run/paude'],
    ['stateDir', '/run/paude dir'],
    ['stateDir', '/run/paude\nhttp_access allow all'],
    ['helperPath', '/usr/lib/paude/policy-helper;rm -rf /'],
    ['errorDirectory', '/etc/paude/squid-errors"'],
  ] as const)('%s %j', (key, value) => {
    expect(() => renderSquidConfig({ ...BASE, [key]: value })).toThrow(/^refusing to render squid\.conf: invalid /);
  });

  it.each([0, -1, 65536, 3128.5, Number.NaN])('listen port %s', (listenPort) => {
    expect(() => renderSquidConfig({ ...BASE, listenPort })).toThrow(/invalid listen port/);
  });

  it.each(['10.0.0.0', '10.0.0.0/8 all', 'example.com/32', '10.0.0.0/8\nhttp_access allow all', '/8', 'zz::/8'])('blocked destination %j', (cidr) => {
    expect(() => renderSquidConfig({ ...BASE, blockedDestinations: [cidr] })).toThrow(/invalid destination/);
  });

  it('names the offending value in the error', () => {
    expect(() => renderSquidConfig({ ...BASE, sessionId: 'bad id' })).toThrow('invalid session id "bad id"');
  });
});

const hostile = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme-ascii', maxLength: 40 }),
  fc
    .array(
      fc.oneof(
        fc.constantFrom('paude-', 'abcd', '1234', '127.0.0.1', '::1', 'fe80::1', '%', 'eth0', '/', '\n', '\r', ' ', '\t', '#', 'http_access allow all', '\u2028', '\u0000', '/32'),
        fc.ipV4(),
        fc.ipV6(),
      ),
      { maxLength: 6 },
    )
    .map((parts) => parts.join('')),
);

const sessionIdish = fc.oneof(hostile, fc.stringMatching(/^paude-[a-z0-9]{4,32}$/), fc.stringMatching(/^paude-[a-z0-9]{4,32}$/).map((id) => `${id}\n`));
const agentAddressish = fc.oneof(
  hostile,
  fc.ipV4(),
  fc.ipV6(),
  fc.tuple(fc.ipV6(), fc.string({ unit: 'grapheme-ascii', maxLength: 8 })).map(([ip, zone]) => `${ip}%${zone}`),
);

describe('renderSquidConfig: property', () => {
  it('for arbitrary session ids and agent addresses, it throws or renders only the fixed directive shapes', () => {
    let rendered = 0;
    fc.assert(
      fc.property(sessionIdish, agentAddressish, (sessionId, agentAddress) => {
        let text: string;
        try {
          text = renderSquidConfig({ ...BASE, sessionId, agentAddress });
        } catch (error) {
          expect((error as Error).message).toMatch(/^refusing to render squid\.conf: invalid (session id|agent address) /);
          return;
        }
        rendered++;
        const out = text.split('\n');
        expect(out.pop()).toBe('');
        expect(out).toHaveLength(lines().length - 1);
        for (const line of out) expect(SQUID_CONF_LINES.some((shape) => shape.test(line)), line).toBe(true);
      }),
      { numRuns: 3000 },
    );
    expect(rendered).toBeGreaterThan(100);
  }, 30_000);
});

// ---- The real squid, if this machine has it: does it accept what we render? ----

const SQUID = '/usr/sbin/squid';
const HELPER = fileURLToPath(new URL('../../assets/proxy/policy-helper', import.meta.url));
const ERROR_PAGE = fileURLToPath(new URL('../../assets/proxy/ERR_PAUDE_DENIED', import.meta.url));
const itSquid = itNeeds(existsSync(SQUID), `squid at ${SQUID} (Debian package "squid")`);

describe('renderSquidConfig: squid -k parse', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  itSquid('squid accepts the rendered configuration', async () => {
    const root = await mkdtemp(join(tmpdir(), 'paude-squid-conf-'));
    dirs.push(root);
    const state = join(root, 'state');
    const errors = join(root, 'errors');
    await mkdir(join(state, 'log'), { recursive: true });
    await mkdir(errors);
    // The proxy image copies squid's templates next to ours; do the same.
    const templates = '/usr/share/squid/errors/templates';
    if (existsSync(templates)) for (const f of await readdir(templates)) await copyFile(join(templates, f), join(errors, f));
    await copyFile(ERROR_PAGE, join(errors, 'ERR_PAUDE_DENIED'));
    const conf = join(root, 'squid.conf');
    for (const agentAddress of ['127.0.0.1', '::1']) {
      // Both versions of the entry point's IPv6 file.
      for (const ipv6 of ['', 'http_access deny paude_ipv6_literal\n']) {
        await writeFile(join(root, 'paude-ipv6.conf'), ipv6);
        await writeFile(conf, renderSquidConfig({ ...BASE, agentAddress, stateDir: state, helperPath: HELPER, errorDirectory: errors, ipv6Conf: join(root, 'paude-ipv6.conf') }));
      const result = spawnSync(SQUID, ['-k', 'parse', '-f', conf], { encoding: 'utf8', timeout: 10_000 });
      const output = `${result.stdout}${result.stderr}`;
      expect(result.status, output).toBe(0);
      expect(output).not.toMatch(/FATAL|ERROR:|Bungled|unrecognized/i);
      }
    }
  }, 20_000);

  itSquid('squid accepts the provider route (TLS peer, header rules, notes, the included key)', async () => {
    const root = await mkdtemp(join(tmpdir(), 'paude-squid-conf-'));
    dirs.push(root);
    await mkdir(join(root, 'log'));
    await writeFile(join(root, 'provider.conf'), providerKeyConf('sk-ant-api03-test_KEY-1'));
    const conf = join(root, 'squid.conf');
    for (const tls of [true, false]) {
      await writeFile(conf, renderSquidConfig({ ...BASE, stateDir: root, helperPath: HELPER, errorDirectory: root, ipv6Conf: await emptyFile(join(root, 'paude-ipv6.conf')), provider: { listenPort: 3129, host: 'api.anthropic.com', port: tls ? 443 : 8080, tls, keyFile: join(root, 'provider.conf') } }));
      const result = spawnSync(SQUID, ['-k', 'parse', '-f', conf], { encoding: 'utf8', timeout: 10_000 });
      const output = `${result.stdout}${result.stderr}`;
      expect(result.status, output).toBe(0);
      expect(output).not.toMatch(/FATAL|ERROR:|Bungled|unrecognized/i);
    }
  }, 20_000);

  itSquid('squid refuses a configuration with a stray directive (the check above can fail)', async () => {
    const root = await mkdtemp(join(tmpdir(), 'paude-squid-conf-'));
    dirs.push(root);
    const conf = join(root, 'squid.conf');
    await writeFile(conf, renderSquidConfig({ ...BASE, stateDir: root, helperPath: HELPER, errorDirectory: root, ipv6Conf: await emptyFile(join(root, 'paude-ipv6.conf')) }) + 'not_a_directive on\n');
    const result = spawnSync(SQUID, ['-k', 'parse', '-f', conf], { encoding: 'utf8', timeout: 10_000 });
    expect(result.status).not.toBe(0);
  }, 20_000);
});

describe('renderSquidConfig: the provider route', () => {
  const base = { sessionId: 'paude-abc123', agentAddress: '127.0.0.1', listenPort: 3128, stateDir: '/run/paude', helperPath: '/usr/lib/paude/policy-helper', errorDirectory: '/etc/paude/squid-errors', blockedDestinations: ['169.254.0.0/16'] };

  it('serves the provider on its own port, to one peer, with the agent’s key headers dropped and the key included from a file', () => {
    const conf = renderSquidConfig({ ...base, provider: { listenPort: 3129, host: 'api.anthropic.com', port: 443, tls: true, keyFile: '/run/paude/provider.conf' } });
    expect(conf).toContain('http_port 127.0.0.1:3129 accel defaultsite=api.anthropic.com name=paude_provider');
    expect(conf).toContain('cache_peer api.anthropic.com parent 443 0 no-query no-digest originserver name=paude_provider_peer tls tls-cafile=/etc/ssl/certs/ca-certificates.crt');
    expect(conf).toContain('request_header_access X-Api-Key deny paude_provider');
    expect(conf).toContain('include /run/paude/provider.conf');
    // The provider port is allowed before the policy question, and only after the agent check.
    expect(conf.indexOf('http_access deny !agent')).toBeLessThan(conf.indexOf('http_access allow paude_provider'));
    expect(conf.indexOf('http_access allow paude_provider')).toBeLessThan(conf.indexOf('http_access deny !paude_policy'));
    expect(renderSquidConfig({ ...base, provider: { listenPort: 3129, host: 'stub.test', port: 8080, tls: false, keyFile: '/run/paude/provider.conf' } })).toContain('defaultsite=stub.test:8080');
  });

  it('refuses a provider host or key that could change the configuration', () => {
    expect(() => renderSquidConfig({ ...base, provider: { listenPort: 3129, host: 'evil.test\nhttp_access allow all', port: 443, tls: true, keyFile: '/run/paude/provider.conf' } })).toThrow(/invalid provider host/);
    expect(providerKeyConf('sk-ant-api03-abc_DEF-123')).toBe('request_header_add X-Api-Key "sk-ant-api03-abc_DEF-123" paude_provider\n');
    expect(() => providerKeyConf('sk-"\nhttp_access allow all')).toThrow(/invalid api key "\(not shown\)"/);
  });
});
