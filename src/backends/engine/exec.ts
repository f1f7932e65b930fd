/** Runs a command in a container through the engine API and collects its output and exit code. */
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';

export interface ContainerExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface ContainerExecOptions {
  user?: string;
  env?: string[];
  /** Called with each complete line of stdout as it arrives. */
  onLine?: (line: string) => void;
}

export async function execInContainer(docker: Docker, containerId: string, cmd: string[], options: ContainerExecOptions = {}): Promise<ContainerExecResult> {
  const exec = await docker.getContainer(containerId).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true, User: options.user, Env: options.env });
  const stream = await exec.start({ hijack: true, stdin: false });
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  let partial = '';
  out.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (!options.onLine) return;
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) options.onLine(line);
  });
  err.on('data', (d: Buffer) => (stderr += d.toString()));
  docker.modem.demuxStream(stream, out, err);
  await new Promise<void>((resolve, reject) => {
    stream.once('end', resolve);
    stream.once('close', resolve);
    stream.once('error', reject);
  });
  if (partial) options.onLine?.(partial);
  return { exitCode: (await exec.inspect()).ExitCode ?? -1, stdout, stderr };
}
