/** Runs a command in a container through the engine API, collecting its output or streaming its lines. */
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs `cmd`, calling `onLine` with each line of its stdout as it arrives; resolves when it exits. */
export async function execLines(docker: Docker, containerId: string, cmd: string[], onLine: (line: string) => void = () => undefined): Promise<ExecResult> {
  const exec = await docker.getContainer(containerId).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  let partial = '';
  out.on('data', (d: Buffer) => {
    const text = partial + d.toString();
    const lines = text.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      stdout += `${line}\n`;
      onLine(line);
    }
  });
  err.on('data', (d: Buffer) => (stderr += d.toString()));
  docker.modem.demuxStream(stream, out, err);
  await new Promise<void>((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', reject);
  });
  if (partial) {
    stdout += partial;
    onLine(partial);
  }
  const info = await exec.inspect();
  return { exitCode: info.ExitCode ?? -1, stdout, stderr };
}

/** Like execLines, but a non-zero exit is an error carrying the output. */
export async function execOk(docker: Docker, containerId: string, cmd: string[], onLine?: (line: string) => void): Promise<string> {
  const r = await execLines(docker, containerId, cmd, onLine);
  if (r.exitCode !== 0) throw new Error(`${cmd.join(' ').slice(0, 80)} exited ${r.exitCode}: ${(r.stderr || r.stdout).trim().slice(-300)}`);
  return r.stdout;
}
