/**
 * The bottom two lines: an open prompt or confirmation, else the last notice and the key hints,
 * made from the bindings.
 */
import { Box, Text } from 'ink';
import { useDashboard } from '../context.js';
import { hints, keyLabel, keysOf, type KeyTable } from '../keys.js';
import { ConfirmLine, PromptLine } from '../prompts/prompt-line.js';
import { usePromptsState } from '../prompts/use-prompts-state.js';

/** "↑↓ select": the first key of each, together. */
function selectHint(keys: KeyTable): string {
  const both = [keysOf(keys, 'up')[0], keysOf(keys, 'down')[0]].filter((k) => k !== undefined).map(keyLabel);
  return both.length ? `${both.join('')} select` : '';
}

function footerHints(keys: KeyTable): string {
  const rest = hints(keys, [
    ['attach', 'attach'],
    ['newSession', 'new'],
    ['filter', 'filter'],
    ['sort', 'sort'],
    ['stop', 'stop'],
    ['removeSession', 'remove'],
    ['nextView', 'view'],
  ]);
  return [selectHint(keys), rest].filter((h) => h !== '').join('  ');
}

export function Footer({ notice }: { notice?: string }): React.JSX.Element {
  const { keys } = useDashboard();
  const { prompt, confirm } = usePromptsState();
  if (prompt) return <PromptLine prompt={prompt} />;
  if (confirm) return <ConfirmLine confirm={confirm} />;
  return (
    <Box flexDirection="column">
      <Text wrap="truncate">{notice ?? ' '}</Text>
      <Text dimColor wrap="truncate">
        {footerHints(keys)}
      </Text>
    </Box>
  );
}
