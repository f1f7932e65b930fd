/** Kept for run-session.ts until it moves to fs/tar.ts. */
export { directoryEntries, type TarOwner } from '../fs/tar.js';
