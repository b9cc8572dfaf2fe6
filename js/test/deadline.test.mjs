// A stalled upstream cannot hold a call past the component's own deadline
// (DISCORD_TIMEOUT_MS). jco's Node shim does not bound these cases itself: its
// first-byte timeout is never armed before the head arrives, and nothing but a
// whole-call deadline ends a body that trickles in.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { ConnectorError, createConnector } from '../src/index.js';
import { startStallServer } from './helpers/sandbox.mjs';

const DEADLINE_MS = 1000;
const servers = {};
before(async () => {
  for (const mode of ['silent', 'headers', 'trickle']) servers[mode] = await startStallServer(mode);
});
after(() => Promise.all(Object.values(servers).map((server) => server.stop())));

async function timedCall(apiBase, tool = 'discord_get_gateway', args = {}) {
  const connector = createConnector({ apiBase, env: { DISCORD_TIMEOUT_MS: String(DEADLINE_MS) } });
  const started = performance.now();
  const error = await connector.executeTool(tool, args).catch((thrown) => thrown);
  return { error, elapsed: performance.now() - started };
}

describe('the component\'s deadline bounds a stalled call', () => {
  for (const [mode, what] of [
    ['silent', 'a server that never answers'],
    ['headers', 'a head, then a body that stops'],
    ['trickle', 'a body that trickles a byte every 200 ms'],
  ]) {
    it(`${what}: transport/timeout after DISCORD_TIMEOUT_MS`, async () => {
      const { error, elapsed } = await timedCall(servers[mode].apiBase);
      assert.ok(error instanceof ConnectorError, String(error));
      assert.equal(error.kind, 'transport');
      assert.deepEqual(error.details, { class: 'timeout' });
      assert.match(error.message, /within the call's deadline/);
      assert.ok(elapsed >= DEADLINE_MS - 50, `ended early: ${elapsed} ms`);
      assert.ok(elapsed < DEADLINE_MS + 750, `ended late: ${elapsed} ms`);
    });
  }

  it('also for a proxy call', async () => {
    const connector = createConnector({ apiBase: servers.trickle.apiBase, env: { DISCORD_TIMEOUT_MS: String(DEADLINE_MS) } });
    const started = performance.now();
    const error = await connector.proxy({ path: '/gateway' }).catch((thrown) => thrown);
    const elapsed = performance.now() - started;
    assert.equal(error.kind, 'transport');
    assert.deepEqual(error.details, { class: 'timeout' });
    assert.ok(elapsed >= DEADLINE_MS - 50 && elapsed < DEADLINE_MS + 750, `${elapsed} ms`);
  });
});
