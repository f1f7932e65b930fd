/**
 * Valid paude.json and devcontainer.json contents, built from the schemas' rules by hand (not
 * from the schemas, so a schema that stops accepting what it documents is caught). Free-text
 * fields get any string at all: the schema takes them, and they must survive as written.
 */
import fc from 'fast-check';
import { BACKEND_TYPES, NETWORK_MODES, PROVIDERS } from '../../src/config/schema.js';
import { IGNORED_DEVCONTAINER_FIELDS } from '../../src/config/devcontainer-schema.js';
import { parseNetworkEntry } from '../../src/config/network-entry.js';
import { anyText, wellFormedEntry } from './arbitraries.js';

const some = <T>(arbitrary: fc.Arbitrary<T>, maxLength = 3): fc.Arbitrary<T[]> => fc.array(arbitrary, { maxLength });
const text = anyText(16);
const nonEmpty = text.filter((s) => s.length > 0);
/** A JSON number that reads back as itself (no -0). */
const number = (min: number, max: number): fc.Arbitrary<number> => fc.double({ min, max, noNaN: true }).map((n) => n + 0);
/**
 * An object with each field or not, about half of them each time (fc.record leaves out only one in
 * six, which makes files three times the size for no more coverage, and each case slower).
 */
const optional = <T extends Record<string, fc.Arbitrary<unknown>>>(fields: T): fc.Arbitrary<Partial<{ [K in keyof T]: T[K] extends fc.Arbitrary<infer U> ? U : never }>> =>
  fc.tuple(...Object.entries(fields).map(([key, arbitrary]) => fc.option(arbitrary, { freq: 2, nil: undefined }).map((value) => [key, value] as const))).map(
    (pairs) => Object.fromEntries(pairs.filter(([, value]) => value !== undefined)) as Partial<{ [K in keyof T]: T[K] extends fc.Arbitrary<infer U> ? U : never }>,
  );

/** Entries the grammar accepts (most well-formed ones; a few spell a public suffix and are dropped). */
export const validEntry = wellFormedEntry.filter((e) => parseNetworkEntry(e).ok);

const envName = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,15}$/);
/** Host names a URL parser takes as names (the last label is not numeric, so never an IPv4 address). */
const hostName = fc.stringMatching(/^([a-z0-9]([a-z0-9-]{0,6}[a-z0-9])?\.){0,2}[a-z]([a-z0-9-]{0,6}[a-z0-9])?$/);
/** Any JSON as it reads back from a file (-0 is written as 0). */
const json = fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.parse(JSON.stringify(v)) as unknown);
const workspacePath = text.filter((p) => p.length > 0 && !p.startsWith('/') && !p.split('/').includes('..') && !p.includes('\0'));
const httpUrl = fc.tuple(fc.constantFrom('http', 'https'), hostName, fc.option(fc.integer({ min: 1, max: 65535 })), fc.stringMatching(/^(\/[a-z0-9._-]{0,8}){0,3}$/)).map(
  ([scheme, host, port, path]) => `${scheme}://${host}${port === null ? '' : `:${port}`}${path}`,
);
/** A free-form map. "__proto__" is left out: the schema drops it on purpose (see read-config-file.test.ts). */
const dictionary = <T>(value: fc.Arbitrary<T>) => fc.dictionary(text.filter((k) => k !== '__proto__'), value, { maxKeys: 3, noNullPrototype: true });

const network = (project: boolean) =>
  optional({
    mode: project ? fc.constantFrom('restricted' as const, 'ask' as const) : fc.constantFrom(...NETWORK_MODES),
    allowlist: some(validEntry, 5),
    denylist: some(validEntry),
    approvalTimeoutSeconds: fc.integer({ min: 1, max: 3600 }),
    ...(project ? {} : { projectMayExtend: fc.boolean(), hosts: fc.dictionary(hostName, fc.oneof(fc.ipV4(), fc.ipV6()), { maxKeys: 3, noNullPrototype: true }) }),
  });

const auditSink = fc.oneof(
  optional({ path: nonEmpty, maxBytes: fc.integer({ min: 4096, max: 1e9 }), maxFiles: fc.integer({ min: 1, max: 100 }) }).map((s) => ({ type: 'file' as const, ...s })),
  optional({
    address: fc.tuple(fc.constantFrom('udp', 'tcp'), hostName, fc.option(fc.integer({ min: 1, max: 65535 }))).map(([p, h, port]) => `${p}://${h}${port === null ? '' : `:${port}`}`),
    facility: fc.constantFrom('user', 'daemon', 'local0', 'local7'),
  }).map((s) => ({ type: 'syslog' as const, ...s })),
  fc.record({ url: httpUrl, headers: dictionary(text) }, { requiredKeys: ['url'] }).map((s) => ({ type: 'webhook' as const, ...s })),
);

/** What a project paude.json may set: keys that add to lists, narrow or stay in the project. */
export const validProjectFile = optional({
  $schema: text,
  network: network(true),
  claude: optional({ copyHostConfig: fc.constant(false) }),
  resources: optional({ cpus: number(0.001, 1024).filter((n) => n > 0), memory: fc.stringMatching(/^[1-9][0-9]{0,4}[bkmgBKMG]?$/), pids: fc.integer({ min: 16, max: 1_000_000 }) }),
  plugins: optional({ allow: some(nonEmpty), deny: some(nonEmpty) }),
  isolate: some(workspacePath),
  protect: some(workspacePath),
  sessions: optional({ idleTimeoutMinutes: number(0, 1e6) }),
});

/** A global paude.json: every section. */
export const validGlobalFile = optional({
  $schema: text,
  network: network(false),
  provider: fc.constantFrom(...PROVIDERS),
  credentials: optional({
    anthropic: optional({ apiKeyEnv: envName, keyInProxy: fc.boolean() }),
    vertex: optional({ projectId: nonEmpty, region: nonEmpty, adcFile: nonEmpty }),
    bedrock: optional({ region: nonEmpty, profile: nonEmpty, awsDir: nonEmpty }),
    azure: optional({ resource: nonEmpty, apiKeyEnv: envName }),
    gitconfig: fc.boolean(),
  }),
  claude: optional({ copyHostConfig: fc.boolean(), persistProjectConfig: fc.boolean(), args: some(text) }),
  backend: optional({
    type: fc.constantFrom(...BACKEND_TYPES),
    podman: optional({ socket: nonEmpty }),
    docker: optional({ host: nonEmpty }),
    kubernetes: optional({
      context: nonEmpty,
      namespace: fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?$/),
      workspaceSize: fc.stringMatching(/^[1-9][0-9]{0,3}(Ki|Mi|Gi|Ti)$/),
      nodeSelector: dictionary(text),
      resources: optional({ requests: optional({ cpu: fc.stringMatching(/^[0-9]{1,4}(\.[0-9]{1,2})?m?$/) }) }),
    }),
    sshConfig: nonEmpty,
  }),
  image: optional({ base: nonEmpty, agent: nonEmpty, proxy: nonEmpty, claudeVersion: nonEmpty }),
  resources: optional({ cpus: number(0.001, 1024).filter((n) => n > 0), memory: fc.stringMatching(/^[1-9][0-9]{0,4}[bkmg]?$/), pids: fc.integer({ min: 16, max: 1_000_000 }) }),
  certificates: optional({ extra: some(nonEmpty), inheritHost: fc.boolean() }),
  telemetry: optional({
    otel: optional({ enabled: fc.boolean(), endpoint: httpUrl, protocol: fc.constantFrom('grpc', 'http/protobuf', 'http/json'), traces: fc.boolean(), service_name: nonEmpty, attributes: dictionary(text) }),
  }),
  audit: optional({ sinks: some(auditSink) }),
  plugins: optional({ allow: some(nonEmpty), deny: some(nonEmpty) }),
  isolate: some(workspacePath),
  protect: some(workspacePath),
  sessions: optional({ idleTimeoutMinutes: number(0, 1e6), detachKeys: fc.constantFrom('ctrl-]', 'ctrl-a', 'CTRL-\\', 'alt-x', 'alt-7', 'f1', 'F12') }),
  ui: optional({ theme: fc.constantFrom('auto', 'dark', 'light'), keys: dictionary(fc.oneof(text, some(text))) }),
});

/** The devcontainer.json fields paude honours and keeps in the effective configuration. */
export const HONOURED_DEVCONTAINER_FIELDS = [
  'image',
  'build',
  'containerEnv',
  'containerUser',
  'remoteUser',
  'onCreateCommand',
  'updateContentCommand',
  'postCreateCommand',
  'postStartCommand',
  'postAttachCommand',
] as const;

const command = fc.oneof(text, some(text), dictionary(fc.oneof(text, some(text))));
const nonRootUser = nonEmpty.filter((u) => u !== 'root' && u !== '0' && !u.startsWith('0:') && !u.startsWith('root:'));

/** A devcontainer.json paude accepts: an image or a build, set-up commands, and editor-only fields it ignores. */
export const validDevcontainer = fc
  .tuple(
    fc.oneof(
      fc.record({ image: nonEmpty }),
      fc.record({ build: optional({ dockerfile: nonEmpty, context: nonEmpty, args: dictionary(text), target: nonEmpty, cacheFrom: fc.oneof(text, some(text)), options: some(text) }) }),
      fc.constant({}),
    ),
    optional({
      containerEnv: dictionary(text),
      containerUser: nonRootUser,
      remoteUser: nonRootUser,
      onCreateCommand: command,
      updateContentCommand: command,
      postCreateCommand: command,
      postStartCommand: command,
      postAttachCommand: command,
    }),
    fc.dictionary(fc.constantFrom(...IGNORED_DEVCONTAINER_FIELDS), json, { maxKeys: 3, noNullPrototype: true }),
  )
  .map(([source, setup, ignored]) => ({ ...ignored, ...source, ...setup }));
