/**
 * squid.conf for one session's proxy. It holds no allowlist entries: every request is decided
 * by the policy helper from the rules file (policy-rules.ts), which is what makes policy changes
 * apply at once without `squid -k reconfigure`. The few values that do appear here are checked
 * against strict patterns first.
 */
import { isIP } from 'node:net';

export interface SquidConfigInput {
  sessionId: string;
  /** Where the agent's connections come from (the link forwarder on loopback); nobody else is served. */
  agentAddress: string;
  listenPort: number;
  /** Where the session state directory is mounted inside the proxy container. */
  stateDir: string;
  helperPath: string;
  errorDirectory: string;
  /** Destinations refused whatever the policy says (cloud metadata, the proxy's own loopback). */
  blockedDestinations: readonly string[];
}

export const SESSION_ID = /^paude-[a-z0-9]{4,32}$/;
const CONTAINER_PATH = /^\/[A-Za-z0-9/_.-]+$/;
const CIDR = /^[0-9a-f.:]+\/[0-9]{1,3}$/;

export const DEFAULT_BLOCKED_DESTINATIONS = ['169.254.0.0/16', '127.0.0.0/8', '0.0.0.0/8', 'fe80::/10', '::1/128'] as const;

/** Fields of each access log line, space separated; parsed by proxy-log.ts. */
export const ACCESS_LOG_FORMAT = '%ts.%03tu %>a %rm %>rd %>rP %>Hs %<st %Ss %{decision}note %{rule}note %tr';

export function renderSquidConfig(input: SquidConfigInput): string {
  check(SESSION_ID.test(input.sessionId), 'session id', input.sessionId);
  check(isIP(input.agentAddress) !== 0, 'agent address', input.agentAddress);
  check(Number.isInteger(input.listenPort) && input.listenPort > 0 && input.listenPort < 65536, 'listen port', input.listenPort);
  for (const p of [input.stateDir, input.helperPath, input.errorDirectory]) check(CONTAINER_PATH.test(p), 'path', p);
  for (const c of input.blockedDestinations) check(CIDR.test(c) && isIP(c.split('/')[0] ?? '') !== 0, 'destination', c);
  const agentCidr = `${input.agentAddress}/${isIP(input.agentAddress) === 6 ? 128 : 32}`;
  const s = input.stateDir;
  return [
    `# paude proxy for session ${input.sessionId}; generated, changes are overwritten`,
    `http_port 127.0.0.1:${input.listenPort}`,
    'pid_filename none',
    'cache deny all',
    'cache_mem 16 MB',
    'shutdown_lifetime 1 seconds',
    'via off',
    'forwarded_for delete',
    'httpd_suppress_version_string on',
    `logformat paude ${ACCESS_LOG_FORMAT}`,
    `access_log daemon:${s}/log/access.log logformat=paude`,
    `cache_log ${s}/log/cache.log`,
    'cache_store_log none',
    'logfile_rotate 0',
    // Logs readable by the user's own paude when squid runs as another uid (rootful engines);
    // the session directory around them is the user's alone (0700).
    'umask 022',
    'coredump_dir /tmp',
    `acl agent src ${agentCidr}`,
    `acl blocked_dst dst ${input.blockedDestinations.join(' ')}`,
    `external_acl_type paude_policy ttl=0 negative_ttl=0 grace=0 concurrency=200 children-max=1 children-startup=1 %>a %DST %PORT %METHOD ${input.helperPath} ${s} ${input.sessionId}`,
    'acl paude_policy external paude_policy',
    'acl paude_denied note decision deny',
    'http_access deny !agent',
    'http_access deny !paude_policy',
    'http_access deny blocked_dst',
    'http_access allow agent',
    'http_access deny all',
    'deny_info ERR_PAUDE_DENIED paude_policy',
    `error_directory ${input.errorDirectory}`,
    'reply_header_add X-Paude-Denied "%DST" paude_denied',
    '',
  ].join('\n');
}

function check(ok: boolean, what: string, value: unknown): void {
  if (!ok) throw new Error(`refusing to render squid.conf: invalid ${what} ${JSON.stringify(value)}`);
}
