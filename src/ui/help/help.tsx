/** Every command with its keys, from the bindings (so a key moved in ui.keys shows where it went). */
import { Box, Text } from 'ink';
import { useDashboard } from '../context.js';
import { pad } from '../format.js';
import { COMMANDS, hint, keysOf, type CommandId } from '../keys.js';

export function Help({ width }: { width: number }): React.JSX.Element {
  const { keys } = useDashboard();
  const ids = Object.keys(COMMANDS) as CommandId[];
  // Two columns: every binding fits an 80x24 terminal. Keys by the names ui.keys takes.
  const half = Math.ceil(ids.length / 2);
  const column = Math.floor(width / 2);
  const line = (id: CommandId | undefined): string => (id ? `${pad(keysOf(keys, id).join(' '), 10)}${COMMANDS[id]}` : '');
  return (
    <Box flexDirection="column">
      <Text bold>{`Keys (ui.keys in your global paude.json changes them)   ${hint(keys, 'help', 'closes')}`}</Text>
      {ids.slice(0, half).map((id, i) => (
        <Text key={id} wrap="truncate">
          {pad(line(id), column)}
          {line(ids[half + i]).slice(0, column)}
        </Text>
      ))}
    </Box>
  );
}
