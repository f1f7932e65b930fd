/**
 * What the files paude writes for a session's proxy may contain, line by line: squid.conf, the
 * policy rules file and the canonical text of an allowlist entry. The renderers' unit tests and
 * the fuzz suite (test/fuzz) check against these patterns.
 */
import { isIP } from 'node:net';
import { RULES_HEADER, RULE_LINE } from '../../src/policy/policy-rules.js';
import { ACCESS_LOG_FORMAT } from '../../src/policy/squid-config.js';

/** Every line a rendered squid.conf (without a provider route) may contain, with the variable parts as patterns. */
export const SQUID_CONF_LINES: readonly RegExp[] = [
  /^# paude proxy for session paude-[a-z0-9]{4,32}; generated, changes are overwritten$/,
  /^http_port 127\.0\.0\.1:[0-9]{1,5}$/,
  /^(pid_filename none|cache deny all|cache_mem 16 MB|shutdown_lifetime 0 seconds|via off|forwarded_for delete|httpd_suppress_version_string on)$/,
  /^(cache_store_log none|logfile_rotate 0|umask 022|coredump_dir \/tmp)$/,
  new RegExp(`^logformat paude ${ACCESS_LOG_FORMAT.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`),
  /^access_log stdio:\/[A-Za-z0-9/_.-]+\/log\/access\.log logformat=paude$/,
  /^cache_log \/[A-Za-z0-9/_.-]+\/log\/cache\.log$/,
  // An IPv6 zone id (fe80::1%eth0) passes isIP(); it stays one token, so nothing is injected.
  /^acl agent src [0-9a-zA-Z.:%-]+\/(32|128)$/,
  /^acl blocked_dst dst( [0-9a-f.:]+\/[0-9]{1,3})*$/,
  /^external_acl_type paude_policy ttl=0 negative_ttl=0 grace=0 concurrency=200 children-max=1 children-startup=1 %>a %DST %PORT %METHOD \/[A-Za-z0-9/_.-]+ \/[A-Za-z0-9/_.-]+ paude-[a-z0-9]{4,32}$/,
  /^(acl paude_policy external paude_policy|acl paude_denied note decision deny|acl paude_ipv6_literal dstdom_regex -n :)$/,
  /^include \/[A-Za-z0-9/_.-]+\/paude-ipv6\.conf$/,
  /^http_access (deny manager|deny !agent|deny !paude_policy|deny blocked_dst|allow agent|deny all)$/,
  /^deny_info ERR_PAUDE_DENIED paude_policy$/,
  /^error_directory \/[A-Za-z0-9/_.-]+$/,
  /^reply_header_add X-Paude-Denied "%DST" paude_denied$/,
];

/** The lines of a rendered squid.conf that match none of SQUID_CONF_LINES (the file ends with one newline). */
export function strangeSquidConfLines(text: string): string[] {
  if (!text.endsWith('\n') || text.endsWith('\n\n')) return [JSON.stringify(text.slice(-40))];
  return text
    .slice(0, -1)
    .split('\n')
    .filter((line) => !SQUID_CONF_LINES.some((shape) => shape.test(line)));
}

/**
 * The lines of a rendered policy rules file that break its grammar: the header, the mode, a
 * timeout of 1 to 3600 seconds, then rule lines only, each with single spaces and nothing a
 * shell, squid or the Perl helper would read specially.
 */
export function strangeRulesLines(text: string): string[] {
  if (!text.endsWith('\n')) return [JSON.stringify(text.slice(-40))];
  const lines = text.slice(0, -1).split('\n');
  const strange: string[] = [];
  lines.forEach((line, i) => {
    const seconds = Number(/^timeout ([0-9]{1,4})$/.exec(line)?.[1]);
    const fits =
      i === 0
        ? line === RULES_HEADER
        : i === 1
          ? /^mode (restricted|ask|open)$/.test(line)
          : i === 2
            ? seconds >= 1 && seconds <= 3600
            : RULE_LINE.test(line) && (!line.split(' ')[1]?.startsWith('ip') || isIP(line.split(' ')[2] ?? '') !== 0);
    if (!fits || /\s\s|^\s|\s$|[^\x20-\x7e]|[\t#;"'`\\]/.test(line)) strange.push(line);
  });
  return strange;
}

/** The canonical text of an entry must be one of these shapes; nothing else may reach the proxy's files. */
const HOST_FORM = /^(\*\.|\.)?[a-z0-9-]+(\.[a-z0-9-]+)*(:[0-9]{1,5})?$/;
const GROUP_FORM = /^@[a-z]+$/;
const IP_FORM = /^ip:(?:\[([^\]]+)\]|([^[\]:]+))(?::([0-9]{1,5}))?$/;
const FORBIDDEN = /[\s\p{Cc}\p{Zl}\p{Zp}"'`#;/\\?]/u;

export function isStrictCanonical(text: string): boolean {
  if (FORBIDDEN.test(text)) return false;
  if (HOST_FORM.test(text) || GROUP_FORM.test(text)) return true;
  const ip = IP_FORM.exec(text);
  if (!ip) return false;
  const [, bracketed, plain, port] = ip;
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return false;
  if (bracketed !== undefined) return isIP(bracketed) === 6;
  return plain !== undefined && isIP(plain) === 4;
}
