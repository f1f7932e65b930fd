/**
 * paude.json: one schema for the global file (XDG config dir) and the project file (repository
 * root). Every key is optional here; defaults.ts supplies the rest and layering.ts decides which
 * keys a project file may set. Unknown keys are errors (strict objects), reported with a
 * "did you mean" hint by format-issue.ts.
 */
import { z } from 'zod';
import { describeEntryProblem, parseNetworkEntry } from '../policy/network-entry.js';

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
  cpus: z.number().positive().max(1024).optional(),
  memory: memorySize.optional(),
  pids: z.number().int().min(16).max(1_000_000).optional(),
});

const network = z.strictObject({
  mode: z.enum(NETWORK_MODES).optional(),
  allowlist: z.array(networkEntry).optional(),
  denylist: z.array(networkEntry).optional(),
  projectMayExtend: z.boolean().optional(),
  approvalTimeoutSeconds: z.number().int().min(1).max(3600).optional(),
});

const credentials = z.strictObject({
  anthropic: z.strictObject({ apiKeyEnv: envName.optional() }).optional(),
  vertex: z
    .strictObject({ projectId: z.string().min(1).optional(), region: z.string().min(1).optional(), adcFile: z.string().min(1).optional() })
    .optional(),
  bedrock: z
    .strictObject({ region: z.string().min(1).optional(), profile: z.string().min(1).optional(), awsDir: z.string().min(1).optional() })
    .optional(),
  azure: z.strictObject({ resource: z.string().min(1).optional(), apiKeyEnv: envName.optional() }).optional(),
  gitconfig: z.boolean().optional(),
});

const claude = z.strictObject({
  copyHostConfig: z.boolean().optional(),
  persistProjectConfig: z.boolean().optional(),
  args: z.array(z.string()).optional(),
});

const kubernetes = z.strictObject({
  context: z.string().min(1).optional(),
  namespace: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, { message: 'a Kubernetes namespace name' }).max(63).optional(),
  storageClass: z.string().min(1).optional(),
  workspaceSize: z.string().regex(/^[1-9][0-9]*(Ki|Mi|Gi|Ti)$/, { message: 'a quantity such as "10Gi"' }).optional(),
  serviceAccount: z.string().min(1).optional(),
  resources: z
    .strictObject({
      requests: z.strictObject({ cpu: z.string().optional(), memory: z.string().optional() }).optional(),
      limits: z.strictObject({ cpu: z.string().optional(), memory: z.string().optional() }).optional(),
    })
    .optional(),
});

const backend = z.strictObject({
  type: z.enum(BACKEND_TYPES).optional(),
  podman: z.strictObject({ socket: z.string().min(1).optional() }).optional(),
  docker: z.strictObject({ host: z.string().min(1).optional() }).optional(),
  kubernetes: kubernetes.optional(),
});

const image = z.strictObject({
  base: z.string().min(1).optional(),
  agent: z.string().min(1).optional(),
  proxy: z.string().min(1).optional(),
});

const certificates = z.strictObject({
  extra: z.array(z.string().min(1)).optional(),
  inheritHost: z.boolean().optional(),
});

const otel = z.strictObject({
  enabled: z.boolean().optional(),
  endpoint: httpUrl.optional(),
  protocol: z.enum(['grpc', 'http/protobuf', 'http/json']).optional(),
  service_name: z.string().min(1).optional(),
  attributes: z.record(z.string(), z.string()).optional(),
});

const auditSink = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('file'),
    path: z.string().min(1).optional(),
    maxBytes: z.number().int().min(4096).optional(),
    maxFiles: z.number().int().min(1).max(100).optional(),
  }),
  z.strictObject({ type: z.literal('syslog'), address: z.string().min(1).optional(), facility: z.string().min(1).optional() }),
  z.strictObject({ type: z.literal('webhook'), url: httpUrl, headers: z.record(z.string(), z.string()).optional() }),
]);

const sessions = z.strictObject({
  idleTimeoutMinutes: z.number().int().min(0).optional(),
  detachKeys: z.string().min(1).optional(),
});

const ui = z.strictObject({
  theme: z.enum(['auto', 'dark', 'light']).optional(),
  keys: z.record(z.string(), z.union([z.string(), z.array(z.string())])).optional(),
});

export const PaudeFileSchema = z.strictObject({
  $schema: z.string().optional(),
  network: network.optional(),
  provider: z.enum(PROVIDERS).optional(),
  credentials: credentials.optional(),
  claude: claude.optional(),
  backend: backend.optional(),
  image: image.optional(),
  resources: resources.optional(),
  certificates: certificates.optional(),
  telemetry: z.strictObject({ otel: otel.optional() }).optional(),
  audit: z.strictObject({ sinks: z.array(auditSink).optional() }).optional(),
  plugins: z.strictObject({ allow: z.array(z.string().min(1)).optional(), deny: z.array(z.string().min(1)).optional() }).optional(),
  isolate: z.array(workspacePath).optional(),
  protect: z.array(workspacePath).optional(),
  sessions: sessions.optional(),
  ui: ui.optional(),
});

export type PaudeFile = z.infer<typeof PaudeFileSchema>;
export type AuditSink = z.infer<typeof auditSink>;
