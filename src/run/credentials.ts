/**
 * What the agent gets to reach its model provider. Secrets never go into the container's
 * environment, labels or image (all of which `inspect` shows): an API key is written after
 * start into a tmpfs file that only the agent's user can read, and Claude Code reads it
 * through its apiKeyHelper setting. Provider settings that are not secret go in as variables.
 */
import type { Mount } from '../backends/session-backend.js';
import type { EffectiveConfig } from '../config/defaults.js';
import { PROVIDER_PORT } from '../policy/proxy-env.js';
import { allowEntryForUrl } from '../policy/url-entry.js';

export const SECRETS_DIR = '/run/paude-secrets';

export interface AgentCredentials {
  env: Record<string, string>;
  /** file name in SECRETS_DIR -> content */
  secrets: Record<string, string>;
  /** Claude Code settings to add (apiKeyHelper). */
  settings: Record<string, unknown>;
  /** Read-only mounts (gcloud ADC, ~/.aws, ~/.gitconfig). */
  mounts: Mount[];
  /** Extra allowlist entries (a custom ANTHROPIC_BASE_URL host). */
  allow: string[];
  /** The provider route whose key the proxy adds (the agent gets a placeholder). */
  proxyProvider?: { host: string; port: number; tls: boolean; key: string };
  warnings: string[];
}

const PLACEHOLDER_KEY = 'paude-the-session-proxy-adds-the-real-key';
const API_KEY_SHAPE = /^[A-Za-z0-9_-]{8,512}$/;

export function agentCredentials(config: EffectiveConfig, hostEnv: NodeJS.ProcessEnv, home: string, exists: (p: string) => boolean): AgentCredentials {
  const out: AgentCredentials = { env: {}, secrets: {}, settings: {}, mounts: [], allow: [], warnings: [] };
  const ro = (source: string, target: string): void => void out.mounts.push({ source, target, readOnly: true });
  const c = config.credentials;
  if (c.gitconfig && exists(`${home}/.gitconfig`)) ro(`${home}/.gitconfig`, `/home/paude/.gitconfig`);
  switch (config.provider) {
    case 'anthropic': {
      const key = hostEnv[c.anthropic?.apiKeyEnv ?? 'ANTHROPIC_API_KEY'];
      const base = hostEnv.ANTHROPIC_BASE_URL;
      if (key && c.anthropic?.keyInProxy !== false) {
        const route = providerRoute(base ?? 'https://api.anthropic.com');
        if (route && API_KEY_SHAPE.test(key)) {
          // The agent talks to the proxy's provider port with a placeholder; the proxy adds the key.
          out.proxyProvider = { ...route, key };
          out.secrets['anthropic-api-key'] = PLACEHOLDER_KEY;
          out.settings.apiKeyHelper = `cat ${SECRETS_DIR}/anthropic-api-key`;
          out.env.ANTHROPIC_BASE_URL = `http://127.0.0.1:${PROVIDER_PORT}`;
          out.env.PAUDE_PROVIDER_PORT = String(PROVIDER_PORT);
          return out;
        }
        out.warnings.push(
          route
            ? 'the API key has characters paude does not put in the proxy configuration; the agent gets the key itself (in a tmpfs file)'
            : `ANTHROPIC_BASE_URL ${base ?? ''} has a path; the proxy adds keys only for a bare origin (scheme://host[:port]), so the agent gets the key itself (in a tmpfs file)`,
        );
      }
      if (key) {
        out.secrets['anthropic-api-key'] = key;
        out.settings.apiKeyHelper = `cat ${SECRETS_DIR}/anthropic-api-key`;
      }
      if (base) {
        out.env.ANTHROPIC_BASE_URL = base;
        const entry = allowEntryForUrl(base);
        if (entry) out.allow.push(entry);
      }
      return out;
    }
    case 'vertex': {
      out.env.CLAUDE_CODE_USE_VERTEX = '1';
      if (c.vertex?.projectId) out.env.ANTHROPIC_VERTEX_PROJECT_ID = c.vertex.projectId;
      if (c.vertex?.region) out.env.CLOUD_ML_REGION = c.vertex.region;
      const adc = c.vertex?.adcFile ?? `${home}/.config/gcloud/application_default_credentials.json`;
      if (exists(adc)) {
        ro(`${adc}`, `/home/paude/.config/gcloud/application_default_credentials.json`);
        out.env.GOOGLE_APPLICATION_CREDENTIALS = '/home/paude/.config/gcloud/application_default_credentials.json';
      }
      return out;
    }
    case 'bedrock': {
      out.env.CLAUDE_CODE_USE_BEDROCK = '1';
      if (c.bedrock?.region) out.env.AWS_REGION = c.bedrock.region;
      if (c.bedrock?.profile) out.env.AWS_PROFILE = c.bedrock.profile;
      const aws = c.bedrock?.awsDir ?? `${home}/.aws`;
      if (exists(aws)) ro(`${aws}`, `/home/paude/.aws`);
      return out;
    }
    case 'azure': {
      out.env.CLAUDE_CODE_USE_FOUNDRY = '1';
      if (c.azure?.resource) out.env.ANTHROPIC_FOUNDRY_RESOURCE = c.azure.resource;
      const key = hostEnv[c.azure?.apiKeyEnv ?? 'ANTHROPIC_FOUNDRY_API_KEY'];
      if (key) {
        out.secrets['anthropic-api-key'] = key;
        out.settings.apiKeyHelper = `cat ${SECRETS_DIR}/anthropic-api-key`;
      }
      return out;
    }
  }
}

/** A bare http(s) origin as the proxy's provider route; undefined for anything else (a path, a query). */
export function providerRoute(text: string): { host: string; port: number; tls: boolean } | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.username || url.password) return undefined;
  const tls = url.protocol === 'https:';
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port ? Number(url.port) : tls ? 443 : 80, tls };
}
