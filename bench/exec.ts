/** Runs a command in a container through the engine API, collecting its output or streaming its lines. */
import { execInContainer, type ContainerExecResult } from '../dist/backends/engine/exec.js';
import type Docker from 'dockerode';

export type ExecResult = ContainerExecResult;

/** Runs `cmd`, calling `onLine` with each line of its stdout as it arrives; resolves when it exits. */
export function execLines(docker: Docker, containerId: string, cmd: string[], onLine: (line: string) => void = () => undefined): Promise<ExecResult> {
  return execInContainer(docker, containerId, cmd, { onLine });
}

/** Like execLines, but a non-zero exit is an error carrying the output. */
export async function execOk(docker: Docker, containerId: string, cmd: string[], onLine?: (line: string) => void): Promise<string> {
  const r = await execLines(docker, containerId, cmd, onLine);
  if (r.exitCode !== 0) throw new Error(`${cmd.join(' ').slice(0, 80)} exited ${r.exitCode}: ${(r.stderr || r.stdout).trim().slice(-300)}`);
  return r.stdout;
}
