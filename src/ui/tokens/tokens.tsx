/** The tokens view: input, output, cache and cost per session and in total, from the telemetry relay. */
import { Box, Text } from 'ink';
import { count, pad } from '../format.js';
import { useTokensState, type Tokens as Totals } from './use-tokens-state.js';

const line = (id: string, t: Totals): string => `${pad(id, 14)}${pad(count(t.input), 10)}${pad(count(t.output), 10)}${pad(count(t.cacheRead), 12)}${pad(count(t.cacheCreation), 14)}$${t.costUsd.toFixed(4)}`;

export function Tokens(): React.JSX.Element {
  const { rows, total, selected } = useTokensState();
  return (
    <Box flexDirection="column">
      <Text dimColor>{`${pad('SESSION', 14)}${pad('INPUT', 10)}${pad('OUTPUT', 10)}${pad('CACHE READ', 12)}${pad('CACHE WRITE', 14)}COST`}</Text>
      {rows.map((r) => (
        <Text key={r.id} inverse={r.id === selected}>
          {line(r.id, r.tokens)}
        </Text>
      ))}
      {rows.length ? <Text bold>{line('total', total)}</Text> : null}
      <Text dimColor>
        {rows.length
          ? "From Claude Code's OpenTelemetry metrics, relayed by paude (and forwarded to telemetry.otel.endpoint when set)."
          : "No telemetry yet: Claude Code exports its token use every 10 s and when it ends, to paude's relay (local engines)."}
      </Text>
    </Box>
  );
}
