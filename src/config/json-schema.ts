import { z } from 'zod';
import { PaudeFileSchema } from './schema.js';

/** JSON Schema for paude.json, for editors (`"$schema"`); the zod schema stays the authority. */
export function paudeJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(PaudeFileSchema, { io: 'input', unrepresentable: 'any' }),
    title: 'paude.json',
    description: 'paude configuration (global: ~/.config/paude/paude.json; project: paude.json at the repository root)',
  };
}
