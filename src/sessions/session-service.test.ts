import { describe, expect, it } from 'vitest';
import { PaudeError, UsageError } from '../errors.js';
import { SessionService, type SessionView } from './session-service.js';

/** A service whose engines answer with these sessions. */
function serviceWith(ids: string[]): SessionService {
  const sessions = ids.map((id): SessionView => ({ id, status: 'detached', backend: 'podman', endpoint: 'unix:///run/podman/podman.sock', blocked: 0 }));
  return new (class extends SessionService {
    override list(): ReturnType<SessionService['list']> {
      const listed = { sessions, unreachable: [], warnings: [], reached: 1 };
      return Promise.resolve(listed);
    }
  })({ configDir: '/x', dataDir: '/x', cacheDir: '/x', globalConfigFile: '/x/paude.json', trustFile: '/x/trust.json', sessionsDir: '/x/sessions', watchersDir: '/x/watchers' }, { type: 'auto' }, {});
}

/** Problems found by test/fuzz/session-refs.test.ts and fixed; these keep them fixed. */
describe('SessionService.find: regressions', () => {
  // The reference was put in the message between plain quotes, so `paude stop $'a\nb'` (or an
  // escape sequence) split the message or reached the terminal raw.
  it('quotes an unknown or ambiguous reference so the message stays one line', async () => {
    const service = serviceWith(['paude-ab12cd', 'paude-ab34ef']);
    await expect(service.find('zz\n\u001b[2J')).rejects.toThrow(new PaudeError('no session "zz\\n\\u001b[2J" (sessions: paude-ab12cd, paude-ab34ef)'));
    await expect(service.find('ab')).rejects.toThrow(new UsageError('"ab" matches paude-ab12cd, paude-ab34ef; give more of the id'));
    await expect(service.find('ab1')).resolves.toMatchObject({ id: 'paude-ab12cd' });
  });
});
