/** The allowlist entry a URL needs: used for the provider's and the telemetry collector's base URLs. */
import { isIP } from 'node:net';

/** The allowlist entry that opens a URL's host and port (`ip:` for addresses), if it has one. */
export function allowEntryForUrl(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined; // An invalid URL is Claude Code's to report.
  }
  if (!/^https?:$/.test(url.protocol) || url.hostname === '') return undefined;
  const host = url.hostname;
  const port = url.port ? `:${url.port}` : '';
  if (host.startsWith('[')) return `ip:${host}${port}`;
  if (isIP(host) === 4) return `ip:${host}${port}`;
  return `${host}${port}`;
}
