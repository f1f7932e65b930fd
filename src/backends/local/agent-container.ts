/**
 * The agent container: no network interface but loopback (its way out is the session link),
 * non-root, no capabilities, no new privileges, limited processes and memory. With no
 * interface there is no route, no DNS and no host service to reach; only the proxy resolves
 * names.
 */
import type { Engine } from '../engine/engine.js';
import { LINK_MOUNT } from './session-link.js';

export interface AgentContainerSpec {
  name: string;
  image: string;
  command: string[];
  env: Record<string, string>;
  user: string;
  workdir?: string;
  /** host:container[:ro] */
  binds?: string[];
  tmpfs?: Record<string, string>;
  tty?: boolean;
  /** The session link volume. */
  link: string;
  /** Engine-style size ("8g", "512m"). */
  memory?: string;
  pids?: number;
  /**
   * Container-local volumes (named <session>-<suffix>) shadowing paths. The remote workspace
   * ("workspace") is mounted nocopy: Docker would otherwise give it the owner of the image's
   * (absent, root-created) directory on first use.
   */
  volumes?: Array<{ suffix: string; target: string }>;
  cpus?: number;
  /**
   * The user namespace: 'keep-id' on rootless Podman, where the user's own uid would otherwise be
   * root inside and the agent's uid someone else outside, unable to write the user's files.
   */
  userns?: string;
  labels: Record<string, string>;
}

export async function createAgentContainer(engine: Engine, spec: AgentContainerSpec): Promise<string> {
  const container = await engine.docker.createContainer({
    name: spec.name,
    Image: spec.image,
    Cmd: spec.command,
    Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
    User: spec.user,
    WorkingDir: spec.workdir,
    Tty: spec.tty ?? false,
    OpenStdin: spec.tty ?? false,
    Labels: spec.labels,
    HostConfig: {
      NetworkMode: 'none',
      ...(spec.userns ? { UsernsMode: spec.userns } : {}),
      Binds: [...(spec.binds ?? []), ...(spec.volumes ?? []).map((v) => `${spec.name}-${v.suffix}:${v.target}:${v.suffix === 'workspace' ? 'rw,nocopy' : 'rw'}`), `${spec.link}:${LINK_MOUNT}:rw`],
      // With a read-only image, /tmp must be tmpfs (Podman adds it by itself, Docker does not).
      Tmpfs: { '/tmp': 'rw,exec,mode=1777', '/var/tmp': 'rw,exec,mode=1777', ...spec.tmpfs },
      // The image is not the agent's to change: what it may write is the workspace, its home
      // (a session volume), /tmp and the other tmpfs mounts.
      ReadonlyRootfs: true,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      PidsLimit: spec.pids ?? 4096,
      ...(spec.memory ? { Memory: memoryBytes(spec.memory) } : {}),
      ...(spec.cpus ? { NanoCpus: Math.round(spec.cpus * 1e9) } : {}),
      RestartPolicy: { Name: 'no' },
    },
  });
  return container.id;
}

/** "8g" -> bytes; the schema has checked the shape. */
export function memoryBytes(size: string): number {
  const m = /^([0-9]+)([bkmg]?)$/i.exec(size);
  if (!m) throw new Error(`invalid memory size ${size}`);
  const unit = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(m[2] ?? '').toLowerCase()] ?? 1;
  return Number(m[1]) * unit;
}
