/**
 * A session's credential files on a cluster (gitconfig, gcloud ADC...: mounts outside the
 * workspace): read from this host into one Secret (credentialFiles), and each file or
 * directory mounted read-only where the agent expects it (credentialObjects). Only the agent
 * container mounts them, not the holder of its files.
 */
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { V1Secret, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { ExitCode, PaudeError } from '../../errors.js';
import type { Mount } from '../session-backend.js';
import type { SessionMeta } from './labels.js';

/** Credential directories larger than this do not fit a Secret (1 MiB, base64 and all). */
const SECRET_BYTES = 700 * 1024;
/** Never worth a Secret: caches and logs in credential directories. */
const SKIP_IN_CREDENTIALS = new Set(['logs', 'virtenv', 'legacy_credentials', '.cache']);

/** A credential file or directory for the agent: its target path and its files (relative to it). */
export interface CredentialFile {
  target: string;
  directory: boolean;
  files: Array<{ path: string; content: Buffer }>;
}

/**
 * The credential files of a session (mounts outside the workspace) for its Secret: files as
 * they are, directories as their files (without logs and caches), within a Secret's size.
 */
export async function credentialFiles(mounts: readonly Mount[], projectRoot: string): Promise<CredentialFile[]> {
  const out: CredentialFile[] = [];
  let total = 0;
  for (const m of mounts) {
    if (m.target === projectRoot || m.target.startsWith(`${projectRoot}/`)) continue;
    const st = await lstat(m.source).catch(() => undefined);
    if (!st) continue;
    const files: CredentialFile['files'] = [];
    if (st.isFile()) files.push({ path: m.target.split('/').pop() ?? 'file', content: await readFile(m.source) });
    else if (st.isDirectory()) {
      const walk = async (dir: string): Promise<void> => {
        for (const e of await readdir(dir, { withFileTypes: true })) {
          const full = join(dir, e.name);
          if (SKIP_IN_CREDENTIALS.has(e.name)) continue;
          if (e.isDirectory()) await walk(full);
          else if (e.isFile()) files.push({ path: relative(m.source, full), content: await readFile(full) });
        }
      };
      await walk(m.source);
    } else continue;
    total += files.reduce((n, f) => n + f.content.length, 0);
    if (total > SECRET_BYTES) {
      const why = `${m.source} brings them over ${Math.round(SECRET_BYTES / 1024)} KiB`;
      throw new PaudeError(`the credentials for the cluster do not fit a Kubernetes Secret (${why}); leave it out with credentials settings, or use Workload Identity (backend.kubernetes.serviceAccount)`, ExitCode.engine);
    }
    out.push({ target: m.target, directory: st.isDirectory(), files });
  }
  return out;
}

export interface CredentialObjects {
  /** <id>-agent, when there are credentials. */
  secret?: V1Secret;
  /** The agent pod's volumes for them, and the agent container's mounts. */
  volumes: V1Volume[];
  mounts: V1VolumeMount[];
}

export function credentialObjects(id: string, meta: SessionMeta, credentials: readonly CredentialFile[]): CredentialObjects {
  const volumes: V1Volume[] = [];
  const mounts: V1VolumeMount[] = [];
  if (!credentials.length) return { volumes, mounts };
  const data: Record<string, string> = {};
  let n = 0;
  credentials.forEach((c, ci) => {
    const items = c.files.map((f) => {
      const key = secretKey(n++, f.path);
      data[key] = f.content.toString('base64');
      return { key, path: f.path, mode: 0o440 };
    });
    volumes.push({ name: `credential-${ci}`, secret: { secretName: `${id}-agent`, items, defaultMode: 0o440 } });
    if (c.directory) mounts.push({ name: `credential-${ci}`, mountPath: c.target, readOnly: true });
    else mounts.push({ name: `credential-${ci}`, mountPath: c.target, subPath: c.files[0]?.path ?? '', readOnly: true });
  });
  return { secret: { apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: meta(`${id}-agent`, 'agent'), data }, volumes, mounts };
}

/** A key a Secret or ConfigMap may hold ([-._a-zA-Z0-9]+), made from a path. */
const secretKey = (i: number, path: string): string => `f${i}-${path.replace(/[^-._a-zA-Z0-9]/g, '_')}`.slice(0, 253);
