import { randomInt } from 'node:crypto';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** `paude-` and six random lower-case letters or digits: short enough to type, unique enough. */
export function newSessionId(): string {
  let id = 'paude-';
  for (let i = 0; i < 6; i++) id += ALPHABET[randomInt(ALPHABET.length)];
  return id;
}
