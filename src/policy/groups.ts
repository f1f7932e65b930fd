/**
 * Named allowlist groups (`@npm` in paude.json). Each expands to domain rules written in
 * the same grammar as user entries, so one parser validates both. docs/NETWORK.md lists them;
 * a test keeps that table and this one in step.
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
  npm: ['registry.npmjs.org', 'registry.yarnpkg.com'],
  pypi: ['pypi.org', 'files.pythonhosted.org'],
  crates: ['crates.io', 'index.crates.io', 'static.crates.io'],
  golang: ['proxy.golang.org', 'sum.golang.org'],
  debian: ['deb.debian.org', 'security.debian.org'],
} as const satisfies Record<string, readonly string[]>;

export type AllowlistGroupName = keyof typeof ALLOWLIST_GROUPS;

export function isGroupName(name: string): name is AllowlistGroupName {
  return Object.hasOwn(ALLOWLIST_GROUPS, name);
}
