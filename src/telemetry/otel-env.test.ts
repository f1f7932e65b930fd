import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../config/defaults.js';
import { otelEnvironment } from './otel-env.js';

const session = { id: 'paude-abc123', workspace: '/src/my project', backend: 'podman', networkMode: 'restricted' };

describe('otelEnvironment', () => {
  it('passes the user’s OTEL_* variables through (phase 1) and allows their collector', () => {
    const out = otelEnvironment(defaultConfig(), { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector.corp:4318', OTEL_METRICS_EXPORTER: 'otlp', HOME: '/home/ada' }, session);
    expect(out.env).toEqual({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector.corp:4318', OTEL_METRICS_EXPORTER: 'otlp' });
    expect(out.allow).toEqual(['collector.corp:4318']);
  });

  it('turns telemetry on from telemetry.otel with the session’s resource attributes, and allows the endpoint (phase 2)', () => {
    const c = defaultConfig();
    c.telemetry.otel = { enabled: true, endpoint: 'https://otel.example.com', protocol: 'http/json', service_name: 'claude-in-paude', attributes: { team: 'infra' } };
    const out = otelEnvironment(c, { OTEL_RESOURCE_ATTRIBUTES: 'env=dev,team=old' }, session);
    expect(out.env).toMatchObject({
      CLAUDE_CODE_ENABLE_TELEMETRY: '1',
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_LOGS_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otel.example.com',
      OTEL_SERVICE_NAME: 'claude-in-paude',
    });
    expect(out.env.OTEL_RESOURCE_ATTRIBUTES).toBe('env=dev,team=infra,paude.session_id=paude-abc123,paude.workspace=/src/my%20project,paude.backend=podman,paude.network_mode=restricted');
    expect(out.allow).toEqual(['otel.example.com']);
  });

  it('through the relay, asks the agent for protobuf when the collector takes protobuf or gRPC, JSON otherwise', () => {
    const c = defaultConfig();
    const relayed = (protocol?: 'grpc' | 'http/protobuf' | 'http/json', env: NodeJS.ProcessEnv = {}) => {
      c.telemetry.otel = { enabled: true, endpoint: 'http://collector.corp:4317', ...(protocol ? { protocol } : {}) };
      return otelEnvironment(c, env, session, true);
    };
    expect(relayed('grpc').env.OTEL_EXPORTER_OTLP_PROTOCOL).toBe('http/protobuf');
    expect(relayed('grpc').forward).toEqual({ endpoint: 'http://collector.corp:4317', protocol: 'grpc', headers: {} });
    expect(relayed().forward?.protocol).toBe('http/protobuf'); // OTLP's default
    expect(relayed(undefined, { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }).env.OTEL_EXPORTER_OTLP_PROTOCOL).toBe('http/json');
    expect(relayed('http/json').env.OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://127.0.0.1:4318');
    expect(relayed('http/json').env.OTEL_TRACES_EXPORTER).toBeUndefined();
    c.telemetry.otel = { enabled: true, endpoint: 'http://mlflow.corp:5000', traces: true };
    expect(otelEnvironment(c, {}, session, true).env).toMatchObject({ OTEL_TRACES_EXPORTER: 'otlp', CLAUDE_CODE_ENHANCED_TELEMETRY_BETA: '1', OTEL_LOGS_EXPORTER: 'otlp' });
    // Nothing to forward to: JSON, the cheapest to count.
    expect(otelEnvironment(defaultConfig(), {}, session, true).env.OTEL_EXPORTER_OTLP_PROTOCOL).toBe('http/json');
  });

  it('changes nothing when telemetry is off and no OTEL_ variable is set', () => {
    expect(otelEnvironment(defaultConfig(), { PATH: '/usr/bin' }, session)).toEqual({ env: {}, allow: [] });
  });
});
