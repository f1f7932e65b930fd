import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anyText, notOneLine, outcomes, RUNS, TIMEOUT } from '../../test/fuzz/arbitraries.js';
import { ConfigError } from '../errors.js';
import { authFiles, findRegistryAuth, lookup, normalizeKey, parseAuthFile, readAuthFile } from './registry-auth.js';

const b64 = (text: string): string => Buffer.from(text).toString('base64');
const REG = 'registry.test:5000';

describe('authFiles', () => {
  it("Docker reads its CLI's config file, honouring DOCKER_CONFIG", () => {
    expect(authFiles('docker', {}, '/home/u')).toEqual(['/home/u/.docker/config.json']);
    expect(authFiles('docker', { DOCKER_CONFIG: '/etc/dc', REGISTRY_AUTH_FILE: '/x.json' }, '/home/u')).toEqual(['/etc/dc/config.json']);
  });
  it("Podman reads REGISTRY_AUTH_FILE alone, else the runtime dir's, the config dir's and Docker's files", () => {
    expect(authFiles('podman', { REGISTRY_AUTH_FILE: '/x.json', XDG_RUNTIME_DIR: '/run/user/1' }, '/home/u')).toEqual(['/x.json']);
    expect(authFiles('podman', { XDG_RUNTIME_DIR: '/run/user/1' }, '/home/u')).toEqual([
      '/run/user/1/containers/auth.json',
      '/home/u/.config/containers/auth.json',
      '/home/u/.docker/config.json',
    ]);
    expect(authFiles('podman', {}, '/home/u')).toEqual(['/home/u/.config/containers/auth.json', '/home/u/.docker/config.json']);
  });
});

describe('lookup', () => {
  it('decodes auth (base64 of user:password; the password may hold colons)', () => {
    const found = lookup({ auths: { [REG]: { auth: b64('alice:s3:cr:et') } } }, '/f.json', REG, `${REG}/team/base`);
    expect(found).toEqual({ file: '/f.json', credentials: { username: 'alice', password: 's3:cr:et', serveraddress: REG } });
  });
  it('takes username and password, or an identity token', () => {
    expect(lookup({ auths: { [REG]: { username: 'u', password: 'p' } } }, 'f', REG, REG)?.credentials).toEqual({ username: 'u', password: 'p', serveraddress: REG });
    expect(lookup({ auths: { [REG]: { identitytoken: 't' } } }, 'f', REG, REG)?.credentials).toEqual({ identitytoken: 't', serveraddress: REG });
  });
  it('matches keys written with a scheme and API path, and the most specific repository key first', () => {
    const file = {
      auths: {
        [`https://${REG}/v1/`]: { auth: b64('host:1') },
        [`${REG}/team`]: { auth: b64('team:2') },
        [`${REG}/team/base`]: { auth: b64('repo:3') },
      },
    };
    expect(lookup(file, 'f', REG, `${REG}/team/base`)?.credentials?.username).toBe('repo');
    expect(lookup(file, 'f', REG, `${REG}/team/other`)?.credentials?.username).toBe('team');
    expect(lookup(file, 'f', REG, `${REG}/solo`)?.credentials?.username).toBe('host');
    expect(lookup(file, 'f', 'other.test', 'other.test/x')).toBeUndefined();
  });
  it("finds a default registry's credentials under its index address (as Docker's info names it)", () => {
    const file = { auths: { 'https://index.hub.test/v1/': { auth: b64('me:pw') } } };
    expect(lookup(file, 'f', 'https://index.hub.test/v1/', 'library/debian')?.credentials?.username).toBe('me');
    expect(lookup(file, 'f', 'hub.test', 'hub.test/library/debian')?.credentials?.username).toBe('me');
  });
  it('reports a credential helper it does not run in one line, and gives no credentials', () => {
    const helpers = lookup({ auths: { [REG]: {} }, credHelpers: { [REG]: 'ecr-login' } }, '/h/.docker/config.json', REG, REG);
    expect(helpers).toEqual({ file: '/h/.docker/config.json', notice: expect.stringMatching(/credential helpers \(docker-credential-ecr-login, named in \/h\/\.docker\/config\.json\), so registry\.test:5000 is asked without credentials/) as string });
    expect(helpers?.notice).not.toContain('\n');
    expect(lookup({ auths: { [REG]: {} }, credsStore: 'desktop' }, 'f', REG, REG)?.notice).toContain('docker-credential-desktop');
    // Inline credentials win over a store.
    expect(lookup({ auths: { [REG]: { auth: b64('a:b') } }, credsStore: 'desktop' }, 'f', REG, REG)?.credentials?.username).toBe('a');
  });
  it('normalizes keys', () => {
    expect(normalizeKey('https://Registry.Test:5000/v2/')).toBe('registry.test:5000');
    expect(normalizeKey('http://registry.test/')).toBe('registry.test');
  });
});

describe('parseAuthFile', () => {
  it('accepts the keys other tools write and an empty file', () => {
    expect(parseAuthFile('{"auths":{},"HttpHeaders":{"User-Agent":"x"},"currentContext":"y"}', 'f')).toMatchObject({ auths: {} });
    expect(parseAuthFile('', 'f')).toEqual({});
  });
  it('names the file, the JSON path and what was expected, and never the value (it may be a secret)', () => {
    const cases: Array<[string, RegExp]> = [
      [`{"auths":{"${REG}":{"auth":"bm9jb2xvbg=="}}}`, /^\/c\.json: auths\["registry\.test:5000"\]\.auth: expected base64 of "username:password"; fix it or remove it/],
      [`{"auths":{"${REG}":"c2VjcmV0OnB3"}}`, /^\/c\.json: auths\["registry\.test:5000"\]: expected a JSON object;/],
      ['{"auths":[]}', /^\/c\.json: auths: expected a JSON object;/],
      [`{"auths":{"${REG}":{"password":12345}}}`, /^\/c\.json: auths\["registry\.test:5000"\]\.password: expected a string;/],
      ['{"credsStore":true}', /^\/c\.json: credsStore: expected a string;/],
      ['[]', /^\/c\.json: \(top level\): expected a JSON object;/],
      ['{"auths": {', /^\/c\.json:1:12: invalid JSON;/],
      ['{"auths": {"r.test": {"auth": "c2VjcmV0OnB3" x}}}', /^\/c\.json:1:\d+: invalid JSON;/],
    ];
    for (const [text, message] of cases) {
      let error: unknown;
      try {
        parseAuthFile(text, '/c.json');
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).message).toMatch(message);
      for (const secret of ['bm9jb2xvbg', 'c2VjcmV0OnB3', '12345']) expect((error as ConfigError).message).not.toContain(secret);
    }
  });
});

describe('reading the files', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'paude-auth-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('skips missing files and takes the first file that has an entry for the registry', async () => {
    const a = join(dir, 'a.json');
    const b = join(dir, 'b.json');
    await writeFile(a, JSON.stringify({ auths: { 'other.test': { auth: b64('x:y') } } }));
    await writeFile(b, JSON.stringify({ auths: { [REG]: { auth: b64('bob:pw') } } }));
    expect(await readAuthFile(join(dir, 'missing.json'))).toBeUndefined();
    expect(await findRegistryAuth(REG, `${REG}/base`, [join(dir, 'missing.json'), a, b])).toEqual({ file: b, credentials: { username: 'bob', password: 'pw', serveraddress: REG } });
    expect(await findRegistryAuth('nowhere.test', 'nowhere.test/base', [a, b])).toEqual({});
  });

  it('says when a file cannot be read', async () => {
    await mkdir(join(dir, 'adir.json'));
    await expect(readAuthFile(join(dir, 'adir.json'))).rejects.toThrow(/adir\.json: cannot be read \(it is a directory\)/);
  });
});

describe('auth files of any content (fuzz)', () => {
  const SECRET = 'Zq9SECRETx7';
  const secretValue = fc.constantFrom(SECRET, b64(`u:${SECRET}`), b64(SECRET), `${SECRET}:pw`);
  const entry = fc.oneof(
    fc.record({ auth: fc.oneof(secretValue, fc.jsonValue()), username: fc.oneof(fc.string(), fc.jsonValue()), password: fc.oneof(secretValue, fc.jsonValue()), identitytoken: fc.oneof(secretValue, fc.jsonValue()) }, { requiredKeys: [] }),
    secretValue,
    fc.jsonValue(),
  );
  const file = fc.oneof(
    fc.record({ auths: fc.oneof(fc.dictionary(fc.oneof(fc.constant(REG), anyText(12)), entry, { maxKeys: 3 }), fc.jsonValue()), credsStore: fc.oneof(fc.string(), fc.jsonValue()), credHelpers: fc.oneof(fc.dictionary(anyText(8), fc.oneof(fc.string(), fc.jsonValue())), fc.jsonValue()) }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
    fc.jsonValue().map((v) => JSON.stringify(v)),
    // Well formed, with whatever else such files hold.
    fc
      .record({ user: fc.string({ maxLength: 8 }).filter((u) => !u.includes(':')), extra: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue(), { maxKeys: 3 }), helper: fc.option(anyText(8)) })
      .map(({ user, extra, helper }) => JSON.stringify({ ...extra, auths: { [REG]: { auth: b64(`${user}:${SECRET}`) } }, ...(helper === null ? {} : { credHelpers: { [REG]: helper } }) })),
    // Broken JSON around a secret: the parser's own message would quote it.
    fc.tuple(anyText(10), secretValue, anyText(10)).map(([a, s, b]) => `{"auths":{"${REG}":{"auth":"${s}"${a}}}${b}`),
    anyText(60),
  );
  it('parses or refuses in one line that names the file and never shows a value', () => {
    const seen = outcomes();
    fc.assert(
      fc.property(file, (text) => {
        let value: ReturnType<typeof parseAuthFile> | undefined;
        try {
          value = parseAuthFile(text, '/h/.docker/config.json');
        } catch (error) {
          expect(error).toBeInstanceOf(ConfigError);
          const message = (error as ConfigError).message;
          expect(message.startsWith('/h/.docker/config.json')).toBe(true);
          expect(notOneLine(message)).toBeUndefined();
          expect(message).not.toContain(SECRET);
          expect(message).not.toContain(b64(SECRET).slice(0, 10));
          seen.count(/invalid JSON/.test(message) ? 'not JSON' : 'refused');
          return;
        }
        const found = lookup(value, '/h/.docker/config.json', REG, `${REG}/base`);
        seen.count(found?.credentials ? 'credentials' : 'parsed');
        if (found?.notice !== undefined) expect(notOneLine(found.notice)).toBeUndefined();
      }),
      { numRuns: RUNS },
    );
    seen.expectEach(100, 'not JSON', 'refused', 'parsed', 'credentials');
  }, TIMEOUT);
});
