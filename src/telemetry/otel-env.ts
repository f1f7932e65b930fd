/**
 * OpenTelemetry for the agent. Phase 1: the user's OTEL_* variables go into the container as
 * they are. Phase 2: paude.json `telemetry.otel` (global only) turns Claude Code's telemetry on
 * and points it at the collector, with resource attributes that say which session it is; the
 * collector's host is added to the session's allowlist (the agent reaches it through the proxy
 * like any host). Configuration wins over inherited variables.
 */
import type { EffectiveConfig } from '../config/defaults.js';
import { allowEntryForUrl } from '../policy/url-entry.js';
import type { OtlpProtocol } from './forward.js';
import { AGENT_OTLP_PORT } from './relay.js';

const PROTOCOLS = new Set<string>(['http/json', 'http/protobuf', 'grpc']);

export interface OtelSetup {
  env: Record<string, string>;
  /** Allowlist entries for the collector. */
  allow: string[];
  /** With the relay: where it forwards to, and the collector's headers (kept on the host). */
  forward?: { endpoint: string; protocol: OtlpProtocol; headers: Record<string, string> };
}

export interface SessionFacts {
  id: string;
  workspace: string;
  backend: string;
  networkMode: string;
}

/** Percent-encodes what OTEL_RESOURCE_ATTRIBUTES reserves (',', '=', '%', spaces). */
const encode = (v: string): string => v.replace(/[%,=\s]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);

/**
 * With `relay` (a local engine: paude's relay can listen next to the proxy), the agent always
 * exports to the relay, which counts tokens and forwards to the collector; the collector's
 * address and headers then stay on the host and nothing is added to the allowlist.
 */
export function otelEnvironment(config: EffectiveConfig, hostEnv: NodeJS.ProcessEnv, session: SessionFacts, relay = false): OtelSetup {
  if (relay) return relayEnvironment(config, hostEnv, session);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(hostEnv)) if (k.startsWith('OTEL_') && v !== undefined) env[k] = v;
  const allow: string[] = [];
  const inherited = hostEnv.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (inherited) {
    const entry = allowEntryForUrl(inherited);
    if (entry) allow.push(entry);
  }
  const o = config.telemetry.otel;
  if (!o.enabled) return { env, allow };
  env.CLAUDE_CODE_ENABLE_TELEMETRY = '1';
  env.OTEL_METRICS_EXPORTER = 'otlp';
  env.OTEL_LOGS_EXPORTER = 'otlp';
  if (o.protocol) env.OTEL_EXPORTER_OTLP_PROTOCOL = o.protocol;
  if (o.traces) {
    env.OTEL_TRACES_EXPORTER = 'otlp';
    env.CLAUDE_CODE_ENHANCED_TELEMETRY_BETA = '1';
  }
  if (o.endpoint) {
    env.OTEL_EXPORTER_OTLP_ENDPOINT = o.endpoint;
    const entry = allowEntryForUrl(o.endpoint);
    if (entry) allow.push(entry);
  }
  if (o.service_name) env.OTEL_SERVICE_NAME = o.service_name;
  const attributes: Record<string, string> = {
    ...Object.fromEntries((hostEnv.OTEL_RESOURCE_ATTRIBUTES ?? '').split(',').filter((p) => p.includes('=')).map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)])),
    ...o.attributes,
  };
  const ours = { 'paude.session_id': session.id, 'paude.workspace': session.workspace, 'paude.backend': session.backend, 'paude.network_mode': session.networkMode };
  env.OTEL_RESOURCE_ATTRIBUTES = Object.entries({ ...attributes, ...ours })
    .map(([k, v]) => `${k}=${k in ours ? encode(v) : v}`)
    .join(',');
  return { env, allow: [...new Set(allow)] };
}

const COLLECTOR_ONLY = new Set(['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_PROTOCOL', 'OTEL_EXPORTER_OTLP_HEADERS', 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', 'OTEL_EXPORTER_OTLP_LOGS_ENDPOINT']);

function relayEnvironment(config: EffectiveConfig, hostEnv: NodeJS.ProcessEnv, session: SessionFacts): OtelSetup {
  const direct = otelEnvironment(config, hostEnv, session, false);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(direct.env)) if (!COLLECTOR_ONLY.has(k)) env[k] = v;
  const endpoint = config.telemetry.otel.enabled ? (config.telemetry.otel.endpoint ?? hostEnv.OTEL_EXPORTER_OTLP_ENDPOINT) : hostEnv.OTEL_EXPORTER_OTLP_ENDPOINT;
  const inherited = hostEnv.OTEL_EXPORTER_OTLP_PROTOCOL ?? '';
  const protocol: OtlpProtocol = (config.telemetry.otel.enabled ? config.telemetry.otel.protocol : undefined) ?? (PROTOCOLS.has(inherited) ? (inherited as OtlpProtocol) : 'http/protobuf');
  Object.assign(env, {
    CLAUDE_CODE_ENABLE_TELEMETRY: '1',
    OTEL_METRICS_EXPORTER: 'otlp',
    // The relay forwards bodies as they come: protobuf for a protobuf or gRPC collector, JSON
    // otherwise (and when nothing is forwarded: the cheapest to count).
    OTEL_EXPORTER_OTLP_PROTOCOL: endpoint && protocol !== 'http/json' ? 'http/protobuf' : 'http/json',
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${AGENT_OTLP_PORT}`,
    OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'cumulative',
    OTEL_METRIC_EXPORT_INTERVAL: env.OTEL_METRIC_EXPORT_INTERVAL ?? '10000',
    PAUDE_OTEL_PORT: String(AGENT_OTLP_PORT),
  });
  env.OTEL_RESOURCE_ATTRIBUTES ??= `paude.session_id=${encode(session.id)},paude.workspace=${encode(session.workspace)},paude.backend=${encode(session.backend)},paude.network_mode=${encode(session.networkMode)}`;
  const headers = Object.fromEntries(
    (hostEnv.OTEL_EXPORTER_OTLP_HEADERS ?? '')
      .split(',')
      .filter((p) => p.includes('='))
      .map((p) => [decodeURIComponent(p.slice(0, p.indexOf('=')).trim()), decodeURIComponent(p.slice(p.indexOf('=') + 1).trim())]),
  );
  return { env, allow: [], ...(endpoint ? { forward: { endpoint, protocol, headers } } : {}) };
}
