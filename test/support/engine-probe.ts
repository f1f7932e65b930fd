/**
 * Finds the container engines the integration tests can use. Each engine is one Docker-API
 * socket (Podman through its compatible service). A probe says why an engine is unusable, so
 * a run without it reports that instead of passing silently.
 */
import { existsSync } from 'node:fs';
import Docker from 'dockerode';

export type EngineName = 'podman' | 'docker';

export interface EngineProbe {
  name: EngineName;
  socketPath: string;
  available: boolean;
  reason?: string;
  version?: string;
  baseImage: string;
  /** A rootless engine (its containers in the user's user namespace and network namespace). */
  rootless?: boolean;
}

/** The local base image scripts/lib/bootstrap.sh builds for the demo, the tests and the benchmarks. */
export const BASE_IMAGE = process.env.PAUDE_TEST_BASE_IMAGE ?? process.env.PAUDE_LOCAL_BASE_IMAGE ?? 'localhost/paude-local-base:bookworm';

export function engineSocket(name: EngineName, env: NodeJS.ProcessEnv = process.env): string {
  if (name === 'podman') {
    if (env.PAUDE_TEST_PODMAN_SOCKET) return env.PAUDE_TEST_PODMAN_SOCKET;
    const rootless = env.XDG_RUNTIME_DIR ? `${env.XDG_RUNTIME_DIR}/podman/podman.sock` : undefined;
    return process.getuid?.() !== 0 && rootless ? rootless : '/run/podman/podman.sock';
  }
  return env.PAUDE_TEST_DOCKER_SOCKET ?? '/var/run/docker.sock';
}

export async function probeEngine(name: EngineName): Promise<EngineProbe> {
  const socketPath = engineSocket(name);
  const base = { name, socketPath, baseImage: BASE_IMAGE };
  const envVar = name === 'podman' ? 'PAUDE_TEST_PODMAN_SOCKET' : 'PAUDE_TEST_DOCKER_SOCKET';
  if (!existsSync(socketPath)) {
    return { ...base, available: false, reason: `no socket at ${socketPath} (npm test starts it as root on Debian 12; or set ${envVar})` };
  }
  const docker = new Docker({ socketPath, timeout: 5000 });
  let version: Awaited<ReturnType<Docker['version']>>;
  try {
    version = await docker.version();
  } catch (error) {
    return { ...base, available: false, reason: `${socketPath} does not answer the Docker API: ${(error as Error).message}` };
  }
  const isPodman = (version.Components ?? []).some((c) => /podman/i.test(c.Name));
  if (isPodman !== (name === 'podman')) {
    return { ...base, available: false, reason: `${socketPath} is served by ${isPodman ? 'Podman' : 'Docker'}, not ${name}` };
  }
  try {
    await docker.getImage(BASE_IMAGE).inspect();
  } catch {
    return { ...base, available: false, reason: `base image ${BASE_IMAGE} is missing on ${name} (npm test builds it as root on Debian 12: .ci/build-base-image.sh)` };
  }
  const rootless = isPodman ? (await libpodInfo(docker)).host?.security?.rootless === true : ((await docker.info()) as { SecurityOptions?: string[] }).SecurityOptions?.some((o) => o.includes('name=rootless')) === true;
  return { ...base, available: true, version: version.Version, rootless };
}

/** Podman's own /info, which says whether it runs rootless (its Docker-compatible one does not). */
function libpodInfo(docker: Docker): Promise<{ host?: { security?: { rootless?: boolean } } }> {
  return new Promise((resolve, reject) => {
    docker.modem.dial({ path: '/v4.0.0/libpod/info', method: 'GET', statusCodes: { 200: true, 500: 'server error' }, options: {} }, (error: unknown, data: unknown) =>
      error ? reject(error instanceof Error ? error : new Error(JSON.stringify(error))) : resolve(data as { host?: { security?: { rootless?: boolean } } }),
    );
  });
}
