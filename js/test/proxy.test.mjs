import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { ConnectorError, createConnector } from '../src/index.js';
import { bot, startSandbox, user, USER_ID } from './helpers/sandbox.mjs';

let sandbox;
let connector;
before(async () => {
  sandbox = await startSandbox();
  connector = createConnector({ apiBase: sandbox.apiBase });
});
after(() => sandbox?.stop());

describe('proxy', () => {
  it('GET /users/@me comes back as a response with bytes, headers and json()', async () => {
    const answer = await connector.proxy({ method: 'GET', path: '/users/@me', credential: user });
    assert.equal(answer.status, 200);
    assert.ok(answer.body instanceof Uint8Array);
    assert.equal(answer.json().id, USER_ID);
    assert.equal(JSON.parse(answer.text()).username, 'nelly');
    assert.equal(answer.header('Content-Type'), 'application/json');
    assert.equal(answer.header('x-ratelimit-limit'), '50');
    assert.match(answer.header('x-ratelimit-bucket'), /^[0-9a-f]{16}$/);
    assert.ok(answer.headers.every(([name, value]) => name === name.toLowerCase() && typeof value === 'string'));
    assert.deepEqual(Object.keys(answer), ['status', 'headers', 'body']);
  });

  it('sends the query, from an object or from pairs', async () => {
    const one = await connector.proxy({ path: '/users/@me/guilds', query: { limit: 1, with_counts: true }, credential: user });
    assert.equal(one.status, 200);
    assert.equal(one.json().length, 1);
    assert.ok(one.json()[0].approximate_member_count > 0);
    const two = await connector.proxy({ path: '/users/@me/guilds', query: [['limit', '2']], credential: bot });
    assert.equal(two.json().length, 2);
  });

  it('any answer is a response, whatever its status', async () => {
    assert.equal((await connector.proxy({ path: '/users/@me' })).status, 401);
    assert.equal((await connector.proxy({ path: '/users/1', credential: bot })).status, 404);
    const patch = await connector.proxy({ method: 'PATCH', path: '/users/@me', body: { username: 'nelly' }, credential: user });
    assert.equal(patch.status, 405, 'the sandbox serves GETs only; the answer still comes back');
    assert.equal(patch.json().message, '405: Method Not Allowed');
  });

  it('a path that leaves the API is refused before sending', async () => {
    for (const path of ['/users/../oauth2/token', '//gateway', 'gateway', '/users/@me?x=1']) {
      const error = await connector.proxy({ path, credential: user }).catch((thrown) => thrown);
      assert.ok(error instanceof ConnectorError, path);
      assert.equal(error.kind, 'invalid-arguments', path);
    }
  });
});
