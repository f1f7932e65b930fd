/**
 * An engine that refuses one of a session's containers is one sentence naming the container,
 * the engine's reason and what to try, with the engine's exit code, and nothing is left behind.
 * The positive control is the same project with the run's real agent image: it starts.
 */
import { expect, it } from 'vitest';
import { describeEngines } from '../support/engine-test.js';
import { testProject } from '../support/workspace.js';

describeEngines('engine refusals', (engine) => {
  it("says in one sentence that the agent's image is not on the engine, and leaves nothing", async () => {
    const missing = `localhost/${engine.uniqueName('no-such-image')}:1`;
    const p = await testProject(engine, { config: { image: { agent: missing, proxy: engine.images.proxy } } });
    const r = await p.paude(['--shell', '--', 'true']);
    expect(r.code).toBe(5);
    const lines = r.stderr.trim().split('\n');
    expect(lines.at(-1)).toMatch(new RegExp(`^paude: the engine could not create the session's agent container: .*${missing.replace(/[.:/]/g, '\\$&')}.*; the agent image is not on the engine: run paude again with --rebuild$`));
    expect(r.stderr).not.toContain('HTTP code');
    expect(r.stderr).not.toContain('unexpected error');
    const left = await engine.docker.listContainers({ all: true, filters: JSON.stringify({ label: [`paude.workspace=${p.ws}`] }) });
    expect(left).toEqual([]);

    // Control: the same kind of project with the run's agent image runs its command.
    const ok = await testProject(engine);
    const fine = await ok.paude(['--shell', '--', 'true']);
    expect(fine.code, fine.stderr).toBe(0);
  });
});
