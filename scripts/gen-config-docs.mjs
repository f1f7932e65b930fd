// Rewrites the generated blocks of the docs (configuration reference, allowlist groups) and
// the JSON Schema editors use for paude.json. test/cli/docs-drift.test.ts fails when they are stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { GENERATED_DOCS, refreshGeneratedDocs } from '../dist/config/reference.js';
import { paudeJsonSchema } from '../dist/config/json-schema.js';

for (const file of GENERATED_DOCS) {
  const before = readFileSync(file, 'utf8');
  const after = refreshGeneratedDocs(before);
  if (after !== before) {
    writeFileSync(file, after);
    console.log(`updated ${file}`);
  }
}
writeFileSync('assets/paude.schema.json', JSON.stringify(paudeJsonSchema(), null, 2) + '\n');
