import { quote } from '../errors.js';

/** `network.allowlist[2]`, `attributes["my key"]`; the top level is "(top level)". */
export function formatJsonPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(top level)';
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (typeof segment === 'string' && /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(segment)) out += out ? `.${segment}` : segment;
    else out += `[${quote(String(segment))}]`;
  }
  return out;
}
