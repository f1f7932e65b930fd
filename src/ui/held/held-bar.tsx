/** The oldest held request and how many more wait, on every view, with the keys that answer it. */
import { Box, Text } from 'ink';
import { useDashboard } from '../context.js';
import { hints } from '../keys.js';
import { useHeldState } from './use-held-state.js';

export function HeldBar(): React.JSX.Element | null {
  const { paint, keys } = useDashboard();
  const approvals = useHeldState();
  const held = approvals[0];
  if (!held) return null;
  const answers = hints(
    keys,
    [
      ['approveOnce', 'once'],
      ['approveSession', 'session'],
      ['approveProject', 'project'],
      ['approveGlobal', 'global'],
      ['deny', 'deny'],
    ],
    ' · ',
  );
  return (
    <Box borderStyle="round" borderColor={paint('held')} paddingX={1} flexDirection="column">
      <Text wrap="truncate">
        <Text color={paint('held')} bold>{`held: ${held.method} ${held.host}:${held.port}`}</Text>
        {` from ${held.session}${approvals.length > 1 ? ` (+${approvals.length - 1} more)` : ''}`}
      </Text>
      <Text wrap="truncate">{answers}</Text>
    </Box>
  );
}

/** Rows the bar takes when it shows (its border and two lines). */
export const HELD_BAR_ROWS = 4;
