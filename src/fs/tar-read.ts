/** Kept for run-session.ts until it moves to fs/tar.ts. */
export { readTar, type TarEntry } from './tar.js';
