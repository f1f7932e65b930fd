import { afterEach, describe, expect, it } from 'vitest';
import { keyTable } from './keys.js';
import { createDashboardStore, FEED_LIMIT, type FeedEvent } from './store.js';
import { renderApp, type Rendered } from './test-render.js';

const ev = (i: number, decision: FeedEvent['decision'] = 'deny', host = `h${i}.test`): FeedEvent => ({ key: `s:${i}`, time: Date.UTC(2026, 10, 27, 8, 0, i % 60), session: 'paude-aaaaaa', host, port: 443, method: 'CONNECT', decision, rule: decision === 'deny' ? 'not-allowed' : 'example.com' });

describe('dashboard', () => {
  let app: Rendered | undefined;
  afterEach(() => app?.unmount());

  it('lists sessions with status, backend, network and blocked counts; arrows select; / filters', async () => {
    app = renderApp();
    const f = app.frame();
    expect(f).toMatch(/paude-aaaaaa\s+detached\s+podman\s+2m\s+restricted\s+2\s+1\.5k\/340\s+\/src\/alpha/);
    expect(f).toMatch(/paude-bbbbbb\s+running\s+docker\s+5s\s+ask\s+0\s+-\s+\/src\/beta/);
    // Newest first; the selection starts on the first row.
    expect(f.indexOf('paude-bbbbbb')).toBeLessThan(f.indexOf('paude-aaaaaa'));
    expect(app.store.getState().selected).toBe('paude-bbbbbb');
    await app.press('\x1b[B'); // down
    expect(app.store.getState().selected).toBe('paude-aaaaaa');
    await app.press('O'); // sort by status: attached/detached before running
    expect(app.frame()).toContain('sorted by status');
    expect(app.frame().indexOf('paude-aaaaaa')).toBeLessThan(app.frame().indexOf('paude-bbbbbb'));
    await app.press('/');
    await app.press('alp');
    expect(app.frame()).toContain('/alp');
    expect(app.frame()).not.toContain('paude-bbbbbb');
    await app.press('\r');
    expect(app.store.getState().filtering).toBe(false);
  });

  it('enter attaches an attachable session and says why not otherwise', async () => {
    app = renderApp();
    await app.press('j');
    await app.press('\r');
    expect(app.onAttach).toHaveBeenCalledWith('paude-aaaaaa');
    await app.press('k');
    await app.press('\r');
    expect(app.onAttach).toHaveBeenCalledTimes(1);
    expect(app.frame()).toContain('paude-bbbbbb cannot be attached (running)');
  });

  it('shows a held request wherever you are and answers it with the chosen scope', async () => {
    app = renderApp();
    await app.press('2');
    app.store.getState().setApprovals([
      { session: 'paude-aaaaaa', id: '1-2-3', host: 'packages.example.test', port: 443, method: 'CONNECT', since: Date.now() },
      { session: 'paude-bbbbbb', id: '4-5-6', host: 'evil.test', port: 80, method: 'GET', since: Date.now() },
    ]);
    await app.press('');
    expect(app.frame()).toMatch(/held: CONNECT packages\.example\.test:443 from paude-aaaaaa \(\+1 more\)[\s│]+o once · s session · P project · G global · d deny/);
    await app.press('P');
    expect(app.calls('decide')[0]).toEqual([expect.objectContaining({ host: 'packages.example.test' }), 'project']);
    expect(app.frame()).toContain('held: GET evil.test:80');
    await app.press('d');
    expect(app.calls('decide')[1]).toEqual([expect.objectContaining({ host: 'evil.test' }), 'deny']);
    expect(app.frame()).not.toContain('held:');
    expect(app.frame()).toContain('decided evil.test deny');
  });

  it('the network view colours nothing without colour but shows decisions, hosts and counts; p pauses', async () => {
    app = renderApp();
    await app.press('2');
    app.store.getState().addEvents([ev(1, 'allow', 'api.anthropic.com'), ev(2, 'deny', 'evil.test'), ev(3, 'deny', 'evil.test')]);
    await app.press('');
    const f = app.frame();
    expect(f).toMatch(/ALLOW\s+api\.anthropic\.com:443/);
    expect(f).toMatch(/DENY\s+evil\.test:443\s+not-allowed/);
    expect(f).toMatch(/evil\.test\s+0\s+2/);
    await app.press('p');
    app.store.getState().addEvents([ev(4, 'deny', 'later.test')]);
    await app.press('');
    expect(app.frame()).toContain('PAUSED (1 waiting)');
    expect(app.frame()).not.toMatch(/DENY\s+later\.test/);
    await app.press('p');
    expect(app.frame()).toMatch(/DENY\s+later\.test/);
  });

  it('adds an allowlist entry with validation as you type and a scope chosen with tab', async () => {
    app = renderApp();
    await app.press('3');
    await new Promise((r) => setTimeout(r, 50));
    expect(app.frame()).toMatch(/allow\s+api\.anthropic\.com\s+builtin/);
    await app.press('a');
    await app.press('bad host');
    expect(app.frame()).toContain('"bad host" is not a valid entry');
    for (let i = 0; i < 'bad host'.length; i++) await app.press('\x7f');
    await app.press('packages.example.test');
    expect(app.frame()).not.toContain('is not a valid entry');
    await app.press('\t');
    expect(app.frame()).toContain('allow at project scope');
    await app.press('\r');
    expect(app.calls('changePolicy')).toEqual([['paude-bbbbbb', 'allow', 'packages.example.test', 'project']]);
    expect(app.frame()).toContain('allow packages.example.test project paude-bbbbbb');
  });

  it('starts a new session in a workspace, shell or Claude, on a chosen backend, and selects it', async () => {
    app = renderApp();
    await app.press('n');
    expect(app.frame()).toContain('new session: a shell on auto (tab changes) in /src/alpha');
    await app.press('\t');
    await app.press('\t');
    expect(app.frame()).toContain('new session: a shell on podman');
    await app.press('/x');
    await app.press('\r');
    await new Promise((r) => setTimeout(r, 30));
    expect(app.calls('newSession').map((c) => c.slice(0, 3))).toEqual([['/src/alpha/x', 'shell', 'podman']]);
    expect(app.frame()).toContain('started paude-newshp');
    expect(app.store.getState().selected).toBe('paude-newshp');
  });

  it('asks before removing a session, and removes it on y', async () => {
    app = renderApp();
    await app.press('R');
    expect(app.frame()).toContain('remove paude-bbbbbb (it is running: it is stopped first)? containers, volumes and metadata go (y/n)');
    await app.press('y');
    expect(app.calls('remove')).toEqual([['paude-bbbbbb']]);
  });

  it('asks before stopping a session', async () => {
    app = renderApp();
    await app.press('j');
    await app.press('S');
    expect(app.frame()).toContain('stop paude-aaaaaa? its command gets SIGHUP; its state is kept (y/n)');
    await app.press('n');
    expect(app.calls('stop')).toEqual([]);
    await app.press('S');
    await app.press('y');
    expect(app.calls('stop')).toEqual([['paude-aaaaaa']]);
  });

  it('shows tokens and cost per session and in total in the tokens view', async () => {
    app = renderApp();
    await app.press('4');
    expect(app.frame()).toMatch(/SESSION\s+INPUT\s+OUTPUT\s+CACHE READ\s+CACHE WRITE\s+COST/);
    expect(app.frame()).toMatch(/paude-aaaaaa\s+1\.2k\s+340\s+300\s+0\s+\$0\.0123/);
    expect(app.frame()).toMatch(/total\s+1\.2k\s+340\s+300\s+0\s+\$0\.0123/);
  });

  it('shows every binding in help, and q quits', async () => {
    app = renderApp();
    await app.press('?');
    expect(app.frame()).toMatch(/P\s+approve it for the project/);
    expect(app.frame()).toMatch(/n\s+start a new session/);
    await app.press('?');
    await app.press('q');
    expect(app.onQuit).toHaveBeenCalled();
  });
});

describe('dashboard keys as the user bound them', () => {
  let app: Rendered | undefined;
  afterEach(() => app?.unmount());

  it('shows a remapped key in the hints and in help, and the new key does the thing', async () => {
    app = renderApp({ keys: { approveSession: 'z', attach: 'l', quit: 'Q' } });
    app.store.getState().setApprovals([{ session: 'paude-aaaaaa', id: '1-2-3', host: 'packages.example.test', port: 443, method: 'CONNECT', since: Date.now() }]);
    await app.press('');
    expect(app.frame()).toContain('o once · z session · P project · G global · d deny');
    expect(app.frame()).not.toContain('s session');
    expect(app.frame()).toMatch(/↑↓ select {2}l attach {2}n new/);
    expect(app.frame()).toContain('? help  Q quit');
    await app.press('s');
    expect(app.calls('decide')).toEqual([]);
    await app.press('z');
    expect(app.calls('decide')).toEqual([[expect.objectContaining({ host: 'packages.example.test' }), 'session']]);
    await app.press('j');
    await app.press('l');
    expect(app.onAttach).toHaveBeenCalledWith('paude-aaaaaa');
    await app.press('?');
    expect(app.frame()).toMatch(/z\s+approve it for the session/);
    expect(app.frame()).toMatch(/l\s+attach to the selected session/);
    expect(app.frame()).toContain('? closes');
  });

  it('leaves out the hint of a command the user unbound', () => {
    app = renderApp({ keys: { stop: [] } });
    expect(app.frame()).toMatch(/O sort {2}R remove/);
    expect(app.frame()).not.toContain('S stop');
  });
});

describe('dashboard store and keys', () => {
  it('keeps the feed bounded however many events arrive', () => {
    const store = createDashboardStore();
    for (let batch = 0; batch < 10; batch++) store.getState().addEvents(Array.from({ length: 1000 }, (_, i) => ev(batch * 1000 + i)));
    expect(store.getState().events).toHaveLength(FEED_LIMIT);
    expect(store.getState().events.at(-1)?.key).toBe('s:9999');
    // Host counts are bounded too: the most used are kept.
    expect(Object.keys(store.getState().hostCounts).length).toBeLessThanOrEqual(2000);
  });

  it('takes user key overrides and refuses an unknown command id with the file and key named', () => {
    const table = keyTable({ quit: 'Q', attach: ['return', 'l'] });
    expect(table.get('Q')).toBe('quit');
    expect(table.get('l')).toBe('attach');
    expect(() => keyTable({ qiut: 'x' }, '/home/u/.config/paude/paude.json')).toThrow(/^\/home\/u\/\.config\/paude\/paude\.json: ui\.keys\.qiut is not a dashboard command \(expected one of up, down/);
  });
});
