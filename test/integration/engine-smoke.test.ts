import { expect, it } from 'vitest';
import { demuxLogs, describeEngines, isNotFound } from '../support/engine-test.js';

describeEngines('engine round trip', (engine) => {
  it('creates a container from the local base image, runs a command, reads output and exit code, removes it', async () => {
    const name = engine.uniqueName('smoke');
    const container = await engine.docker.createContainer({
      name,
      Image: engine.baseImage,
      Cmd: ['sh', '-c', 'echo "hello from $(id -un)"; echo "to stderr" >&2; exit 3'],
      Labels: engine.labels,
    });
    engine.defer(() => container.remove({ force: true }));

    await container.start();
    const result = (await container.wait()) as { StatusCode: number };
    expect(result.StatusCode).toBe(3);

    const logs = demuxLogs(await container.logs({ stdout: true, stderr: true, follow: false }));
    expect(logs.stdout).toBe('hello from root\n');
    expect(logs.stderr).toBe('to stderr\n');

    const info = await container.inspect();
    expect(info.Config.Labels).toMatchObject(engine.labels);
    expect(info.State.ExitCode).toBe(3);

    await container.remove();
    const gone = await container.inspect().then(
      () => false,
      (error: unknown) => isNotFound(error),
    );
    expect(gone).toBe(true);
  });
});
