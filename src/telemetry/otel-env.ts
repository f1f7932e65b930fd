/**
 * OpenTelemetry for the agent. Phase 1: the user's OTEL_* variables go into the container as
 * they are. Phase 2: paude.json `telemetry.otel` (global only) turns Claude Code's telemetry on
 * and points it at the collector, with resource attributes that say which session it is; the
 * collector's host is added to the session's allowlist (the agent reaches it through the proxy
 * like any host). Configuration wins over inherited variables.
 */
import type { EffectiveConfig } from '../config/defaults.js';
import { allowEntryForUrl } from '../run/credentials.js';

export interface OtelSetup {
  env: Record<string, string>;
  /** Allowlist entries for the collector. */
  allow: string[];
}

export interface SessionFacts {
  id: string;
  workspace: string;
  backend: string;
  networkMode: string;
}

/** Percent-encodes what OTEL_RESOURCE_ATTRIBUTES reserves (',', '=', '%', spaces). */
const encode = (v: string): string => v.replace(/[%,=\s]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);

export function otelEnvironment(config: EffectiveConfig, hostEnv: NodeJS.ProcessEnv, session: SessionFacts): OtelSetup {
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
