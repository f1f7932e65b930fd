/**
 * P1b time to Claude's first screen: `paude` (Claude Code, interactive, in a real PTY) until
 * Claude Code has drawn its first screen, against `ENGINE run -it --rm --network none
 * --entrypoint= AGENT_IMAGE claude` of the same image in the same PTY size. Claude Code reaches
 * no model here (paude's proxy refuses the provider nobody configured; the bare run has no
 * network); both draw their screen before they find out. The key is a made-up one, and so is
 * the model's address (a .test name, which never resolves): nothing leaves for a real host.
 */
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { perEngine, type BenchContext, type Benchmark } from './context.js';
import type { BenchEngine } from './engines.js';
import { client, type Client } from './p2-attach.js';
import { PAUDE_BIN } from './p6-cli-cold-start.js';
import { interleaved, removeLeftovers, sessionSetup } from './p1-warm-start.js';
import { median } from './stats.js';
import { row, type Row } from './table.js';

export const p1bFirstScreen: Benchmark = {
  id: 'p1b',
  run: (ctx) => perEngine(ctx, 'P1b first screen', (b) => measure(ctx, b)),
};

/**
 * What Claude Code's first screen says, whichever it is: its welcome ("Welcome to Claude Code",
 * which a first run's theme picker below it may scroll away) or its prompt.
 */
const DRAWN = /Welcome to Claude Code|Let's get started|Claude Code v[0-9]/;
/** Terminal control sequences (ESC [ ... final byte), which the raw output has between words. */
const CSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;?]*[ -/]*[@-~]`, 'g');
const plain = (raw: string): string => raw.replace(CSI, '');
const KEY = `sk-ant-bench-${randomBytes(8).toString('hex')}`;
const MODEL = 'http://model.bench.test:4000';

async function firstScreen(c: Client): Promise<number> {
  const start = performance.now();
  await c.until(() => DRAWN.test(c.screen()) || DRAWN.test(plain(c.raw())), 60_000);
  return performance.now() - start;
}

async function measure(ctx: BenchContext, b: BenchEngine): Promise<Row[]> {
  const [agent, proxy] = await Promise.all([b.agentImage(), b.proxyImage()]);
  const session = await sessionSetup(b, { agent, proxy });
  const env = { ...session.env, ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: MODEL };
  const paude = async (): Promise<number> => {
    const c = client(process.execPath, [PAUDE_BIN], env, session.ws);
    try {
      return await firstScreen(c);
    } finally {
      // The terminal closing detaches; the session goes with the workspace's containers.
      c.pty.kill();
      await c.exit;
      await removeLeftovers(b, session.ws);
    }
  };
  const bare = async (): Promise<number> => {
    const name = b.uniqueName('p1b');
    const c = client(b.name, ['run', '-it', '--rm', '--network', 'none', '--name', name, '--label', 'paude.bench=true', '--entrypoint=', '-e', `ANTHROPIC_API_KEY=${KEY}`, '-e', `ANTHROPIC_BASE_URL=${MODEL}`, agent, 'claude'], process.env, session.ws);
    try {
      return await firstScreen(c);
    } finally {
      spawnSync(b.name, ['rm', '-f', name], { stdio: 'ignore' });
      c.pty.kill();
    }
  };
  const runs = ctx.smoke ? 1 : 5;
  const times = await interleaved(runs, ctx.smoke, paude, bare);
  const m = { paude: median(times.paude), bare: median(times.bare) };
  return [
    row({
      benchmark: "P1b Claude Code's first screen",
      engine: b.name,
      figure: { value: m.paude / 1000, unit: 's' },
      baseline: { value: m.bare / 1000, unit: 's' },
      target: '<= 1.3x',
      ok: m.paude <= 1.3 * m.bare,
      runs,
      details: { paudeMs: times.paude, bareMs: times.bare },
    }),
  ];
}
