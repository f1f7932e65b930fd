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
  /**
   * The model provider's endpoint, served on its own port: the agent sends its requests there
   * with a placeholder key, and squid forwards them to the provider with the real key, which
   * is in an included file the agent's container never sees (credentials.anthropic.keyInProxy).
   */
  provider?: ProviderRoute;
  /**
   * A file the proxy's entry point writes before squid starts (default /tmp/paude-ipv6.conf):
   * empty, or a rule refusing IPv6 literal destinations when the container has no working IPv6.
   * Such a squid leaves IPv6 addresses out of its ACLs (so blocked_dst loses fe80::/10 and ::1)
   * and aborts on a request for one instead of refusing it.
   */
  ipv6Conf?: string;
}

export interface ProviderRoute {
  listenPort: number;
  host: string;
  port: number;
  tls: boolean;
  /** The file holding the request_header_add line with the key (see providerKeyConf). */
  keyFile: string;
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
/** API keys are letters, digits, '-' and '_': anything else is not put in squid's configuration. */
export const API_KEY = /^[A-Za-z0-9_-]{8,512}$/;

/** The included file: the key goes on the provider's requests only. */
export function providerKeyConf(key: string): string {
  check(API_KEY.test(key), 'api key', '(not shown)');
  return `request_header_add X-Api-Key "${key}" paude_provider\n`;
}

function providerLines(r: ProviderRoute): string[] {
  check(Number.isInteger(r.listenPort) && r.listenPort > 0 && r.listenPort < 65536, 'provider port', r.listenPort);
  check(HOSTNAME.test(r.host) || isIP(r.host) !== 0, 'provider host', r.host);
  check(Number.isInteger(r.port) && r.port > 0 && r.port < 65536, 'provider upstream port', r.port);
  check(CONTAINER_PATH.test(r.keyFile), 'path', r.keyFile);
  const site = (r.tls && r.port === 443) || (!r.tls && r.port === 80) ? r.host : `${r.host}:${r.port}`;
  return [
    `http_port 127.0.0.1:${r.listenPort} accel defaultsite=${site} name=paude_provider`,
    'acl paude_provider myportname paude_provider',
    `cache_peer ${r.host} parent ${r.port} 0 no-query no-digest originserver name=paude_provider_peer${r.tls ? ' tls tls-cafile=/etc/ssl/certs/ca-certificates.crt' : ''}`,
    'cache_peer_access paude_provider_peer allow paude_provider',
    'cache_peer_access paude_provider_peer deny all',
    'never_direct allow paude_provider',
    // Whatever key the agent sends is dropped; the real one is added from the included file.
    'request_header_access X-Api-Key deny paude_provider',
    'request_header_access Authorization deny paude_provider',
    `include ${r.keyFile}`,
    'note decision allow paude_provider',
    'note rule provider paude_provider',
  ];
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
  const ipv6Conf = input.ipv6Conf ?? '/tmp/paude-ipv6.conf';
  check(CONTAINER_PATH.test(ipv6Conf), 'path', ipv6Conf);
  return [
    `# paude proxy for session ${input.sessionId}; generated, changes are overwritten`,
    `http_port 127.0.0.1:${input.listenPort}`,
    'pid_filename none',
    'cache deny all',
    'cache_mem 16 MB',
    'shutdown_lifetime 0 seconds',
    'via off',
    'forwarded_for delete',
    'httpd_suppress_version_string on',
    `logformat paude ${ACCESS_LOG_FORMAT}`,
    // stdio, not daemon: squid writes each line itself as the request ends, so a line is on disk
    // before anything can stop the proxy (a log daemon still holding lines is killed with the
    // container when squid exits first, and the audit log lost the session's last request).
    `access_log stdio:${s}/log/access.log logformat=paude`,
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
    'acl paude_ipv6_literal dstdom_regex -n :',
    ...(input.provider ? providerLines(input.provider) : []),
    // squid's cache manager (its configuration, with the provider's key, and its state) answers
    // on squid's own host name, which a policy in open mode would let through: never served.
    'http_access deny manager',
    `include ${ipv6Conf}`,
    'http_access deny !agent',
    // The provider's port goes to one fixed destination, the provider: no policy question.
    ...(input.provider ? ['http_access allow paude_provider'] : []),
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
