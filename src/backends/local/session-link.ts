/**
 * The session link: a small in-memory volume shared by the proxy and the agent and nothing
 * else. The proxy listens on a unix socket in it; the agent, which has no network interface
 * at all, reaches the proxy only through that socket (a forwarder inside the agent container
 * offers it as 127.0.0.1:3128). See docs/ARCHITECTURE.md for why not an "internal" network.
 */
import { isHttpStatus, type Engine } from '../engine/engine.js';

export const LINK_MOUNT = '/run/paude-link';
export const LINK_SOCKET = `${LINK_MOUNT}/proxy.sock`;

export async function createSessionLink(engine: Engine, name: string, labels: Record<string, string>): Promise<string> {
  // tmpfs with the sticky, world-writable mode: squid's user creates the socket, the agent's
  // user (any uid) connects to it. Podman's local driver refuses a size option here.
  await engine.docker.createVolume({
    Name: name,
    Driver: 'local',
    DriverOpts: { type: 'tmpfs', device: 'tmpfs', o: 'mode=1777' },
    Labels: labels,
  });
  return name;
}

export async function removeVolume(engine: Engine, name: string): Promise<void> {
  try {
    await engine.docker.getVolume(name).remove({ force: true });
  } catch (error) {
    if (!isHttpStatus(error, 404)) throw error;
  }
}

/**
 * The command that offers the link as a local proxy port inside the agent container (what the
 * agent image's entry point runs): a connection made before the proxy listens waits, up to 30 s.
 */
export function agentLinkCommand(port: number): string[] {
  return ['socat', '-b', '1048576', `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork,max-children=600,backlog=1024`, `UNIX-CONNECT:${LINK_SOCKET},retry=600,interval=0.05`];
}
