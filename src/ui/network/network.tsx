/** The network view: the feed of proxy events (all sessions or the selected one) beside the counts per host. */
import { Box, Text } from 'ink';
import { useDashboard } from '../context.js';
import { pad } from '../format.js';
import { hints } from '../keys.js';
import type { FeedEvent } from '../services.js';
import type { Token } from '../theme.js';
import { useNetworkState } from './use-network-state.js';

const TONE: Record<FeedEvent['decision'], Token> = { allow: 'allow', deny: 'deny', pending: 'held' };

export function Network({ width, height }: { width: number; height: number }): React.JSX.Element {
  const { paint, keys } = useDashboard();
  const s = useNetworkState();
  const events = s.feedScope === 'selected' ? s.events.filter((e) => e.session === s.selected) : s.events;
  const shown = events.slice(-(height - 1));
  const hosts = Object.entries(s.hostCounts)
    .sort((a, b) => b[1].deny + b[1].allow - (a[1].deny + a[1].allow))
    .slice(0, height - 2);
  const feedWidth = Math.max(30, width - 34);
  const scope = s.feedScope === 'all' ? 'all sessions' : `${s.selected ?? '-'} only`;
  return (
    <Box>
      <Box flexDirection="column" width={feedWidth}>
        <Text dimColor>{`${s.paused ? `PAUSED (${s.held.length} waiting) ` : ''}${scope}  ${hints(keys, [['pause', 'pause'], ['feedScope', 'scope']])}`}</Text>
        {shown.length === 0 ? <Text dimColor>no requests yet</Text> : null}
        {shown.map((e) => (
          <Text key={e.key} wrap="truncate">
            {new Date(e.time).toISOString().slice(11, 19)} <Text color={paint(TONE[e.decision])}>{pad(e.decision.toUpperCase(), 8)}</Text>
            {`${pad(`${e.host}:${e.port}`, 32)} ${pad(e.rule, 16)} ${e.session.slice(6)}`}
          </Text>
        ))}
      </Box>
      <Box flexDirection="column" width={34}>
        <Text dimColor>{pad('HOST', 20)} ALLOW  DENY</Text>
        {hosts.map(([host, c]) => (
          <Text key={host} wrap="truncate">
            {pad(host, 20)}
            <Text color={paint('allow')}>{String(c.allow).padStart(6)}</Text> <Text color={paint('deny')}>{String(c.deny).padStart(5)}</Text>
          </Text>
        ))}
      </Box>
    </Box>
  );
}
