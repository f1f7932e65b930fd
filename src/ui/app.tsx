/**
 * The dashboard's screen: a header with the views, the view (or help), the held-request bar
 * (wherever you are), and a footer of notices and key hints. Keys: the one useInput names a key,
 * finds its command in the bindings (keys.ts) and offers it to the input hooks of the prompts,
 * help, the frame, the held bar and the views, in that order (input.ts); each lives in its
 * folder next to its view and state.
 */
import { Box, useInput, useStdout } from 'ink';
import { useMemo } from 'react';
import { Allowlist } from './allowlist/allowlist.js';
import { useAllowlistInput } from './allowlist/use-allowlist-input.js';
import { assertNever } from '../errors.js';
import { DashboardContext, useDashboard, type Dashboard } from './context.js';
import { Footer } from './frame/footer.js';
import { Header } from './frame/header.js';
import { useFrameInput } from './frame/use-frame-input.js';
import { useFrameState, type ViewName } from './frame/use-frame-state.js';
import { HELD_BAR_ROWS, HeldBar } from './held/held-bar.js';
import { useHeldInput } from './held/use-held-input.js';
import { useHeldState } from './held/use-held-state.js';
import { Help } from './help/help.js';
import { useHelpInput } from './help/use-help-input.js';
import { dispatch } from './input.js';
import { keyName, type KeyTable } from './keys.js';
import { Network } from './network/network.js';
import { useNetworkInput } from './network/use-network-input.js';
import { useConfirmInput } from './prompts/use-confirm-input.js';
import { usePromptInput } from './prompts/use-prompt-input.js';
import type { DashboardServices } from './services.js';
import { Sessions } from './sessions/sessions.js';
import { useFilterInput } from './sessions/use-filter-input.js';
import { useSessionsInput } from './sessions/use-sessions-input.js';
import type { DashboardStore } from './store.js';
import type { Paint } from './theme.js';
import { Tokens } from './tokens/tokens.js';

export interface AppProps {
  store: DashboardStore;
  services: DashboardServices;
  keys: KeyTable;
  /** The user asked to attach to this session (the runner hands the terminal over). */
  onAttach: (session: string) => void;
  onQuit: () => void;
  refreshPolicy: () => Promise<void>;
  /** Colours by meaning (theme.ts); absent: none. */
  paint?: Paint;
}

const NO_COLOUR: Paint = () => undefined;

export function App(props: AppProps): React.JSX.Element {
  const { store, services, keys, onAttach, onQuit, refreshPolicy, paint } = props;
  const dashboard = useMemo<Dashboard>(() => ({ store, services, keys, onAttach, onQuit, refreshPolicy, paint: paint ?? NO_COLOUR }), [store, services, keys, onAttach, onQuit, refreshPolicy, paint]);
  return (
    <DashboardContext.Provider value={dashboard}>
      <Screen />
    </DashboardContext.Provider>
  );
}

function Screen(): React.JSX.Element {
  useDashboardKeys();
  const { stdout } = useStdout();
  const size = stdout as NodeJS.WritableStream & { columns?: number; rows?: number };
  const width = Math.max(40, size.columns || 80);
  const height = Math.max(12, size.rows || 24);
  const { view, help, notice, sessionCount } = useFrameState();
  const held = useHeldState().length > 0;
  const bodyHeight = height - 4 - (held ? HELD_BAR_ROWS : 0);
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Header view={view} sessionCount={sessionCount} />
      <Box flexDirection="column" height={bodyHeight} overflow="hidden">
        {help ? <Help width={width} /> : <View view={view} width={width} height={bodyHeight} />}
      </Box>
      <HeldBar />
      <Footer notice={notice} />
    </Box>
  );
}

function View({ view, width, height }: { view: ViewName; width: number; height: number }): React.JSX.Element {
  switch (view) {
    case 'sessions':
      return <Sessions width={width} height={height} />;
    case 'network':
      return <Network width={width} height={height} />;
    case 'allowlist':
      return <Allowlist />;
    case 'tokens':
      return <Tokens />;
    default:
      return assertNever(view, 'view');
  }
}

/** The one key handler: every input hook, in the order they are offered a key. */
function useDashboardKeys(): void {
  const { keys } = useDashboard();
  const handlers = [usePromptInput(), useConfirmInput(), useFilterInput(), useHelpInput(), useFrameInput(), useHeldInput(), useAllowlistInput(), useNetworkInput(), useSessionsInput()];
  useInput((input, key) => {
    const name = keyName(input, key);
    dispatch(handlers, { name, input, command: keys.get(name) });
  });
}
