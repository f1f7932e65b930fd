/**
 * Node's http module, loaded with require. `import ... from 'node:http'` makes its ES module
 * face, which reads every export, the lazy ones too (WebSocket, EventSource...), and so loads
 * undici: 60–100 ms of every paude start on the 2-core VM, against 7 ms for require.
 */
import { createRequire } from 'node:module';
import type * as Http from 'node:http';

export const http = createRequire(import.meta.url)('node:http') as typeof Http;
