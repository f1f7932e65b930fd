import { it } from 'vitest';
import { parseConfigText } from '../config/read-config-file.js';
import { PaudeFileSchema } from '../config/schema.js';
const P = (t: string, s: any = PaudeFileSchema) => { try { console.log(JSON.stringify(t), '=>', JSON.stringify(parseConfigText(t, '/x/paude.json', 'paude.json', s))); } catch (e: any) { console.log(JSON.stringify(t), '=> ERR', e.name, JSON.stringify(e.message)); } };
it('probe', () => {
  P('\uFEFF{"network": {"mode": "ask"}}'); P('{\r\n  "network": {\r\n    "mode": "ask"\r\n  }\r\n  x\r\n}');
  P('{\n  "network": {\n    "mode": "ask"\n  },\n  "provider": \n}');
  P('{"a": 1} {}'); P('{"provider": "vertex"} // trailing'); P('/* unterminated'); P('{"x": "\\q"}');
  P('{"a\\u001b[31mred": 1}'); P('{"network": {"allowlist": ["x\\u2028.com"]}}'); P('{"network": {"allowlist": ["x\\n.com"]}}');
  P('{"resources": {"pids": "100"}}'); P('{"resources": {"cpus": 0}}'); P('{"sessions": {"idleTimeoutMinutes": -1}}');
  P('{"telemetry": {"otel": {"endpoint": "https://otel.example.com:4318"}}}');
  P('{"network": {"allowlist": ["a.com"]}, "network": {"allowlist": []}}');
  P('{"network": {"allowlist": [{"a": 1, "a": 2}]}}');
  P('{"network": {"allowlist": ["' + 'x'.repeat(100) + ' y"]}}');
});
