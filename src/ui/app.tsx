/**
 * The dashboard's screen: a header with the views, the view, the held-request bar (wherever you
 * are), and a line of notices and key hints. One key handler dispatches by mode: a prompt or a
 * confirmation takes the keys first, then help, then the table of bindings (keys.ts).
 */
import { Box, Text, useInput, useStdout } from 'ink';
import { useStore } from 'zustand';
import { COMMANDS, keyName, type CommandId, type KeyTable } from './keys.js';
import type { Paint } from './theme.js';
import type { DashboardServices } from './services.js';
import { VIEWS, visibleSessions, type DashboardState, type DashboardStore, type FeedEvent, type Scope } from './store.js';

export interface AppProps {
  store: DashboardStore;
  services: DashboardServices;
  keys: KeyTable;
  /** The user asked to attach to this session (the runner hands the terminal over). */
  onAttach(session: string): void;
  onQuit(): void;
  refreshPolicy(): Promise<void>;
  /** Colours by meaning (theme.ts); absent: none. */
  paint?: Paint;
}

const TITLES: Record<DashboardState['view'], string> = { sessions: 'Sessions', network: 'Network', allowlist: 'Allowlist', tokens: 'Tokens' };

export function App(props: AppProps): React.JSX.Element {
  const { store } = props;
  const s = useStore(store);
  const { stdout } = useStdout();
  const size = stdout as NodeJS.WritableStream & { columns?: number; rows?: number };
  const width = Math.max(40, size.columns || 80);
  const height = Math.max(12, size.rows || 24);
  useInput((input, key) => void handleKey(props, keyName(input, key), input));
  const color: Paint = props.paint ?? (() => undefined);
  const held = s.approvals[0];
  const bodyHeight = height - 4 - (held ? 4 : 0);
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Box>
        <Text bold>paude </Text>
        {VIEWS.map((v, i) => (
          <Text key={v} inverse={s.view === v}>{` ${i + 1} ${TITLES[v]} `}</Text>
        ))}
        <Text dimColor>{`  ${s.sessions.length} session${s.sessions.length === 1 ? '' : 's'}  ? help  q quit`}</Text>
      </Box>
      <Box flexDirection="column" height={bodyHeight} overflow="hidden">
        {s.help ? <Help keys={props.keys} width={width} /> : <View s={s} width={width} height={bodyHeight} color={color} />}
      </Box>
      {held ? (
        <Box borderStyle="round" borderColor={color('held')} paddingX={1} flexDirection="column">
          <Text wrap="truncate">
            <Text color={color('held')} bold>{`held: ${held.method} ${held.host}:${held.port}`}</Text>
            {` from ${held.session}${s.approvals.length > 1 ? ` (+${s.approvals.length - 1} more)` : ''}`}
          </Text>
          <Text wrap="truncate">o once · s session · P project · G global · d deny</Text>
        </Box>
      ) : null}
      <Footer s={s} color={color} />
    </Box>
  );
}

function View({ s, width, height, color }: { s: DashboardState; width: number; height: number; color: Paint }): React.JSX.Element {
  switch (s.view) {
    case 'sessions':
      return <Sessions s={s} width={width} height={height} color={color} />;
    case 'network':
      return <Network s={s} width={width} height={height} color={color} />;
    case 'allowlist':
      return <Allowlist s={s} color={color} />;
    case 'tokens':
      return <Tokens s={s} />;
  }
}

function ago(iso: string | undefined): string {
  if (!iso) return '-';
  const sec = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  return sec < 60 ? `${sec}s` : sec < 3600 ? `${Math.round(sec / 60)}m` : sec < 86400 ? `${Math.round(sec / 3600)}h` : `${Math.round(sec / 86400)}d`;
}

const pad = (text: string, n: number): string => (text.length > n ? `${text.slice(0, Math.max(0, n - 1))}…` : text.padEnd(n));

function Sessions({ s, width, height, color }: { s: DashboardState; width: number; height: number; color: Paint }): React.JSX.Element {
  const rows = visibleSessions(s);
  const listHeight = Math.min(rows.length, Math.max(3, Math.floor(height / 3)));
  // The list scrolls to keep the selection in view.
  const at = Math.max(0, rows.findIndex((r) => r.id === s.selected));
  const first = Math.min(Math.max(0, at - listHeight + 1), Math.max(0, rows.length - listHeight));
  const more = rows.length > listHeight ? ` (${first + 1}-${first + listHeight} of ${rows.length})` : '';
  const statusColor = (status: string): string | undefined => color(status.startsWith('attached') || status.startsWith('detached') || status === 'running' ? 'live' : status.startsWith('stopped') ? 'idle' : status === 'starting' ? 'starting' : 'problem');
  const wsWidth = Math.max(8, width - 14 - 20 - 8 - 5 - 12 - 8 - 14 - 2);
  return (
    <Box flexDirection="column">
      {s.filtering || s.filter ? <Text color={color('accent')}>{`/${s.filter}${s.filtering ? '█' : ''}`}</Text> : null}
      <Text dimColor>{`${pad('ID', 14)}${pad('STATUS', 20)}${pad('BACKEND', 8)}${pad('AGE', 5)}${pad('NETWORK', 12)}${pad('BLOCKED', 8)}${pad('TOKENS', 14)}WORKSPACE${more}`}</Text>
      {rows.length === 0 ? <Text dimColor>{s.sessionsNote ?? 'no sessions: start one with paude --detach (or paude) in a repository'}</Text> : null}
      {rows.slice(first, first + listHeight).map((r) => (
        <Text key={r.id} inverse={r.id === s.selected} wrap="truncate">
          {pad(r.id, 14)}
          <Text color={statusColor(r.status)}>{pad(r.status, 20)}</Text>
          {`${pad(r.backend, 8)}${pad(ago(r.started), 5)}${pad(r.network ?? '-', 12)}${pad(String(r.blocked), 8)}${pad(r.tokens ? `${count(r.tokens.input + r.tokens.cacheRead + r.tokens.cacheCreation)}/${count(r.tokens.output)}` : '-', 14)}${pad(r.workspace ?? '-', wsWidth)}`}
        </Text>
      ))}
      <Preview s={s} width={width} height={height - Math.max(1, listHeight) - 2 - (s.filtering || s.filter ? 1 : 0)} />
    </Box>
  );
}

function Preview({ s, width, height }: { s: DashboardState; width: number; height: number }): React.JSX.Element | null {
  if (height < 3) return null;
  const p = s.preview && s.preview.session === s.selected ? s.preview : undefined;
  const lines = p ? p.lines : [];
  // The bottom of the screen is where the action is: show the last lines that have text.
  let end = lines.length;
  while (end > 0 && (lines[end - 1] ?? '').trim() === '') end--;
  const shown = lines.slice(Math.max(0, end - (height - 2)), end);
  return (
    <Box flexDirection="column" borderStyle="single" borderDimColor height={height} width={width}>
      {p ? shown.map((l, i) => <Text key={i} wrap="truncate">{l.slice(0, width - 2)}</Text>) : <Text dimColor>{s.selected ? 'no preview (the session has no terminal)' : ''}</Text>}
    </Box>
  );
}

function Network({ s, width, height, color }: { s: DashboardState; width: number; height: number; color: Paint }): React.JSX.Element {
  const events = s.feedScope === 'selected' ? s.events.filter((e) => e.session === s.selected) : s.events;
  const shown = events.slice(-(height - 1));
  const paint = (e: FeedEvent): string | undefined => color(e.decision === 'allow' ? 'allow' : e.decision === 'deny' ? 'deny' : 'held');
  const hosts = Object.entries(s.hostCounts)
    .sort((a, b) => b[1].deny + b[1].allow - (a[1].deny + a[1].allow))
    .slice(0, height - 2);
  const feedWidth = Math.max(30, width - 34);
  return (
    <Box>
      <Box flexDirection="column" width={feedWidth}>
        <Text dimColor>{`${s.paused ? `PAUSED (${s.held.length} waiting) ` : ''}${s.feedScope === 'all' ? 'all sessions' : `${s.selected ?? '-'} only`}  p pause  f scope`}</Text>
        {shown.length === 0 ? <Text dimColor>no requests yet</Text> : null}
        {shown.map((e) => (
          <Text key={e.key} wrap="truncate">
            {new Date(e.time).toISOString().slice(11, 19)} <Text color={paint(e)}>{pad(e.decision.toUpperCase(), 8)}</Text>
            {`${pad(`${e.host}:${e.port}`, 32)} ${pad(e.rule, 16)} ${e.session.slice(6)}`}
          </Text>
        ))}
      </Box>
      <Box flexDirection="column" width={34}>
        <Text dimColor>{pad('HOST', 20)} ALLOW  DENY</Text>
        {hosts.map(([host, c]) => (
          <Text key={host} wrap="truncate">
            {pad(host, 20)}<Text color={color('allow')}>{String(c.allow).padStart(6)}</Text> <Text color={color('deny')}>{String(c.deny).padStart(5)}</Text>
          </Text>
        ))}
      </Box>
    </Box>
  );
}

function Allowlist({ s, color }: { s: DashboardState; color: Paint }): React.JSX.Element {
  const lines = s.policy && s.policy.session === s.selected ? s.policy.lines : undefined;
  return (
    <Box flexDirection="column">
      <Text dimColor>{`policy of ${s.selected ?? '(no session)'}   a allow  D deny (tab: scope)  x remove a session entry`}</Text>
      {!lines ? <Text dimColor>loading…</Text> : null}
      {lines?.length === 0 ? <Text dimColor>nothing allowed: every request is refused (or held in ask mode)</Text> : null}
      {lines?.map((l, i) => (
        <Text key={`${l.effect}:${l.text}:${i}`} inverse={i === s.policyCursor}>
          <Text color={color(l.effect === 'allow' ? 'allow' : 'deny')}>{pad(l.effect, 6)}</Text>
          {pad(l.text, 44)}
          <Text dimColor>{l.source}</Text>
        </Text>
      ))}
    </Box>
  );
}

const count = (x: number): string => (x >= 1_000_000 ? `${(x / 1_000_000).toFixed(1)}M` : x >= 1000 ? `${(x / 1000).toFixed(1)}k` : String(Math.round(x)));

function Tokens({ s }: { s: DashboardState }): React.JSX.Element {
  const rows = s.sessions.filter((r) => r.tokens);
  const sum = rows.reduce((t, r) => ({ input: t.input + (r.tokens?.input ?? 0), output: t.output + (r.tokens?.output ?? 0), cacheRead: t.cacheRead + (r.tokens?.cacheRead ?? 0), cacheCreation: t.cacheCreation + (r.tokens?.cacheCreation ?? 0), costUsd: t.costUsd + (r.tokens?.costUsd ?? 0) }), { input: 0, output: 0, cacheRead: 0, cacheCreation: 0, costUsd: 0 });
  const line = (id: string, t: typeof sum): string => `${pad(id, 14)}${pad(count(t.input), 10)}${pad(count(t.output), 10)}${pad(count(t.cacheRead), 12)}${pad(count(t.cacheCreation), 14)}$${t.costUsd.toFixed(4)}`;
  return (
    <Box flexDirection="column">
      <Text dimColor>{`${pad('SESSION', 14)}${pad('INPUT', 10)}${pad('OUTPUT', 10)}${pad('CACHE READ', 12)}${pad('CACHE WRITE', 14)}COST`}</Text>
      {rows.map((r) => (
        <Text key={r.id} inverse={r.id === s.selected}>
          {line(r.id, r.tokens ?? sum)}
        </Text>
      ))}
      {rows.length ? <Text bold>{line('total', sum)}</Text> : null}
      <Text dimColor>
        {rows.length
          ? "From Claude Code's OpenTelemetry metrics, relayed by paude (and forwarded to telemetry.otel.endpoint when set)."
          : "No telemetry yet: Claude Code exports its token use every 10 s and when it ends, to paude's relay (local engines)."}
      </Text>
    </Box>
  );
}

function Help({ keys, width }: { keys: KeyTable; width: number }): React.JSX.Element {
  const byCommand = new Map<CommandId, string[]>();
  for (const [key, id] of keys) byCommand.set(id, [...(byCommand.get(id) ?? []), key]);
  const ids = Object.keys(COMMANDS) as CommandId[];
  // Two columns: every binding fits an 80x24 terminal.
  const half = Math.ceil(ids.length / 2);
  const column = Math.floor(width / 2);
  const line = (id: CommandId | undefined): string => (id ? `${pad((byCommand.get(id) ?? []).join(' '), 10)}${COMMANDS[id]}` : '');
  return (
    <Box flexDirection="column">
      <Text bold>Keys (ui.keys in your global paude.json changes them)   ? closes</Text>
      {ids.slice(0, half).map((id, i) => (
        <Text key={id} wrap="truncate">
          {pad(line(id), column)}
          {line(ids[half + i]).slice(0, column)}
        </Text>
      ))}
    </Box>
  );
}

function Footer({ s, color }: { s: DashboardState; color: Paint }): React.JSX.Element {
  if (s.prompt?.kind === 'new-session') {
    return (
      <Box flexDirection="column">
        <Text wrap="truncate">
          {`new session: ${s.prompt.what === 'shell' ? 'a shell' : 'Claude Code'} on ${s.prompt.backend} (tab changes) in `}
          <Text color={color('accent')}>{s.prompt.text}█</Text>
        </Text>
        <Text dimColor wrap="truncate">enter starts it, escape cancels</Text>
      </Box>
    );
  }
  if (s.prompt) {
    return (
      <Box flexDirection="column">
        <Text wrap="truncate">
          {`${s.prompt.effect} at ${s.prompt.scope} scope (tab changes): `}
          <Text color={color('accent')}>{s.prompt.text}█</Text>
        </Text>
        <Text color={color('problem')} wrap="truncate">{s.prompt.text && s.prompt.error ? s.prompt.error : ' '}</Text>
      </Box>
    );
  }
  if (s.confirm) return <Text color={color('held')} wrap="truncate">{`${s.confirm.message} (y/n)`}</Text>;
  return (
    <Box flexDirection="column">
      <Text wrap="truncate">{s.notice ?? ' '}</Text>
      <Text dimColor wrap="truncate">↑↓ select  enter attach  n new  / filter  O sort  S stop  R remove  tab view</Text>
    </Box>
  );
}

const SCOPES: Array<Exclude<Scope, 'once'>> = ['session', 'project', 'global'];
const CHOICES: Array<{ what: 'shell' | 'claude'; backend: 'auto' | 'podman' | 'docker' }> = [
  { what: 'shell', backend: 'auto' },
  { what: 'claude', backend: 'auto' },
  { what: 'shell', backend: 'podman' },
  { what: 'claude', backend: 'podman' },
  { what: 'shell', backend: 'docker' },
  { what: 'claude', backend: 'docker' },
];

/** Typed (or pasted) text, as opposed to a key with a name. */
function printable(name: string, input: string): boolean {
  // eslint-disable-next-line no-control-regex -- control characters are what this refuses
  return input.length > 0 && !name.startsWith('ctrl-') && !['return', 'escape', 'tab', 'shift-tab', 'backspace', 'up', 'down', 'left', 'right'].includes(name) && !/[\u0000-\u001f\u007f]/.test(input);
}

async function handleKey(props: AppProps, name: string, input: string): Promise<void> {
  const { store, services } = props;
  const s = store.getState();
  const run = async (work: () => Promise<string>): Promise<void> => {
    try {
      s.say(await work());
    } catch (error) {
      store.getState().say(`error: ${(error as Error).message}`);
    }
  };

  if (s.prompt?.kind === 'new-session') {
    const p = s.prompt;
    if (name === 'escape') return s.setPrompt(undefined);
    if (name === 'tab') {
      const i = (CHOICES.findIndex((c) => c.what === p.what && c.backend === p.backend) + 1) % CHOICES.length;
      return s.setPrompt({ ...p, ...(CHOICES[i] ?? CHOICES[0]) });
    }
    if (name === 'return') {
      s.setPrompt(undefined);
      s.say(`starting ${p.what === 'shell' ? 'a shell' : 'Claude Code'} in ${p.text}…`);
      try {
        const id = await services.newSession(p.text, p.what, p.backend);
        store.getState().say(`started ${id}`);
        store.getState().select(id);
      } catch (error) {
        store.getState().say(`error: ${(error as Error).message}`);
      }
      return;
    }
    const text = name === 'backspace' ? p.text.slice(0, -1) : printable(name, input) ? p.text + input : p.text;
    return s.setPrompt({ ...p, text });
  }
  if (s.prompt) {
    const p = s.prompt;
    if (name === 'escape') return s.setPrompt(undefined);
    if (name === 'tab') return s.setPrompt({ ...p, scope: SCOPES[(SCOPES.indexOf(p.scope) + 1) % SCOPES.length] ?? 'session' });
    if (name === 'return') {
      const error = services.checkEntry(p.text);
      if (error) return s.setPrompt({ ...p, error });
      s.setPrompt(undefined);
      if (!s.selected) return;
      await run(() => services.changePolicy(s.selected ?? '', p.effect, p.text, p.scope));
      await props.refreshPolicy();
      return;
    }
    const text = name === 'backspace' ? p.text.slice(0, -1) : printable(name, input) ? p.text + input : p.text;
    return s.setPrompt({ ...p, text, error: text ? services.checkEntry(text) : undefined });
  }
  if (s.confirm) {
    const c = s.confirm;
    s.setConfirm(undefined);
    if (input !== 'y') return s.say('cancelled');
    if (c.action === 'stop') return run(() => services.stop(c.target));
    if (c.action === 'remove') return run(() => services.remove(c.target));
    return;
  }
  if (s.filtering) {
    if (name === 'return' || name === 'escape') return s.setFilter(name === 'escape' ? '' : s.filter, false);
    if (name === 'backspace') return s.setFilter(s.filter.slice(0, -1), true);
    if (printable(name, input)) return s.setFilter(s.filter + input, true);
    return;
  }

  const command = props.keys.get(name);
  if (s.help && command !== 'help' && command !== 'quit') return;
  const held = s.approvals[0];
  switch (command) {
    case undefined:
      return;
    case 'quit':
      return props.onQuit();
    case 'help':
      return s.toggleHelp();
    case 'up':
    case 'down': {
      const delta = command === 'up' ? -1 : 1;
      if (s.view === 'allowlist') return s.movePolicy(delta);
      return s.move(delta);
    }
    case 'attach': {
      const row = s.sessions.find((r) => r.id === s.selected);
      if (!row) return;
      if (!row.attachable) return s.say(`${row.id} cannot be attached (${row.status})`);
      return props.onAttach(row.id);
    }
    case 'nextView':
    case 'prevView': {
      const i = VIEWS.indexOf(s.view) + (command === 'nextView' ? 1 : -1);
      return s.setView(VIEWS[(i + VIEWS.length) % VIEWS.length] ?? 'sessions');
    }
    case 'sessions':
    case 'network':
    case 'allowlist':
    case 'tokens':
      return s.setView(command);
    case 'filter':
      return s.setFilter(s.filter, true);
    case 'pause':
      return s.togglePause();
    case 'feedScope':
      return s.toggleFeedScope();
    case 'approveOnce':
    case 'approveSession':
    case 'approveProject':
    case 'approveGlobal':
    case 'deny': {
      if (!held) return command === 'approveSession' ? undefined : s.say('no request is waiting');
      const scope: Scope | 'deny' = command === 'approveOnce' ? 'once' : command === 'approveSession' ? 'session' : command === 'approveProject' ? 'project' : command === 'approveGlobal' ? 'global' : 'deny';
      s.setApprovals(s.approvals.slice(1));
      return run(() => services.decide(held, scope));
    }
    case 'addAllow':
    case 'addDeny':
      if (!s.selected) return s.say('select a session first');
      if (s.view !== 'allowlist') s.setView('allowlist');
      return s.setPrompt({ kind: 'add-entry', effect: command === 'addAllow' ? 'allow' : 'deny', scope: 'session', text: '' });
    case 'removeEntry': {
      const line = s.policy?.lines[s.policyCursor];
      if (s.view !== 'allowlist' || !line || !s.selected) return;
      await run(() => services.removeSessionEntry(s.selected ?? '', line.effect, line.text));
      return props.refreshPolicy();
    }
    case 'removeSession': {
      const row = s.sessions.find((r) => r.id === s.selected);
      if (!row) return;
      return s.setConfirm({ message: `remove ${row.id}${row.status.startsWith('stopped') ? '' : ' (it is running: it is stopped first)'}? containers, volumes and metadata go`, action: 'remove', target: row.id });
    }
    case 'sort':
      s.cycleSort();
      return s.say(`sorted by ${store.getState().sort}`);
    case 'newSession':
      return s.setPrompt({ kind: 'new-session', text: services.cwd, what: 'shell', backend: 'auto' });
    case 'stop':
      if (!s.selected) return;
      return s.setConfirm({ message: `stop ${s.selected}? its command gets SIGHUP; its state is kept`, action: 'stop', target: s.selected });
  }
}
