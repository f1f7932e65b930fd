/** The allowlist view: the selected session's effective policy, each entry with where it comes from. */
import { Box, Text } from 'ink';
import { useDashboard } from '../context.js';
import { pad } from '../format.js';
import { hints } from '../keys.js';
import { useAllowlistState } from './use-allowlist-state.js';

export function Allowlist(): React.JSX.Element {
  const { paint, keys } = useDashboard();
  const { selected, lines, cursor } = useAllowlistState();
  const keyHints = hints(keys, [
    ['addAllow', 'allow'],
    ['addDeny', 'deny (tab: scope)'],
    ['removeEntry', 'remove a session entry'],
  ]);
  return (
    <Box flexDirection="column">
      <Text dimColor>{`policy of ${selected ?? '(no session)'}   ${keyHints}`}</Text>
      {!lines ? <Text dimColor>loading…</Text> : null}
      {lines?.length === 0 ? <Text dimColor>nothing allowed: every request is refused (or held in ask mode)</Text> : null}
      {lines?.map((l, i) => (
        <Text key={`${l.effect}:${l.text}:${i}`} inverse={i === cursor}>
          <Text color={paint(l.effect)}>{pad(l.effect, 6)}</Text>
          {pad(l.text, 44)}
          <Text dimColor>{l.source}</Text>
        </Text>
      ))}
    </Box>
  );
}
