/** The top line: the views (the shown one inverted), how many sessions, and the keys for help and quit. */
import { Box, Text } from 'ink';
import { useDashboard } from '../context.js';
import { hints } from '../keys.js';
import { VIEWS, type ViewName } from './use-frame-state.js';

const TITLES: Record<ViewName, string> = { sessions: 'Sessions', network: 'Network', allowlist: 'Allowlist', tokens: 'Tokens' };

export function Header({ view, sessionCount }: { view: ViewName; sessionCount: number }): React.JSX.Element {
  const { keys } = useDashboard();
  return (
    <Box>
      <Text bold>paude </Text>
      {VIEWS.map((v, i) => (
        <Text key={v} inverse={view === v}>{` ${i + 1} ${TITLES[v]} `}</Text>
      ))}
      <Text dimColor>{`  ${sessionCount} session${sessionCount === 1 ? '' : 's'}  ${hints(keys, [['help', 'help'], ['quit', 'quit']])}`}</Text>
    </Box>
  );
}
