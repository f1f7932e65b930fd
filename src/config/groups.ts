/**
 * Named allowlist groups (`@github` in paude.json). There are two kinds:
 *
 * - fixed groups (ALLOWLIST_GROUPS): the model providers and the code host, whose endpoints are
 *   the same for everyone. Each expands to domain rules written in the same grammar as user
 *   entries, so one parser validates both.
 * - package registry groups (REGISTRY_GROUPS): which registry a user's package manager talks to
 *   is that user's choice (a company mirror, a proxy, the public default), so these are resolved
 *   when a policy uses them, from the client's own configuration on the host where paude runs
 *   (registry-groups.ts). paude never writes a registry's host down itself.
 *
 * docs/NETWORK.md lists both; a test keeps that table and these in step.
 */
export const ALLOWLIST_GROUPS = {
  anthropic: ['api.anthropic.com', 'statsig.anthropic.com', 'console.anthropic.com', 'claude.ai'],
  // Regional hosts are listed, not `.googleapis.com`/`.amazonaws.com`: those would also open
  // Cloud Storage and S3, i.e. anyone's bucket. The configured region is added on top.
  vertex: [
    'aiplatform.googleapis.com', 'us-east5-aiplatform.googleapis.com', 'us-central1-aiplatform.googleapis.com',
    'europe-west1-aiplatform.googleapis.com', 'europe-west4-aiplatform.googleapis.com',
    'asia-southeast1-aiplatform.googleapis.com', 'oauth2.googleapis.com', 'sts.googleapis.com',
  ],
  bedrock: [
    'bedrock-runtime.us-east-1.amazonaws.com', 'bedrock-runtime.us-east-2.amazonaws.com',
    'bedrock-runtime.us-west-2.amazonaws.com', 'bedrock-runtime.eu-central-1.amazonaws.com',
    'bedrock-runtime.eu-west-1.amazonaws.com', 'bedrock-runtime.ap-northeast-1.amazonaws.com', 'sts.amazonaws.com',
  ],
  azure: ['.services.ai.azure.com', '.openai.azure.com', '.cognitiveservices.azure.com', 'login.microsoftonline.com'],
  github: ['github.com', 'api.github.com', 'codeload.github.com', 'objects.githubusercontent.com', 'raw.githubusercontent.com'],
} as const satisfies Record<string, readonly string[]>;

/** Package registry groups and where their hosts come from (shown in docs/NETWORK.md). */
export const REGISTRY_GROUPS = {
  npm: "the registries npm is configured with (`npm config list`: `registry` and every `@scope:registry`), and yarn's (`npmRegistryServer`, or `registry` for yarn 1) when yarn is installed",
  pypi: "pip's indexes (`python3 -m pip config list`: `index-url`, `extra-index-url`, `find-links`, also from `PIP_INDEX_URL` and the like); while no `index-url` is set, the default index and file host that pip itself reports",
  crates: "the registries in cargo's own configuration (`$CARGO_HOME/config.toml`: `[source.*] registry`, `[registries.*] index`; `CARGO_REGISTRIES_*_INDEX`); cargo does not report its default registry, so without a configured mirror list its hosts in your allowlist",
  golang: '`go env GOPROXY GOSUMDB`: the module proxies and the checksum database (`direct` and `off` add nothing)',
  debian: "the hosts of apt's sources on this machine (`/etc/apt/sources.list`, `/etc/apt/sources.list.d/*.list` and `*.sources`)",
} as const satisfies Record<string, string>;

export type FixedGroupName = keyof typeof ALLOWLIST_GROUPS;
export type RegistryGroupName = keyof typeof REGISTRY_GROUPS;
export type AllowlistGroupName = FixedGroupName | RegistryGroupName;

export const REGISTRY_GROUP_NAMES = Object.keys(REGISTRY_GROUPS) as RegistryGroupName[];

/** Every group name, fixed groups first. */
export const GROUP_NAMES: readonly AllowlistGroupName[] = [...(Object.keys(ALLOWLIST_GROUPS) as FixedGroupName[]), ...REGISTRY_GROUP_NAMES];

export function isGroupName(name: string): name is AllowlistGroupName {
  return Object.hasOwn(ALLOWLIST_GROUPS, name) || Object.hasOwn(REGISTRY_GROUPS, name);
}

export function isRegistryGroup(name: AllowlistGroupName): name is RegistryGroupName {
  return Object.hasOwn(REGISTRY_GROUPS, name);
}

/** The hosts of the registry groups a policy uses, as allowlist entries (registry-groups.ts fills it). */
export type RegistryHosts = Partial<Record<RegistryGroupName, readonly string[]>>;
