/** The footer while a prompt or a confirmation is open: the question, what is typed, and what is wrong with it. */
import { Box, Text } from 'ink';
import { useDashboard } from '../context.js';
import type { Confirm, Prompt } from './use-prompts-state.js';

export function PromptLine({ prompt }: { prompt: Prompt }): React.JSX.Element {
  const { paint } = useDashboard();
  const question =
    prompt.kind === 'new-session' ? `new session: ${prompt.what === 'shell' ? 'a shell' : 'Claude Code'} on ${prompt.backend} (tab changes) in ` : `${prompt.effect} at ${prompt.scope} scope (tab changes): `;
  return (
    <Box flexDirection="column">
      <Text wrap="truncate">
        {question}
        <Text color={paint('accent')}>{prompt.text}█</Text>
      </Text>
      {prompt.kind === 'new-session' ? (
        <Text dimColor wrap="truncate">
          enter starts it, escape cancels
        </Text>
      ) : (
        <Text color={paint('problem')} wrap="truncate">
          {prompt.text && prompt.error ? prompt.error : ' '}
        </Text>
      )}
    </Box>
  );
}

export function ConfirmLine({ confirm }: { confirm: Confirm }): React.JSX.Element {
  const { paint } = useDashboard();
  return <Text color={paint('held')} wrap="truncate">{`${confirm.message} (y/n)`}</Text>;
}
