// Per-call latency of one JSON tool through the component, against the sandbox.
//
//   node bench.mjs [--calls 500] [--rate 40] [--tool discord_get_my_user]
//
// --rate is calls per second; the sandbox allows 50 requests per second per
// route and caller, and the component sits out its 429s, so a faster rate
// measures the sandbox's rate limiter too. --rate 0 runs the calls back to back.
import { parseArgs } from 'node:util';

import { createConnector } from './src/index.js';
import { startSandbox, user } from './test/helpers/sandbox.mjs';

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '500' },
    rate: { type: 'string', default: '40' },
    tool: { type: 'string', default: 'discord_get_my_user' },
    warmup: { type: 'string', default: '20' },
  },
});
const calls = Number(values.calls);
const rate = Number(values.rate);
const warmup = Number(values.warmup);

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
const ms = (value) => `${value.toFixed(2)} ms`;
const sleep = (millis) => new Promise((resolve) => setTimeout(resolve, millis));

const sandbox = await startSandbox();
try {
  let started = performance.now();
  const connector = createConnector({ apiBase: sandbox.apiBase });
  const created = performance.now() - started;
  started = performance.now();
  await connector.executeTool(values.tool, {}, user);
  const first = performance.now() - started;
  for (let n = 1; n < warmup; n += 1) await connector.executeTool(values.tool, {}, user);
  await sleep(1100); // a fresh rate limit window

  const latencies = [];
  const begun = performance.now();
  for (let n = 0; n < calls; n += 1) {
    if (rate > 0) {
      const due = begun + (n * 1000) / rate;
      const now = performance.now();
      if (due > now) await sleep(due - now);
    }
    const before = performance.now();
    const output = await connector.executeTool(values.tool, {}, user);
    latencies.push(performance.now() - before);
    if (output === null || typeof output !== 'object') throw new Error(`unexpected output from ${values.tool}`);
  }
  const wall = performance.now() - begun;
  const sorted = [...latencies].sort((a, b) => a - b);
  const mean = latencies.reduce((sum, value) => sum + value, 0) / latencies.length;
  console.log(`${values.tool}, ${calls} calls ${rate > 0 ? `at ${rate}/s` : 'back to back'} (after ${warmup} warm-up calls), Node ${process.version}`);
  console.log(`  createConnector ${ms(created)}, first call ${ms(first)}`);
  console.log(`  p50 ${ms(percentile(sorted, 50))}  p90 ${ms(percentile(sorted, 90))}  p99 ${ms(percentile(sorted, 99))}  max ${ms(sorted.at(-1))}  mean ${ms(mean)}`);
  console.log(`  ${latencies.filter((value) => value > 100).length} calls over 100 ms; wall ${ms(wall)}`);
} finally {
  await sandbox.stop();
}
