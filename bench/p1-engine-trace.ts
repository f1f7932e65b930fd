/**
 * Preloaded into a traced `paude` run (node --import) to see where its time goes without
 * touching src/: every HTTP request the process makes (all of them engine API calls) with when
 * it started, when its answer began and when it ended, written as JSON to $PAUDE_BENCH_TRACE
 * when the process exits. Times are ms since the process's time origin.
 */
import { subscribe } from 'node:diagnostics_channel';
import { writeFileSync } from 'node:fs';
import type { ClientRequest, IncomingMessage } from 'node:http';

interface Call {
  method: string;
  path: string;
  start: number;
  /** The answer's headers (or the upgrade, for attach). */
  answered?: number;
  end?: number;
  status?: number;
}

const file = process.env.PAUDE_BENCH_TRACE;
const calls: Call[] = [];
const loadedAt = performance.now();

if (file) {
  subscribe('http.client.request.start', (message) => {
    const request = (message as { request: ClientRequest }).request;
    const call: Call = { method: request.method, path: request.path, start: performance.now() };
    calls.push(call);
    request.once('response', (response: IncomingMessage) => {
      call.answered = performance.now();
      call.status = response.statusCode;
      response.once('end', () => (call.end = performance.now()));
    });
    request.once('upgrade', (response: IncomingMessage) => {
      call.answered = performance.now();
      call.status = response.statusCode;
    });
    request.once('close', () => (call.end ??= performance.now()));
  });
  process.once('exit', () => {
    writeFileSync(file, JSON.stringify({ timeOrigin: performance.timeOrigin, loadedAt, exitAt: performance.now(), calls }));
  });
}
