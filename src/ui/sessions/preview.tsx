/** The selected session's screen, live, under the list: its last lines that have text. */
import { Box, Text } from 'ink';

export function Preview({ lines, selected, width, height }: { lines?: string[]; selected?: string; width: number; height: number }): React.JSX.Element | null {
  if (height < 3) return null;
  // The bottom of the screen is where the action is: show the last lines that have text.
  const all = lines ?? [];
  let end = all.length;
  while (end > 0 && (all[end - 1] ?? '').trim() === '') end--;
  const shown = all.slice(Math.max(0, end - (height - 2)), end);
  return (
    <Box flexDirection="column" borderStyle="single" borderDimColor height={height} width={width}>
      {lines ? shown.map((l, i) => <Text key={i} wrap="truncate">{l.slice(0, width - 2)}</Text>) : <Text dimColor>{selected ? 'no preview (the session has no terminal)' : ''}</Text>}
    </Box>
  );
}
