/**
 * An OpenSSH server of the test's own on 127.0.0.1 (a free port, its own host key, one client
 * key, stream-local forwarding on): "the remote host" whose engine sockets paude reaches over
 * SSH. It stands for another machine; paude cannot tell, since nothing is mounted from the host
 * for an ssh:// engine. Ended by its pid when the suite ends.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const SSHD = '/usr/sbin/sshd';

export interface Sshd {
  port: number;
  /** An ssh_config with the alias `enginehost` (this server, this key, its known host key). */
  configFile: string;
  /** The same, but with an empty known_hosts file: the host key is unknown. */
  strangerConfigFile: string;
  stop(): Promise<void>;
}

export function sshdAvailable(): string | undefined {
  if (!existsSync(SSHD)) return `no ${SSHD} (apt-get install openssh-server; .ci/provision-engines.sh does)`;
  if (process.getuid?.() !== 0) return 'sshd needs root to switch to the logged-in user';
  return undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export async function startSshd(): Promise<Sshd> {
  const dir = await mkdtemp(join(tmpdir(), 'paude-sshd-'));
  const port = await freePort();
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host')]);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'client')]);
  await writeFile(join(dir, 'authorized_keys'), await readFile(join(dir, 'client.pub')), { mode: 0o600 });
  const hostKey = (await readFile(join(dir, 'host.pub'), 'utf8')).split(' ').slice(0, 2).join(' ');
  await writeFile(join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${hostKey}\n`);
  await writeFile(join(dir, 'empty_known_hosts'), '');
  await writeFile(
    join(dir, 'sshd_config'),
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'host')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      'StrictModes no',
      'UsePAM no',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      'AllowStreamLocalForwarding yes',
      '',
    ].join('\n'),
  );
  const client = (knownHosts: string): string =>
    [
      'Host enginehost',
      '  HostName 127.0.0.1',
      `  Port ${port}`,
      '  User root',
      `  IdentityFile ${join(dir, 'client')}`,
      '  IdentitiesOnly yes',
      `  UserKnownHostsFile ${knownHosts}`,
      '  StrictHostKeyChecking yes',
      '',
    ].join('\n');
  await writeFile(join(dir, 'ssh_config'), client(join(dir, 'known_hosts')));
  await writeFile(join(dir, 'stranger_ssh_config'), client(join(dir, 'empty_known_hosts')));
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  // -D: stays in the foreground as our child, so we know its pid; -e: log to stderr.
  const child = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let i = 0; ; i++) {
    if (log.includes('Server listening')) break;
    if (child.exitCode !== null || i > 200) throw new Error(`sshd did not start: ${log}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    port,
    configFile: join(dir, 'ssh_config'),
    strangerConfigFile: join(dir, 'stranger_ssh_config'),
    stop: async () => {
      if (child.pid && child.exitCode === null) process.kill(child.pid, 'SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
