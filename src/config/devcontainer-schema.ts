/**
 * The part of devcontainer.json paude honours: how to build or pick the image and how to set up
 * the container from the inside. Fields that would widen the sandbox (host mounts, engine flags,
 * privileges, commands on the host, published ports) are refused with a reason; fields that are
 * about editors or hosts are accepted and ignored; anything else is an unknown key.
 */
import { z } from 'zod';

/** field -> why paude refuses it. */
export const REFUSED_DEVCONTAINER_FIELDS: Readonly<Record<string, string>> = {
  mounts: 'host mounts would give the agent files outside the workspace',
  workspaceMount: 'paude mounts the workspace itself, with its protected paths read-only',
  runArgs: 'extra engine flags can add mounts, devices, privileges or networks',
  privileged: 'a privileged container can escape the sandbox',
  capAdd: 'paude drops every capability',
  securityOpt: 'security options could disable seccomp or AppArmor',
  initializeCommand: 'it runs on the host, outside the sandbox',
  forwardPorts: 'published ports would open the container to the host network',
  appPort: 'published ports would open the container to the host network',
  dockerComposeFile: 'compose files can define any mounts, networks and privileges',
  runServices: 'compose services are not supported',
  service: 'compose services are not supported',
};

/** Accepted for compatibility with editors, but they change nothing in paude. */
export const IGNORED_DEVCONTAINER_FIELDS = [
  'name',
  'customizations',
  'features',
  'overrideFeatureInstallOrder',
  'hostRequirements',
  'portsAttributes',
  'otherPortsAttributes',
  'shutdownAction',
  'waitFor',
  'userEnvProbe',
  'updateRemoteUserUID',
  'overrideCommand',
  'init',
  'workspaceFolder',
  'remoteEnv',
  'secrets',
] as const;

const command = z.union([z.string(), z.array(z.string()), z.record(z.string(), z.union([z.string(), z.array(z.string())]))]);
const nonRootUser = z
  .string()
  .min(1)
  .refine((u) => u !== 'root' && u !== '0' && !u.startsWith('0:') && !u.startsWith('root:'), {
    message: 'a non-root user (paude never runs the agent as root)',
  });

const build = z.strictObject({
  dockerfile: z.string().min(1).optional(),
  context: z.string().min(1).optional(),
  args: z.record(z.string(), z.string()).optional(),
  target: z.string().min(1).optional(),
  cacheFrom: z.union([z.string(), z.array(z.string())]).optional(),
  options: z.array(z.string()).optional(),
});

const honoured = {
  image: z.string().min(1).optional(),
  build: build.optional(),
  containerEnv: z.record(z.string(), z.string()).optional(),
  containerUser: nonRootUser.optional(),
  remoteUser: nonRootUser.optional(),
  onCreateCommand: command.optional(),
  updateContentCommand: command.optional(),
  postCreateCommand: command.optional(),
  postStartCommand: command.optional(),
  postAttachCommand: command.optional(),
};

const ignored = Object.fromEntries(IGNORED_DEVCONTAINER_FIELDS.map((k) => [k, z.unknown().optional()])) as Record<
  (typeof IGNORED_DEVCONTAINER_FIELDS)[number],
  z.ZodOptional<z.ZodUnknown>
>;

const refused = Object.fromEntries(
  Object.entries(REFUSED_DEVCONTAINER_FIELDS).map(([key, reason]) => [
    key,
    z
      .unknown()
      .optional()
      .superRefine((value, ctx) => {
        if (value !== undefined) {
          ctx.addIssue({ code: 'custom', message: `refused because ${reason}; remove it (paude sets up the container itself)` });
        }
      }),
  ]),
);

export const DevcontainerFileSchema = z
  .strictObject({ ...honoured, ...ignored, ...refused })
  .refine((d) => !(d.image !== undefined && d.build !== undefined), { message: 'sets both "image" and "build"; keep one of them' });

export type DevcontainerFile = z.infer<typeof DevcontainerFileSchema>;

/** What the effective configuration keeps of a devcontainer.json. */
export type DevcontainerSetup = Pick<DevcontainerFile, keyof typeof honoured>;

export function pickDevcontainerSetup(file: DevcontainerFile): DevcontainerSetup {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(honoured)) {
    const value = (file as Record<string, unknown>)[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}
