import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { inspect } from 'node:util';

import { ConnectorError, createConnector } from '../src/index.js';
import { IDENTIFY_ONLY_TOKEN, startSandbox, user, USER_TOKEN } from './helpers/sandbox.mjs';

let sandbox;
let connector;
before(async () => {
  sandbox = await startSandbox();
  connector = createConnector({ apiBase: sandbox.apiBase });
});
after(() => sandbox?.stop());

/** The ConnectorError `promise` rejects with. */
async function failure(promise) {
  const error = await promise.then(
    (value) => assert.fail(`expected a ConnectorError, got ${inspect(value)}`),
    (error) => error,
  );
  assert.ok(error instanceof ConnectorError, inspect(error));
  return error;
}

describe('contract errors', () => {
  it('a bad token is unauthorized (401, code 0), and the token shows nowhere', async () => {
    const stale = 'sbx-user.revoked-token-value';
    const error = await failure(connector.executeTool('discord_get_my_user', {}, { kind: 'bearer', token: stale }));
    assert.equal(error.name, 'ConnectorError');
    assert.equal(error.kind, 'unauthorized');
    assert.equal(error.status, 401);
    assert.equal(error.code, 0);
    assert.equal(error.retryAfterMs, null);
    assert.match(error.message, /401/);
    for (const shown of [error.message, error.stack, inspect(error), JSON.stringify(error)]) {
      assert.ok(!shown.includes('revoked-token-value'), shown);
    }
    assert.deepEqual(Object.keys(error.toJSON()), ['kind', 'message', 'status', 'code', 'details', 'retryAfterMs']);
  });

  it('a token without the scope is forbidden (403, 50001)', async () => {
    const error = await failure(connector.executeTool('discord_retrieve_user_connections', {}, { kind: 'bearer', token: IDENTIFY_ONLY_TOKEN }));
    assert.equal(error.kind, 'forbidden');
    assert.deepEqual([error.status, error.code], [403, 50001]);
  });

  it('an unknown object is not-found with Discord\'s code', async () => {
    const error = await failure(connector.executeTool('discord_get_user', { user_id: '3' }, user));
    assert.equal(error.kind, 'not-found');
    assert.deepEqual([error.status, error.code], [404, 10013]);
  });

  it('invalid arguments are refused before sending', async () => {
    const cases = [
      [{ user_id: 42 }, /user_id/],
      [{ user_id: '1', extra: true }, /extra/],
      [{}, /user_id/],
      ['{"user_id": ', /JSON|EOF|parse/i],
      [[], /object/i],
    ];
    for (const [args, mentions] of cases) {
      const error = await failure(connector.executeTool('discord_get_user', args, user));
      assert.equal(error.kind, 'invalid-arguments', inspect(args));
      assert.equal(error.status, null);
      assert.match(error.message, mentions, error.message);
    }
    const limit = await failure(connector.executeTool('discord_list_my_guilds', { limit: 201 }, user));
    assert.equal(limit.kind, 'invalid-arguments');
    assert.match(limit.message, /limit/);
  });

  it('an unknown tool is unknown-tool', async () => {
    const error = await failure(connector.executeTool('discord_delete_everything', {}, user));
    assert.equal(error.kind, 'unknown-tool');
    assert.match(error.message, /discord_delete_everything/);
  });

  it('a tool that needs a user token refuses to run without one', async () => {
    const error = await failure(connector.executeTool('discord_retrieve_user_connections', {}, null));
    assert.equal(error.kind, 'missing-credential');
    assert.equal(error.status, null);
  });

  it('a rate limit the component will not wait out says how long to wait, details parsed', async () => {
    // The sandbox allows 50 requests per second per route and caller.
    const impatient = createConnector({ apiBase: sandbox.apiBase, env: { DISCORD_MAX_RETRY_WAIT_MS: '1' } });
    let error;
    for (let n = 0; n < 300 && !error; n += 1) {
      await impatient.executeTool('discord_list_sticker_packs', {}, null).catch((thrown) => (error = thrown));
    }
    assert.ok(error instanceof ConnectorError, 'a 429 within 300 calls');
    assert.equal(error.kind, 'rate-limited');
    assert.equal(error.status, 429);
    assert.equal(typeof error.retryAfterMs, 'number');
    assert.ok(error.retryAfterMs > 0 && error.retryAfterMs <= 1000, String(error.retryAfterMs));
    assert.equal(typeof error.details, 'object');
    assert.equal(error.details.scope, 'user');
    assert.equal(error.details.global, false);
    assert.match(error.details.bucket, /^[0-9a-f]{16}$/);
  });

  it('no server at the API base is a transport error without a status', async () => {
    const nowhere = createConnector({ apiBase: 'http://127.0.0.1:9/api/v10' });
    const error = await failure(nowhere.executeTool('discord_get_gateway'));
    assert.equal(error.kind, 'transport');
    assert.equal(error.status, null);
    assert.equal(typeof error.details, 'object');
    assert.ok(['unreachable', 'broken'].includes(error.details.class), inspect(error.details));
  });

  it('an IPv6 loopback API base, which the shim cannot send to, fails cleanly as transport', async () => {
    const ipv6 = createConnector({ apiBase: 'http://[::1]:9/api/v10' });
    const error = await failure(ipv6.executeTool('discord_get_gateway'));
    assert.equal(error.kind, 'transport');
    assert.deepEqual(error.details, { class: 'broken' });
    assert.match(error.message, /refused the request line/);
  });
});

describe('wrapper checks', () => {
  it('a malformed credential is a TypeError that never echoes the token', async () => {
    for (const credential of [{ kind: 'Bearer', token: USER_TOKEN }, { kind: 'bearer', token: '' }, { kind: 'bot' }, USER_TOKEN]) {
      const error = await connector.executeTool('discord_get_my_user', {}, credential).then(assert.fail, (thrown) => thrown);
      assert.ok(error instanceof TypeError, inspect(error));
      assert.ok(!inspect(error).includes(USER_TOKEN));
    }
  });
});
