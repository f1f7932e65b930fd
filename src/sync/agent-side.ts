/**
 * The agent's side of a sync, read from the archive of its workspace as it streams in: every
 * file is hashed on the way, and only the files the sync may write on this host (`keep`) are
 * set aside in a directory of ours; the rest is dropped. Small files wait in memory for the
 * verdict, larger ones go to disk as they arrive, so memory stays bounded by SMALL_BYTES.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { unpackTar, type TarHeader, type TarSource } from '../fs/tar.js';
import { hash, modeOf, type FileState, type Manifest, type Side, type Skip } from './workspace-sync.js';

const SMALL_BYTES = 1024 * 1024;

/** Decides, once a file's state is known, whether its bytes are needed (a write or a conflict). */
export type Keep = (rel: string, state: FileState) => boolean;

/** The agent's side from a tar of the workspace directory (named 'ws/...', or '/...' from a Podman volume); kept files go to `stageDir`. */
export async function agentSide(archive: TarSource, skip: Skip, keep: Keep, stageDir: string): Promise<Side> {
  const manifest: Manifest = new Map();
  const staged = new Map<string, string>();
  const links = new Map<string, string>();
  await unpackTar(archive, async (header, body) => {
    const rel = header.rooted ? header.path : header.path.split('/').slice(1).join('/');
    if (!rel || skip(rel, header.type === 'directory')) return;
    if (header.type === 'symlink') {
      const target = header.linkTarget ?? '';
      manifest.set(rel, { kind: 'symlink', hash: hash(target), mode: 0o777 });
      links.set(rel, target);
    } else if (header.type === 'file') {
      const file = join(stageDir, String(manifest.size));
      const state = await stage(header, body, file, (s) => keep(rel, s));
      manifest.set(rel, state);
      if (keep(rel, state)) staged.set(rel, file);
    }
  });
  return {
    manifest,
    file: (rel) => staged.get(rel),
    linkTarget: (rel) => {
      const target = links.get(rel);
      return target === undefined ? Promise.reject(new Error(`${rel} is not a link in the agent's workspace`)) : Promise.resolve(target);
    },
  };
}

/** Hashes one file's body; writes it to `file` when `wanted` says so (a large one always, removed again if not). */
async function stage(header: TarHeader, body: AsyncIterable<Buffer>, file: string, wanted: (state: FileState) => boolean): Promise<FileState> {
  const h = createHash('sha256');
  const small: Buffer[] = [];
  let out: Writable | undefined;
  for await (const chunk of body) {
    h.update(chunk);
    if (out === undefined && header.size <= SMALL_BYTES) small.push(chunk);
    else {
      out ??= createWriteStream(file, { mode: 0o600 });
      if (!out.write(chunk)) await new Promise<void>((resolve) => out?.once('drain', () => resolve()));
    }
  }
  const state: FileState = { kind: 'file', hash: h.digest('hex'), mode: modeOf(header.mode) };
  if (out !== undefined) {
    out.end();
    await finished(out);
    if (!wanted(state)) await rm(file, { force: true });
  } else if (wanted(state)) await writeFile(file, Buffer.concat(small), { mode: 0o600 });
  return state;
}
