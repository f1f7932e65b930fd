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
  memoryBytes?: number;
  pids?: number;
  cpus?: number;
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
      Binds: [...(spec.binds ?? []), `${spec.link}:${LINK_MOUNT}:rw`],
      Tmpfs: spec.tmpfs ?? {},
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      PidsLimit: spec.pids ?? 4096,
      ...(spec.memoryBytes ? { Memory: spec.memoryBytes } : {}),
      ...(spec.cpus ? { NanoCpus: Math.round(spec.cpus * 1e9) } : {}),
      RestartPolicy: { Name: 'no' },
    },
  });
  return container.id;
}
