/** The sessions view: the list (scrolled to keep the selection in view) and the selected session's preview. */
import { Box, Text } from 'ink';
import { useDashboard } from '../context.js';
import { ago, count, pad } from '../format.js';
import type { SessionRow } from '../services.js';
import { Preview } from './preview.js';
import { statusText, statusTone } from './status.js';
import { useSessionsState } from './use-sessions-state.js';

const tokens = (t: SessionRow['tokens']): string => (t ? `${count(t.input + t.cacheRead + t.cacheCreation)}/${count(t.output)}` : '-');

export function Sessions({ width, height }: { width: number; height: number }): React.JSX.Element {
  const { paint } = useDashboard();
  const { rows, selected, filter, filtering, note, preview } = useSessionsState();
  const listHeight = Math.min(rows.length, Math.max(3, Math.floor(height / 3)));
  const at = Math.max(0, rows.findIndex((r) => r.id === selected));
  const first = Math.min(Math.max(0, at - listHeight + 1), Math.max(0, rows.length - listHeight));
  const more = rows.length > listHeight ? ` (${first + 1}-${first + listHeight} of ${rows.length})` : '';
  const wsWidth = Math.max(8, width - 14 - 20 - 8 - 5 - 12 - 8 - 14 - 2);
  const filterShown = filtering || filter !== '';
  return (
    <Box flexDirection="column">
      {filterShown ? <Text color={paint('accent')}>{`/${filter}${filtering ? '█' : ''}`}</Text> : null}
      <Text dimColor>{`${pad('ID', 14)}${pad('STATUS', 20)}${pad('BACKEND', 8)}${pad('AGE', 5)}${pad('NETWORK', 12)}${pad('BLOCKED', 8)}${pad('TOKENS', 14)}WORKSPACE${more}`}</Text>
      {rows.length === 0 ? <Text dimColor>{note ?? 'no sessions: start one with paude --detach (or paude) in a repository'}</Text> : null}
      {rows.slice(first, first + listHeight).map((r) => (
        <Text key={r.id} inverse={r.id === selected} wrap="truncate">
          {pad(r.id, 14)}
          <Text color={paint(statusTone(r.status))}>{pad(statusText(r), 20)}</Text>
          {`${pad(r.backend, 8)}${pad(ago(r.started), 5)}${pad(r.network ?? '-', 12)}${pad(String(r.blocked), 8)}${pad(tokens(r.tokens), 14)}${pad(r.workspace ?? '-', wsWidth)}`}
        </Text>
      ))}
      <Preview lines={preview} selected={selected} width={width} height={height - Math.max(1, listHeight) - 2 - (filterShown ? 1 : 0)} />
    </Box>
  );
}
