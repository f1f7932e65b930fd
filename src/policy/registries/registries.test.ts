/** The registry lookups' parsers and each client's lookup against fake outputs (made-up hosts only). */
import { describe, expect, it } from 'vitest';
import { deb822SourceUris, lookupApt, oneLineSourceUris } from './apt.js';
import { cargoRegistries, lookupCargo, tomlStrings } from './cargo.js';
import { commandProblem, entryOfUrl, type ClientHost, type CommandResult } from './client-host.js';
import { goProxyEntries, goSumdbEntries, lookupGo } from './go.js';
import { lookupNpm, npmRegistryUrls } from './npm.js';
import { lookupPip, parsePipConfigList, parsePipDefaults, PIP_DEFAULT_INDEX_PROGRAM } from './pip.js';

/** A host whose commands answer from a table ("file arg arg" -> result) and whose files are a map. */
function fakeHost(o: { commands?: Record<string, CommandResult | string>; files?: Record<string, string>; env?: NodeJS.ProcessEnv; home?: string }): ClientHost & { ran: string[] } {
  const ran: string[] = [];
  return {
    ran,
    env: o.env ?? {},
    home: o.home ?? '/home/ada',
    run: (file, args) => {
      const key = [file, ...args].join(' ');
      ran.push(key);
      const answer = o.commands?.[key];
      return Promise.resolve(answer === undefined ? { kind: 'missing' } : typeof answer === 'string' ? { kind: 'ok', stdout: answer } : answer);
    },
    readText: (path) => Promise.resolve(o.files?.[path]),
    listDir: (path) => Promise.resolve(Object.keys(o.files ?? {}).filter((f) => f.startsWith(`${path}/`)).map((f) => f.slice(path.length + 1))),
  };
}

describe('entryOfUrl', () => {
  it.each([
    ['https://registry.test/', 'registry.test'],
    ['https://Mirror.Example.Test/npm/', 'mirror.example.test'],
    ['http://mirror.example.test:8080/simple', 'mirror.example.test:8080'],
    ['https://mirror.example.test:443/x', 'mirror.example.test'],
    ['http://mirror.example.test:80/x', 'mirror.example.test'],
    ['sparse+https://index.example.test/', 'index.example.test'],
    ['mirror+http://mirrors.example.test/list.txt', 'mirrors.example.test'],
    ['http://10.1.2.3:3142/debian', 'ip:10.1.2.3:3142'],
    ['http://[fd00::5]/debian', 'ip:[fd00::5]'],
    ['http://[fd00::5]:3142/debian', 'ip:[fd00::5]:3142'],
    ['https://user:secret@private.example.test/simple', 'private.example.test'],
  ])('%s -> %s', (url, entry) => {
    expect(entryOfUrl(url)).toBe(entry);
  });

  it.each(['file:///opt/wheelhouse/simple', '/opt/wheels', 'cdrom:[Debian]/', 'mirror+file:/etc/apt/mirrors.txt', 'ssh://git@code.example.test/x', 'not a url', ''])('%j names no host', (url) => {
    expect(entryOfUrl(url)).toBeUndefined();
  });
});

describe('npm', () => {
  const list = JSON.stringify({ json: true, registry: 'https://registry.test/', '@corp:registry': 'https://npm.corp.example.test:8443/', '@other:registry': 'https://registry.test/', 'replace-registry-host': 'registry.test', cache: '/home/ada/.npm' });

  it('reads the registry and every scoped registry from npm config list --json', () => {
    expect(npmRegistryUrls(list)).toEqual(['https://registry.test/', 'https://npm.corp.example.test:8443/', 'https://registry.test/']);
    expect(npmRegistryUrls('not json')).toEqual([]);
    expect(npmRegistryUrls('[1,2]')).toEqual([]);
  });

  it('gives the hosts, each once, plus yarn 2+ (npmRegistryServer) when yarn is installed', async () => {
    const host = fakeHost({ commands: { 'npm config list --json': list, 'yarn config get npmRegistryServer': 'https://yarn.example.test\n' } });
    expect(await lookupNpm(host)).toEqual({ entries: ['registry.test', 'npm.corp.example.test:8443', 'yarn.example.test'] });
  });

  it("asks yarn 1 for its registry when it does not know npmRegistryServer", async () => {
    const host = fakeHost({ commands: { 'npm config list --json': list, 'yarn config get npmRegistryServer': 'undefined\n', 'yarn config get registry': 'https://classic.example.test/\n' } });
    expect((await lookupNpm(host)).entries).toContain('classic.example.test');
  });

  it('says npm is not installed when it is not, and that it failed when it did', async () => {
    expect(await lookupNpm(fakeHost({}))).toEqual({ entries: [], problem: 'npm is not installed here' });
    const failed = await lookupNpm(fakeHost({ commands: { 'npm config list --json': { kind: 'failed', detail: 'npm ERR! something\u001b[31m' } } }));
    expect(failed.problem).toBe('`npm config list` failed (npm ERR! something [31m)');
    const late = await lookupNpm(fakeHost({ commands: { 'npm config list --json': { kind: 'timeout', seconds: 10 } } }));
    expect(late.problem).toBe('`npm config list` did not answer within 10 s');
  });
});

describe('pip', () => {
  const defaults = 'https://index.example.test/\nfiles.example.test\n';

  it('parses pip config list: URLs of every section, whether an install index is set, no-index', () => {
    const out = [
      ":env:.cert='/etc/ssl/certs/ca-certificates.crt'",
      ":env:.extra-index-url='https://b.example.test/s https://c.example.test/s'",
      "global.find-links='/opt/wheels'",
      "global.extra-index-url='file:///opt/wheelhouse/simple\\nhttps://d.example.test/simple'",
      "download.index-url='https://dl.example.test/simple'",
    ].join('\n');
    expect(parsePipConfigList(out)).toEqual({
      urls: ['https://b.example.test/s', 'https://c.example.test/s', '/opt/wheels', 'file:///opt/wheelhouse/simple', 'https://d.example.test/simple', 'https://dl.example.test/simple'],
      indexSet: false,
      noIndex: false,
    });
    expect(parsePipConfigList("install.index-url='https://i.example.test/simple'").indexSet).toBe(true);
    expect(parsePipConfigList("global.no-index='true'").noIndex).toBe(true);
    expect(parsePipDefaults(defaults)).toEqual(['index.example.test', 'files.example.test']);
  });

  it("adds pip's own default index while no index-url is set", async () => {
    const host = fakeHost({ commands: { 'python3 -m pip config list': "global.extra-index-url='https://extra.example.test/simple'\n", [`python3 -c ${PIP_DEFAULT_INDEX_PROGRAM}`]: defaults } });
    expect(await lookupPip(host)).toEqual({ entries: ['index.example.test', 'files.example.test', 'extra.example.test'] });
  });

  it('uses only the configured index when one is set (PIP_INDEX_URL shows as :env:)', async () => {
    const host = fakeHost({ commands: { 'python3 -m pip config list': ":env:.index-url='https://mirror.example.test/simple'\n", [`python3 -c ${PIP_DEFAULT_INDEX_PROGRAM}`]: defaults } });
    expect(await lookupPip(host)).toEqual({ entries: ['mirror.example.test'] });
  });

  it('says what is missing: python3, pip, or any index host', async () => {
    expect((await lookupPip(fakeHost({}))).problem).toBe('python3 is not installed here');
    const noPip = { kind: 'failed', detail: '/usr/bin/python3: No module named pip' } as const;
    expect((await lookupPip(fakeHost({ commands: { 'python3 -m pip config list': noPip, [`python3 -c ${PIP_DEFAULT_INDEX_PROGRAM}`]: noPip } }))).problem).toBe('pip is not installed here');
    const noIndex = fakeHost({ commands: { 'python3 -m pip config list': "global.no-index='1'\n", [`python3 -c ${PIP_DEFAULT_INDEX_PROGRAM}`]: defaults } });
    expect(await lookupPip(noIndex)).toEqual({ entries: [], problem: 'pip is configured with no-index' });
  });
});

describe('apt', () => {
  const sources = { list: '/etc/apt/sources.list', parts: '/etc/apt/sources.list.d' };

  it('reads one-line sources, with options, deb-src and comments', () => {
    const text = [
      '# deb http://commented.example.test/debian bookworm main',
      'deb http://mirror.example.test/debian bookworm main',
      'deb [ arch=amd64 signed-by=/usr/share/keyrings/x.gpg ] https://extra.example.test/apt stable main # trailing',
      'deb-src [trusted=yes] http://src.example.test/debian bookworm main',
      '',
    ].join('\n');
    expect(oneLineSourceUris(text)).toEqual(['http://mirror.example.test/debian', 'https://extra.example.test/apt', 'http://src.example.test/debian']);
  });

  it('reads deb822 stanzas: several URIs, folded lines, comments, and skips Enabled: no', () => {
    const text = [
      'Types: deb',
      '# a comment inside a stanza',
      'URIs: http://a.example.test/debian http://b.example.test/debian',
      'Suites: bookworm',
      '',
      'Types: deb',
      'uris: https://c.example.test/debian',
      ' https://d.example.test/debian',
      'Suites: bookworm',
      '',
      'Enabled: no',
      'Types: deb',
      'URIs: http://off.example.test/debian',
    ].join('\n');
    expect(deb822SourceUris(text)).toEqual(['http://a.example.test/debian', 'http://b.example.test/debian', 'https://c.example.test/debian', 'https://d.example.test/debian']);
  });

  it('collects the hosts of sources.list and of the *.list and *.sources parts, nothing else', async () => {
    const host = fakeHost({
      files: {
        '/etc/apt/sources.list': 'deb http://mirror.example.test/debian bookworm main\n',
        '/etc/apt/sources.list.d/extra.list': 'deb http://10.0.0.9:3142/debian bookworm main\n',
        '/etc/apt/sources.list.d/debian.sources': 'Types: deb\nURIs: http://mirror.example.test/debian-security\n',
        '/etc/apt/sources.list.d/old.list.disabled': 'deb http://disabled.example.test/debian bookworm main\n',
      },
    });
    expect(await lookupApt(host, sources)).toEqual({ entries: ['mirror.example.test', 'ip:10.0.0.9:3142'] });
  });

  it('says when there are no sources, or none with a host', async () => {
    expect((await lookupApt(fakeHost({}), sources)).problem).toBe("apt's sources were not found here (/etc/apt/sources.list, /etc/apt/sources.list.d)");
    expect((await lookupApt(fakeHost({ files: { '/etc/apt/sources.list': 'deb file:/srv/repo ./\n' } }), sources)).problem).toMatch(/name no http or https host/);
  });
});

describe('go', () => {
  it('reads GOPROXY lists (comma and pipe), skipping direct and off', () => {
    expect(goProxyEntries('https://proxy.example.test,https://fallback.example.test|direct')).toEqual(['proxy.example.test', 'fallback.example.test']);
    expect(goProxyEntries('direct')).toEqual([]);
    expect(goProxyEntries('off')).toEqual([]);
    expect(goProxyEntries('file:///srv/goproxy,https://p.example.test:8443')).toEqual(['p.example.test:8443']);
  });

  it('reads GOSUMDB: a name, a name with key and URL, or off', () => {
    expect(goSumdbEntries('sum.example.test')).toEqual(['sum.example.test']);
    expect(goSumdbEntries('sum.example.test+abc123 https://sumdb.mirror.example.test/db')).toEqual(['sumdb.mirror.example.test']);
    expect(goSumdbEntries('off')).toEqual([]);
  });

  it('gives proxy and checksum database hosts from go env, or says why not', async () => {
    const host = fakeHost({ commands: { 'go env GOPROXY GOSUMDB': 'https://proxy.example.test,direct\nsum.example.test\n' } });
    expect(await lookupGo(host)).toEqual({ entries: ['proxy.example.test', 'sum.example.test'] });
    expect((await lookupGo(fakeHost({}))).problem).toBe('go is not installed here');
    expect((await lookupGo(fakeHost({ commands: { 'go env GOPROXY GOSUMDB': 'direct\noff\n' } }))).problem).toMatch(/^GOPROXY is direct or off/);
  });
});

describe('cargo', () => {
  it('reads the TOML cargo uses: tables, quoted keys, dotted keys, inline tables, comments', () => {
    const text = [
      '# a comment',
      '[source.crates-io]',
      'replace-with = "corp" # trailing',
      '[source."corp"]',
      "registry = 'sparse+https://cargo.corp.example.test/index/'",
      '[registries]',
      'other = { index = "https://other.example.test/git/index", token = "t" }',
      'third.index = "sparse+https://third.example.test:8443/"',
      '[[bin]]',
      'registry = "https://ignored.example.test/"',
      '[http]',
      'timeout = 30',
      'multi = """',
    ].join('\n');
    expect(tomlStrings(text)).toEqual([
      [['source', 'crates-io', 'replace-with'], 'corp'],
      [['source', 'corp', 'registry'], 'sparse+https://cargo.corp.example.test/index/'],
      [['registries', 'other', 'index'], 'https://other.example.test/git/index'],
      [['registries', 'other', 'token'], 't'],
      [['registries', 'third', 'index'], 'sparse+https://third.example.test:8443/'],
    ]);
    expect(cargoRegistries(text)).toEqual({
      urls: ['sparse+https://cargo.corp.example.test/index/', 'https://other.example.test/git/index', 'sparse+https://third.example.test:8443/'],
      defaultReplaced: true,
    });
  });

  it('reads $CARGO_HOME/config.toml and CARGO_REGISTRIES_*_INDEX; a replaced crates-io leaves no warning', async () => {
    const host = fakeHost({
      env: { CARGO_HOME: '/opt/cargo', CARGO_REGISTRIES_EXTRA_INDEX: 'sparse+https://extra.example.test/' },
      files: { '/opt/cargo/config.toml': '[source.crates-io]\nreplace-with = "m"\n[source.m]\nregistry = "sparse+https://mirror.example.test/"\n' },
    });
    expect(await lookupCargo(host)).toEqual({ entries: ['mirror.example.test', 'extra.example.test'] });
  });

  it('reads ~/.cargo/config (the older name) when CARGO_HOME is not set', async () => {
    const host = fakeHost({ home: '/home/ada', files: { '/home/ada/.cargo/config': '[source.crates-io]\nreplace-with = "m"\n[source.m]\nregistry = "https://mirror.example.test/"\n' } });
    expect((await lookupCargo(host)).entries).toEqual(['mirror.example.test']);
  });

  it('says that cargo does not report its default registry, with or without other registries', async () => {
    expect((await lookupCargo(fakeHost({}))).problem).toBe('cargo has no registry configured in /home/ada/.cargo/config.toml and does not report its default one');
    const some = await lookupCargo(fakeHost({ files: { '/home/ada/.cargo/config.toml': '[registries.corp]\nindex = "https://corp.example.test/index"\n' } }));
    expect(some).toEqual({ entries: ['corp.example.test'], problem: 'cargo does not report its default registry, only the ones configured in /home/ada/.cargo/config.toml' });
  });
});

describe('commandProblem', () => {
  it('names the program that is missing', () => {
    expect(commandProblem('go env', { kind: 'missing' })).toBe('go is not installed here');
  });
});
