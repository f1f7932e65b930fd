/**
 * A stand-in for the Messages API (POST /v1/messages), streamed as server-sent events the way
 * the real API does, so the real `claude` binary can run end to end with no account.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface AnthropicStub {
  port: number;
  requests: Array<{ path: string; apiKey: string | undefined; body: unknown }>;
  close(): Promise<void>;
}

export interface StubOptions {
  /**
   * First ask for this tool (when the request offers it and no tool result came back yet), then
   * answer with the reply: enough for Claude Code to run one tool and finish.
   */
  toolUse?: { name: string; input: Record<string, unknown> };
}

function wantsTool(parsed: unknown, name: string): boolean {
  const body = parsed as { tools?: Array<{ name?: string }>; messages?: Array<{ content?: unknown }> } | undefined;
  if (!body?.tools?.some((t) => t.name === name)) return false;
  const answered = (body.messages ?? []).some((m) => Array.isArray(m.content) && (m.content as Array<{ type?: string }>).some((c) => c.type === 'tool_result'));
  return !answered;
}

export async function startAnthropicStub(reply: string, host = '0.0.0.0', options: StubOptions = {}): Promise<AnthropicStub> {
  const requests: AnthropicStub['requests'] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        parsed = body;
      }
      const apiKey = typeof req.headers['x-api-key'] === 'string' ? req.headers['x-api-key'] : undefined;
      requests.push({ path: req.url ?? '', apiKey, body: parsed });
      if (!(req.url ?? '').startsWith('/v1/messages') || req.method !== 'POST') {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"type":"error","error":{"type":"not_found_error","message":"stub"}}');
        return;
      }
      if ((req.url ?? '').includes('count_tokens')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"input_tokens":10}');
        return;
      }
      const model = (parsed as { model?: string } | undefined)?.model ?? 'claude-stub';
      const stream = (parsed as { stream?: boolean } | undefined)?.stream === true;
      const usage = { input_tokens: 12, output_tokens: 5, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
      if (!stream) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: 'msg_stub', type: 'message', role: 'assistant', model, content: [{ type: 'text', text: reply }], stop_reason: 'end_turn', stop_sequence: null, usage }));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      const send = (event: string, data: unknown): void => void res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      send('message_start', { type: 'message_start', message: { id: 'msg_stub', type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } } });
      if (options.toolUse && wantsTool(parsed, options.toolUse.name)) {
        const id = `toolu_stub${requests.length}`;
        send('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id, name: options.toolUse.name, input: {} } });
        send('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: JSON.stringify(options.toolUse.input) } });
        send('content_block_stop', { type: 'content_block_stop', index: 0 });
        send('message_delta', { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 5 } });
        send('message_stop', { type: 'message_stop' });
        res.end();
        return;
      }
      send('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
      send('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: reply } });
      send('content_block_stop', { type: 'content_block_stop', index: 0 });
      send('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 5 } });
      send('message_stop', { type: 'message_stop' });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
