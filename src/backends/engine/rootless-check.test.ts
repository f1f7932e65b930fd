import { describe, expect, it } from 'vitest';
import { rootlessChecks, type RootlessFacts } from './rootless-check.js';

const user = { name: 'dev', uid: 1001 };
const good: RootlessFacts = {
  engine: { rootless: true, driver: 'overlay', fuseOverlay: true, cgroups: { version: '2', controllers: ['cpuset', 'cpu', 'io', 'memory', 'pids'] } },
  user,
  subuid: 'other:100000:65536\ndev:165536:65536\n',
  subgid: '1001:165536:65536\n',
  which: (name) => (name === 'slirp4netns' ? '/usr/bin/slirp4netns' : undefined),
  runtimeDir: { path: '/run/user/1001', owner: 1001 },
};

describe('rootless checks (paude doctor)', () => {
  it('passes a set-up that has everything, naming what it found', () => {
    const checks = rootlessChecks(good);
    expect(checks.every((c) => c.ok)).toBe(true);
    expect(checks.map((c) => `${c.name}: ${c.found}`)).toEqual([
      '/etc/subuid range for dev: 65536 ids',
      '/etc/subgid range for dev: 65536 ids',
      'storage driver: overlay (fuse-overlayfs)',
      'user-mode networking: /usr/bin/slirp4netns',
      'resource limits (memory, cpus, pids): cgroups v2 (cpuset, cpu, io, memory, pids)',
      'XDG_RUNTIME_DIR: /run/user/1001',
    ]);
  });

  it('says what is missing and how to fix each', () => {
    const checks = rootlessChecks({ ...good, engine: { rootless: true, driver: 'vfs', fuseOverlay: false, cgroups: { version: '1', controllers: [] } }, subuid: 'other:100000:65536\n', subgid: 'dev:165536:1000\n', which: () => undefined, runtimeDir: { path: '/run/user/1001', owner: 0 } });
    expect(checks.filter((c) => !c.ok).map((c) => [c.name, c.found, c.fix?.split(':')[0]])).toEqual([
      ['/etc/subuid range for dev', 'none', 'sudo usermod --add-subuids 100000-165535 dev, then podman system migrate'],
      ['/etc/subgid range for dev', '1000 ids', 'sudo usermod --add-subgids 100000-165535 dev, then podman system migrate'],
      ['storage driver', 'vfs', 'vfs gives containers a / where no non-root process can run'],
      ['user-mode networking', 'neither pasta nor slirp4netns on PATH', 'install slirp4netns (or passt, for pasta)'],
      ['resource limits (memory, cpus, pids)', 'cgroups v1: the engine ignores every limit for rootless containers', 'boot with cgroups v2 (systemd.unified_cgroup_hierarchy=1 on the kernel command line) and delegate memory, pids and cpu to users, or run paude against a rootful engine'],
      ['XDG_RUNTIME_DIR', '/run/user/1001 belongs to uid 0', 'log in through a session that makes /run/user/UID (systemd-logind), or create it owned by you with mode 0700 and export XDG_RUNTIME_DIR'],
    ]);
    expect(rootlessChecks({ ...good, runtimeDir: undefined }).find((c) => c.name === 'XDG_RUNTIME_DIR')?.found).toBe('not set');
  });

  it('names the limit controllers cgroups v2 does not give the user', () => {
    const check = rootlessChecks({ ...good, engine: { ...good.engine, cgroups: { version: '2', controllers: ['cpu'] } } }).find((c) => c.name.startsWith('resource limits'));
    expect(check).toEqual({
      name: 'resource limits (memory, cpus, pids)',
      ok: false,
      found: 'cgroups v2 without memory, pids for your user: those limits are not applied',
      fix: 'delegate memory pids to users (systemd: a drop-in for user@.service with Delegate=memory pids cpu), then log in again',
    });
  });
});
