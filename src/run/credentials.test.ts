import type { Mount } from '../backends/session-backend.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultConfig, type EffectiveConfig } from '../config/defaults.js';
import type { Provider } from '../config/schema.js';
import { parseNetworkEntry } from '../config/network-entry.js';
import { agentCredentials, SECRETS_DIR, type AgentCredentials } from './credentials.js';

/** The engine's bind notation, for readable expectations. */
const toBind = (m: Mount): string => `${m.source}:${m.target}:${m.readOnly ? 'ro' : 'rw'}`;

const HOME = '/home/ada';
const KEY = 'sk-ant-api03-abcdefghijklmnop';
const ADC = `${HOME}/.config/gcloud/application_default_credentials.json`;
const HELPER = `cat ${SECRETS_DIR}/anthropic-api-key`;

function config(provider: Provider, credentials: Partial<EffectiveConfig['credentials']> = {}): EffectiveConfig {
  const c = defaultConfig();
  c.provider = provider;
  c.credentials = { ...c.credentials, ...credentials };
  return c;
}

const existing =
  (...paths: string[]) =>
  (p: string): boolean =>
    paths.includes(p);

function creds(provider: Provider, env: NodeJS.ProcessEnv, o: { credentials?: Partial<EffectiveConfig['credentials']>; exists?: string[] } = {}): AgentCredentials {
  return agentCredentials(config(provider, o.credentials), env, HOME, existing(...(o.exists ?? [])));
}

describe('agentCredentials: anthropic', () => {
  it('keeps ANTHROPIC_API_KEY in the proxy: the agent gets a placeholder and the proxy route', () => {
    const out = creds('anthropic', { ANTHROPIC_API_KEY: KEY, PATH: '/usr/bin' });
    expect(out.proxyProvider).toEqual({ host: 'api.anthropic.com', port: 443, tls: true, key: KEY });
    expect(out.secrets).toEqual({ 'anthropic-api-key': 'paude-the-session-proxy-adds-the-real-key' });
    expect(out.settings).toEqual({ apiKeyHelper: HELPER });
    expect(out.env).toEqual({ ANTHROPIC_BASE_URL: 'http://127.0.0.1:3129', PAUDE_PROVIDER_PORT: '3129' });
    expect(JSON.stringify([out.env, out.secrets, out.settings])).not.toContain(KEY);
    expect(out.allow).toEqual([]);
  });

  it('routes a custom bare ANTHROPIC_BASE_URL through the proxy with the key, and refuses to for a path', () => {
    expect(creds('anthropic', { ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: 'http://litellm.internal:4000' }).proxyProvider).toEqual({ host: 'litellm.internal', port: 4000, tls: false, key: KEY });
    const withPath = creds('anthropic', { ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: 'https://gw.corp.example/anthropic' });
    expect(withPath.proxyProvider).toBeUndefined();
    expect(withPath.secrets).toEqual({ 'anthropic-api-key': KEY });
    expect(withPath.warnings[0]).toMatch(/has a path; the proxy adds keys only for a bare origin/);
  });

  it('with keyInProxy false, turns the key into a secret file read by apiKeyHelper, and no variable', () => {
    const out = creds('anthropic', { ANTHROPIC_API_KEY: KEY, PATH: '/usr/bin' }, { credentials: { anthropic: { keyInProxy: false } } });
    expect(out.proxyProvider).toBeUndefined();
    expect(out.secrets).toEqual({ 'anthropic-api-key': KEY });
    expect(out.settings).toEqual({ apiKeyHelper: HELPER });
    expect(out.env).toEqual({});
  });

  it('keeps a key with characters squid could misread out of the proxy configuration', () => {
    const odd = 'sk-with "quote" and space';
    const out = creds('anthropic', { ANTHROPIC_API_KEY: odd });
    expect(out.proxyProvider).toBeUndefined();
    expect(out.secrets).toEqual({ 'anthropic-api-key': odd });
    expect(out.warnings[0]).toMatch(/characters paude does not put in the proxy configuration/);
  });

  it('gives no secret and no apiKeyHelper without a key (Claude Code then uses its own login)', () => {
    const out = creds('anthropic', { ANTHROPIC_API_KEY: '' });
    expect(out.secrets).toEqual({});
    expect(out.settings).toEqual({});
  });

  it('reads the key from the variable credentials.anthropic.apiKeyEnv names, not ANTHROPIC_API_KEY', () => {
    const out = creds('anthropic', { ANTHROPIC_API_KEY: 'sk-personal-key', WORK_CLAUDE_KEY: 'sk-work-key' }, { credentials: { anthropic: { apiKeyEnv: 'WORK_CLAUDE_KEY' } } });
    expect(out.proxyProvider?.key).toBe('sk-work-key');
    expect(creds('anthropic', { ANTHROPIC_API_KEY: 'sk-personal-key' }, { credentials: { anthropic: { apiKeyEnv: 'WORK_CLAUDE_KEY' } } }).secrets).toEqual({});
  });

  it.each([
    ['https://llm-gateway.corp.example/v1', 'llm-gateway.corp.example'],
    ['https://llm-gateway.corp.example:8443/anthropic', 'llm-gateway.corp.example:8443'],
    ['http://LiteLLM.Internal:4000', 'litellm.internal:4000'],
    // A default port is no port.
    ['https://gw.example:443', 'gw.example'],
  ])('passes a custom ANTHROPIC_BASE_URL %s and allows %s', (base, allowed) => {
    const out = creds('anthropic', { ANTHROPIC_BASE_URL: base });
    expect(out.env).toEqual({ ANTHROPIC_BASE_URL: base });
    expect(out.allow).toEqual([allowed]);
    expect(parseNetworkEntry(allowed).ok).toBe(true);
  });

  it('passes an invalid ANTHROPIC_BASE_URL through (Claude Code reports it) without an allow entry', () => {
    const out = creds('anthropic', { ANTHROPIC_BASE_URL: 'not a url' });
    expect(out.env).toEqual({ ANTHROPIC_BASE_URL: 'not a url' });
    expect(out.allow).toEqual([]);
  });

  // BUG (minor): a base URL without a scheme parses as a URL whose "scheme" is the host
  // (new URL('llm-gateway.corp:8443').hostname is ''), so an empty string is added to allow.
  // Input: ANTHROPIC_BASE_URL=llm-gateway.corp:8443. Expected: allow [] (as for other invalid
  // URLs). Actual: allow [""], an entry the network grammar refuses ("is empty").
  it('adds no allow entry for a base URL without a scheme', () => {
    const out = creds('anthropic', { ANTHROPIC_BASE_URL: 'llm-gateway.corp:8443' });
    expect(out.env).toEqual({ ANTHROPIC_BASE_URL: 'llm-gateway.corp:8443' });
    expect(out.allow).toEqual([]);
  });

  // BUG: a base URL whose host is an IP address (a LiteLLM or Ollama gateway on the LAN) gives
  // an allow entry the network grammar refuses ("10.1.2.3:4000" must be written
  // "ip:10.1.2.3:4000"), and buildEffectivePolicy silently drops refused entries, so in
  // restricted mode Claude Code cannot reach its own gateway. Input:
  // ANTHROPIC_BASE_URL=http://10.1.2.3:4000 (or http://[fd00::1]:4000). Expected allow:
  // ["ip:10.1.2.3:4000"], a valid entry. Actual: ["10.1.2.3:4000"], which parseNetworkEntry rejects.
  it.each([
    ['http://10.1.2.3:4000', 'ip:10.1.2.3:4000'],
    ['http://[fd00::1]:4000', 'ip:[fd00::1]:4000'],
  ])('allows a base URL whose host is an IP address (%s) with a valid entry', (base, allowed) => {
    const out = creds('anthropic', { ANTHROPIC_BASE_URL: base });
    expect(out.allow.map((e) => parseNetworkEntry(e).ok)).toEqual([true]);
    expect(out.allow).toEqual([allowed]);
  });

  it('does not ask for Vertex, Bedrock or Foundry', () => {
    const out = creds('anthropic', { ANTHROPIC_API_KEY: KEY, CLAUDE_CODE_USE_VERTEX: '1' });
    expect(Object.keys(out.env).sort()).toEqual(['ANTHROPIC_BASE_URL', 'PAUDE_PROVIDER_PORT']);
  });
});

describe('agentCredentials: vertex', () => {
  it('sets the Vertex variables and mounts the default ADC file read-only when it exists', () => {
    const out = creds('vertex', {}, { credentials: { vertex: { projectId: 'my-proj', region: 'europe-west1' } }, exists: [ADC] });
    expect(out.env).toEqual({
      CLAUDE_CODE_USE_VERTEX: '1',
      ANTHROPIC_VERTEX_PROJECT_ID: 'my-proj',
      CLOUD_ML_REGION: 'europe-west1',
      GOOGLE_APPLICATION_CREDENTIALS: '/home/paude/.config/gcloud/application_default_credentials.json',
    });
    expect(out.mounts.map(toBind)).toContain(`${ADC}:/home/paude/.config/gcloud/application_default_credentials.json:ro`);
    expect(out.secrets).toEqual({});
  });

  it('mounts a configured adcFile instead of the default', () => {
    const out = creds('vertex', {}, { credentials: { gitconfig: false, vertex: { adcFile: '/secure/adc.json' } }, exists: ['/secure/adc.json', ADC] });
    expect(out.mounts.map(toBind)).toEqual(['/secure/adc.json:/home/paude/.config/gcloud/application_default_credentials.json:ro']);
  });

  it('mounts nothing, and does not point GOOGLE_APPLICATION_CREDENTIALS anywhere, when the ADC file is missing', () => {
    const out = creds('vertex', {}, { credentials: { gitconfig: false } });
    expect(out.mounts.map(toBind)).toEqual([]);
    expect(out.env).toEqual({ CLAUDE_CODE_USE_VERTEX: '1' });
  });
});

describe('agentCredentials: bedrock', () => {
  it('sets the Bedrock variables and mounts ~/.aws read-only when it exists', () => {
    const out = creds('bedrock', { AWS_SECRET_ACCESS_KEY: 'host-secret' }, { credentials: { gitconfig: false, bedrock: { region: 'eu-central-1', profile: 'dev' } }, exists: [`${HOME}/.aws`] });
    expect(out.env).toEqual({ CLAUDE_CODE_USE_BEDROCK: '1', AWS_REGION: 'eu-central-1', AWS_PROFILE: 'dev' });
    expect(out.mounts.map(toBind)).toEqual([`${HOME}/.aws:/home/paude/.aws:ro`]);
    expect(JSON.stringify(out)).not.toContain('host-secret');
  });

  it('mounts a configured awsDir, and nothing when it does not exist', () => {
    expect(creds('bedrock', {}, { credentials: { gitconfig: false, bedrock: { awsDir: '/opt/aws' } }, exists: ['/opt/aws'] }).mounts.map(toBind)).toEqual(['/opt/aws:/home/paude/.aws:ro']);
    expect(creds('bedrock', {}, { credentials: { gitconfig: false, bedrock: { awsDir: '/opt/aws' } } }).mounts.map(toBind)).toEqual([]);
  });
});

describe('agentCredentials: azure', () => {
  it('sets the Foundry variables and turns ANTHROPIC_FOUNDRY_API_KEY into a secret, not a variable', () => {
    const out = creds('azure', { ANTHROPIC_FOUNDRY_API_KEY: KEY }, { credentials: { gitconfig: false, azure: { resource: 'my-res' } } });
    expect(out.env).toEqual({ CLAUDE_CODE_USE_FOUNDRY: '1', ANTHROPIC_FOUNDRY_RESOURCE: 'my-res' });
    expect(out.secrets).toEqual({ 'anthropic-api-key': KEY });
    expect(out.settings).toEqual({ apiKeyHelper: HELPER });
    expect(out.mounts.map(toBind)).toEqual([]);
  });

  it('reads the key from credentials.azure.apiKeyEnv', () => {
    const out = creds('azure', { ANTHROPIC_FOUNDRY_API_KEY: 'wrong', AZ_KEY: 'right' }, { credentials: { azure: { apiKeyEnv: 'AZ_KEY' } } });
    expect(out.secrets).toEqual({ 'anthropic-api-key': 'right' });
  });
});

describe('agentCredentials: ~/.gitconfig', () => {
  it.each<Provider>(['anthropic', 'vertex', 'bedrock', 'azure'])('mounts ~/.gitconfig read-only for %s when enabled (the default) and present', (provider) => {
    expect(creds(provider, {}, { exists: [`${HOME}/.gitconfig`] }).mounts.map(toBind)).toContain(`${HOME}/.gitconfig:/home/paude/.gitconfig:ro`);
  });

  it('does not mount it when absent or when credentials.gitconfig is false', () => {
    expect(creds('anthropic', {}).mounts.map(toBind)).toEqual([]);
    expect(creds('anthropic', {}, { credentials: { gitconfig: false }, exists: [`${HOME}/.gitconfig`] }).mounts.map(toBind)).toEqual([]);
  });
});

describe('agentCredentials: the key stays a secret', () => {
  const everything = [`${HOME}/.gitconfig`, ADC, `${HOME}/.aws`];

  it('for any key, the key never appears in env values, binds, allow entries or settings; it is either the one secret or the proxy’s, never both', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<Provider>('anthropic', 'azure'),
        fc.string({ minLength: 1 }),
        fc.constantFrom(undefined, 'https://gw.example:8443/v1', 'http://10.0.0.1'),
        (provider, key, base) => {
          const env: NodeJS.ProcessEnv = { ANTHROPIC_BASE_URL: base };
          const options = { credentials: { azure: { resource: 'res' } }, exists: everything };
          const without = creds(provider, env, options);
          const out = creds(provider, { ...env, ANTHROPIC_API_KEY: key, ANTHROPIC_FOUNDRY_API_KEY: key }, options);
          expect(out.mounts.map(toBind)).toEqual(without.mounts.map(toBind));
          expect(out.settings).toEqual({ apiKeyHelper: HELPER });
          const inProxy = out.proxyProvider !== undefined;
          if (inProxy) {
            expect(out.proxyProvider?.key).toBe(key);
            expect(Object.values(out.secrets)).not.toContain(key);
          } else {
            expect(Object.values(out.secrets)).toEqual([key]);
            expect(out.env).toEqual(without.env);
            expect(out.allow).toEqual(without.allow);
          }
          // Unless the key happens to be ordinary text there (a key "a" is in "/home/ada"), it is nowhere else.
          const baseline = [...Object.values(without.env), ...Object.values(out.env), ...without.mounts.map(toBind), ...without.allow, HELPER, 'paude-the-session-proxy-adds-the-real-key'];
          if (baseline.some((w) => w.includes(key))) return;
          const visible = [...Object.values(out.env), ...out.mounts.map(toBind), ...out.allow, String(out.settings.apiKeyHelper), ...(inProxy ? Object.values(out.secrets) : [])];
          for (const v of visible) expect(v).not.toContain(key);
        },
      ),
      { numRuns: 300 },
    );
  });
});
