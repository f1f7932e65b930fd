/**
 * paude.json: one schema for the global file (XDG config dir) and the project file (repository
 * root). Every key is optional here; defaults.ts supplies the rest and layering.ts decides which
 * keys a project file may set. Unknown keys are errors (strict objects), reported with a
 * "did you mean" hint by format-issue.ts.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { describeEntryProblem, parseNetworkEntry } from './network-entry.js';
import { DETACH_KEY_HELP, DETACH_KEY_PATTERN } from './detach-key.js';

const networkEntry = z.string().superRefine((value, ctx) => {
  const parsed = parseNetworkEntry(value);
  if (!parsed.ok) ctx.addIssue({ code: 'custom', message: describeEntryProblem(value, parsed.problem), input: value });
});

export const NETWORK_MODES = ['restricted', 'ask', 'open'] as const;
export type NetworkMode = (typeof NETWORK_MODES)[number];

export const PROVIDERS = ['anthropic', 'vertex', 'bedrock', 'azure'] as const;
export type Provider = (typeof PROVIDERS)[number];

export const BACKEND_TYPES = ['auto', 'podman', 'docker', 'kubernetes'] as const;
export type BackendType = (typeof BACKEND_TYPES)[number];

/** Memory sizes as engines take them: 512m, 4g, 2048k, or bytes. */
const memorySize = z.string().regex(/^[1-9][0-9]*[bkmg]?$/i, { message: 'a size such as "512m" or "4g"' });
/** A path inside the workspace: relative, no "..", no leading slash. */
const workspacePath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !p.split('/').includes('..') && !p.includes('\0'), {
    message: 'a path relative to the workspace without ".." (e.g. ".venv")',
  });
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: 'an environment variable name' });
const httpUrl = z.url({ protocol: /^https?$/, message: 'an http:// or https:// URL' });

const resources = z.strictObject({
  cpus: z.number().positive().max(1024).optional().describe('CPU limit for the agent container (e.g. 2 or 1.5)'),
  memory: memorySize.optional().describe('memory limit for the agent container (e.g. "8g")'),
  pids: z.number().int().min(16).max(1_000_000).optional().describe('maximum number of processes in the agent container'),
});

const network = z.strictObject({
  mode: z.enum(NETWORK_MODES).optional().describe('restricted: only allowed hosts; ask: hold unknown hosts until you decide; open: no filtering'),
  allowlist: z.array(networkEntry).optional().describe('hosts the agent may reach: host, *.host, .host, host:port, ip:ADDRESS, @group'),
  denylist: z.array(networkEntry).optional().describe('hosts that stay blocked even when an allowlist entry matches'),
  projectMayExtend: z.boolean().optional().describe('whether a project paude.json may add allowlist entries'),
  hosts: z
    .record(
      z.string().regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/, { message: 'a lower-case host name' }),
      z.string().refine((ip) => isIP(ip) !== 0, { message: 'an IP address' }),
    )
    .optional()
    .describe("fixed addresses for host names, used by the proxy's resolver (split-horizon DNS, local services)"),
  approvalTimeoutSeconds: z.number().int().min(1).max(3600).optional().describe('how long a held request waits for your decision in ask mode before it is denied'),
});

const credentials = z.strictObject({
  anthropic: z
    .strictObject({
      apiKeyEnv: envName.optional(),
      keyInProxy: z.boolean().optional().describe('keep the API key in the session proxy, which adds it to requests to the provider; the agent never holds it (default true)'),
    })
    .optional(),
  vertex: z
    .strictObject({ projectId: z.string().min(1).optional(), region: z.string().min(1).optional(), adcFile: z.string().min(1).optional() })
    .optional(),
  bedrock: z
    .strictObject({ region: z.string().min(1).optional(), profile: z.string().min(1).optional(), awsDir: z.string().min(1).optional() })
    .optional(),
  azure: z.strictObject({ resource: z.string().min(1).optional(), apiKeyEnv: envName.optional() }).optional(),
  gitconfig: z.boolean().optional().describe('mount ~/.gitconfig read-only into the container'),
});

const claude = z.strictObject({
  copyHostConfig: z.boolean().optional().describe('copy ~/.claude and ~/.claude.json into the container (changes there never reach the host)'),
  persistProjectConfig: z.boolean().optional().describe("keep the session's changes to the project's .claude/ directory"),
  args: z.array(z.string()).optional().describe('extra arguments for claude in every session'),
});

const imageRef = z.string().regex(/^[a-z0-9][a-z0-9._\-/:@]*$/i, { message: 'an image reference such as "registry.example.com/team/paude-agent:1.0"' });
const quantity = (example: string) => z.string().regex(/^[0-9]+(\.[0-9]+)?(m|k|Ki|Mi|Gi|Ti|M|G|T)?$/, { message: `a Kubernetes quantity such as "${example}"` });
const kubernetes = z.strictObject({
  kubeconfig: z.string().min(1).optional().describe('kubeconfig file (default: KUBECONFIG, then ~/.kube/config)'),
  context: z.string().min(1).optional().describe('kubeconfig context (default: the current one)'),
  namespace: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, { message: 'a Kubernetes namespace name' }).max(63).optional().describe("namespace for sessions (default: the context's)"),
  agentImage: imageRef.optional().describe('the agent image the cluster pulls (built and pushed by you; see docs/KUBERNETES.md)'),
  proxyImage: imageRef.optional().describe('the proxy image the cluster pulls'),
  otelCollectorImage: imageRef.optional().describe("an OpenTelemetry Collector image: with telemetry.otel, a collector next to each session's proxy forwards the agent's telemetry"),
  storageClass: z.string().min(1).optional().describe("storage class of the workspace's PVC (default: the cluster's)"),
  workspaceSize: z.string().regex(/^[1-9][0-9]*(Ki|Mi|Gi|Ti)$/, { message: 'a quantity such as "10Gi"' }).optional().describe('size of the workspace PVC (default 10Gi)'),
  serviceAccount: z.string().min(1).optional().describe('service account of the agent pod (Workload Identity); its token is never mounted'),
  nodeSelector: z.record(z.string(), z.string()).optional().describe('node labels the agent pod must run on (say, a GPU pool)'),
  resources: z
    .strictObject({
      requests: z.strictObject({ cpu: quantity('500m').optional(), memory: quantity('1Gi').optional() }).optional(),
      limits: z.strictObject({ cpu: quantity('2').optional(), memory: quantity('8Gi').optional() }).optional(),
    })
    .optional()
    .describe("the agent container's requests and limits"),
});

const backend = z.strictObject({
  type: z.enum(BACKEND_TYPES).optional().describe('where sessions run; auto picks the first engine that answers'),
  podman: z.strictObject({ socket: z.string().min(1).optional().describe('Podman API socket (unix:// or ssh://)') }).optional(),
  docker: z.strictObject({ host: z.string().min(1).optional().describe('Docker host (unix://, tcp:// or ssh://)') }).optional(),
  kubernetes: kubernetes.optional().describe('cluster context, namespace, storage and resources for the kubernetes backend'),
  sshConfig: z.string().min(1).optional().describe('ssh_config file for ssh:// engines (default: what ssh reads, ~/.ssh/config)'),
});

const image = z.strictObject({
  base: z.string().min(1).optional().describe('base image for the agent and proxy images (default debian:bookworm-slim, pulled by the engine when missing; set a local one on air-gapped hosts)'),
  agent: z.string().min(1).optional().describe('use this agent image instead of building one'),
  proxy: z.string().min(1).optional().describe('use this proxy image instead of building one'),
  claudeVersion: z.string().min(1).optional().describe('Claude Code version for the agent image ("latest", checked daily, or e.g. "2.1.0")'),
});

const certificates = z.strictObject({
  extra: z.array(z.string().min(1)).optional().describe('PEM files of extra CA certificates the image and the agent trust'),
  inheritHost: z.boolean().optional().describe("also trust the host's extra CA certificates (/usr/local/share/ca-certificates)"),
});

const otel = z.strictObject({
  enabled: z.boolean().optional().describe("export the agent's OpenTelemetry metrics and logs"),
  endpoint: httpUrl.optional().describe("OTLP collector URL (local engines: paude's relay forwards to it; remote engines: added to the allowlist)"),
  protocol: z.enum(['grpc', 'http/protobuf', 'http/json']).optional().describe("the collector's OTLP protocol (default http/protobuf)"),
  traces: z.boolean().optional().describe("also export Claude Code's traces (its beta tracing: one span per model call and tool)"),
  service_name: z.string().min(1).optional().describe('service.name of the exported telemetry'),
  attributes: z.record(z.string(), z.string()).optional().describe('extra resource attributes'),
});

const auditSink = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('file'),
    path: z.string().min(1).optional(),
    maxBytes: z.number().int().min(4096).optional(),
    maxFiles: z.number().int().min(1).max(100).optional(),
  }),
  z.strictObject({
    type: z.literal('syslog'),
    address: z
      .string()
      .regex(/^(udp|tcp):\/\/[^/\s]+$/, { message: 'udp://host[:port] or tcp://host[:port]' })
      .optional()
      .describe('where syslog listens (default udp://127.0.0.1:514)'),
    facility: z.enum(['kern', 'user', 'mail', 'daemon', 'auth', 'syslog', 'lpr', 'news', 'uucp', 'cron', 'authpriv', 'ftp', 'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7']).optional().describe('syslog facility (default local0)'),
  }),
  z.strictObject({ type: z.literal('webhook'), url: httpUrl, headers: z.record(z.string(), z.string()).optional() }),
]);

const sessions = z.strictObject({
  idleTimeoutMinutes: z.number().min(0).optional().describe('stop a session nobody is attached to and whose screen has not changed for this many minutes (0: never); its state is kept'),
  detachKeys: z
    .string()
    .regex(DETACH_KEY_PATTERN, { message: DETACH_KEY_HELP })
    .optional()
    .describe('the key that detaches from a session and leaves it running (ctrl-<key>, alt-<key> or f1..f12)'),
});

const ui = z.strictObject({
  theme: z.enum(['auto', 'dark', 'light']).optional().describe('dashboard colours'),
  keys: z.record(z.string(), z.union([z.string(), z.array(z.string())])).optional().describe('dashboard key bindings: command id -> key(s)'),
});

export const PaudeFileSchema = z.strictObject({
  $schema: z.string().optional(),
  network: network.optional(),
  provider: z.enum(PROVIDERS).optional().describe('which model provider the agent uses; its domains are always allowed'),
  credentials: credentials.optional().describe('where provider credentials come from (env variable names, ADC file, AWS profile)'),
  claude: claude.optional(),
  backend: backend.optional(),
  image: image.optional(),
  resources: resources.optional(),
  certificates: certificates.optional(),
  telemetry: z.strictObject({ otel: otel.optional() }).optional(),
  audit: z.strictObject({ sinks: z.array(auditSink).optional().describe('where audit events go') }).optional(),
  plugins: z
    .strictObject({
      allow: z.array(z.string().min(1)).optional().describe('MCP servers / plugins kept in the container copy of your config (unset: all)'),
      deny: z.array(z.string().min(1)).optional().describe('MCP servers / plugins removed from the container copy of your config'),
    })
    .optional(),
  isolate: z.array(workspacePath).optional().describe('workspace paths shadowed by container-local storage (e.g. .venv, node_modules)'),
  protect: z.array(workspacePath).optional().describe('workspace paths the agent may read but not change on the host, in addition to the built-in set'),
  sessions: sessions.optional(),
  ui: ui.optional(),
});

export type PaudeFile = z.infer<typeof PaudeFileSchema>;
export type AuditSink = z.infer<typeof auditSink>;
