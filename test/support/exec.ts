/** Runs a command in a container through the engine API (the product's own exec). */
export { execInContainer as execIn, type ContainerExecResult as ExecResult } from '../../src/backends/engine/exec.js';
