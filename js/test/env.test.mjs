// The component's environment is exactly apiBase + env: process.env is poisoned
// with DISCORD_ settings that would break or redirect every call, before the
// package is even loaded, and no connector may notice.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { inspect } from 'node:util';

import { startSandbox, user, USER_ID } from './helpers/sandbox.mjs';

let sandbox;
let createConnector;
let ConnectorError;
before(async () => {
  sandbox = await startSandbox();
  process.env.DISCORD_API_BASE = 'http://127.0.0.1:9/api/v10'; // nothing listens there
  process.env.DISCORD_TIMEOUT_MS = '0'; // refused: every call would fail before sending
  process.env.DISCORD_MAX_BODY_BYTES = '1'; // every answer would be too large
  ({ createConnector, ConnectorError } = await import('../src/index.js'));
});
after(() => sandbox?.stop());

describe('environment isolation', () => {
  it('ignores process.env: DISCORD_ settings there change nothing', async () => {
    const connector = createConnector({ apiBase: sandbox.apiBase });
    assert.equal((await connector.executeTool('discord_get_my_user', {}, user)).id, USER_ID);
    const defaults = createConnector();
    const link = await defaults.authorizationLink({ clientId: '1', redirectUri: 'https://example.com/cb', scopes: ['identify'] });
    assert.ok(link.url.startsWith('https://discord.com/oauth2/authorize?'), 'the component\'s own default, not a setting from process.env');
  });

  it('passes env through: the same settings given as env do apply', async () => {
    const refused = createConnector({ apiBase: sandbox.apiBase, env: { DISCORD_TIMEOUT_MS: '0' } });
    const error = await refused.executeTool('discord_get_gateway').catch((thrown) => thrown);
    assert.ok(error instanceof ConnectorError);
    assert.equal(error.kind, 'transport');
    assert.match(error.message, /DISCORD_TIMEOUT_MS "0" is refused/);

    const capped = createConnector({ apiBase: sandbox.apiBase, env: { DISCORD_MAX_BODY_BYTES: 16 } });
    const tooLarge = await capped.executeTool('discord_get_my_user', {}, user).catch((thrown) => thrown);
    assert.equal(tooLarge.kind, 'transport');
    assert.deepEqual(tooLarge.details, { class: 'too-large' });

    const authorize = createConnector({ env: { DISCORD_AUTHORIZE_URL: sandbox.authorizeUrl } });
    const link = await authorize.authorizationLink({ clientId: '1', redirectUri: 'https://example.com/cb', scopes: ['identify'] });
    assert.ok(link.url.startsWith(`${sandbox.authorizeUrl}?`));
  });

  it('gives every connector its own instance and environment, in one process', async () => {
    const working = createConnector({ apiBase: sandbox.apiBase });
    const nowhere = createConnector({ apiBase: 'http://127.0.0.1:9/api/v10' });
    for (let round = 0; round < 2; round += 1) {
      assert.deepEqual(await working.executeTool('discord_get_gateway'), { url: 'wss://gateway.discord.gg' });
      const error = await nowhere.executeTool('discord_get_gateway').catch((thrown) => thrown);
      assert.equal(error.kind, 'transport');
    }
  });

  it('refuses an ambiguous or malformed environment, and shows none of it in inspect', () => {
    assert.throws(() => createConnector({ apiBase: sandbox.apiBase, env: { DISCORD_API_BASE: 'http://127.0.0.1:1/api/v10' } }), /disagree/);
    assert.throws(() => createConnector({ env: { DISCORD_TIMEOUT_MS: { ms: 1 } } }), TypeError);
    assert.throws(() => createConnector({ env: 'DISCORD_TIMEOUT_MS=1' }), TypeError);
    const connector = createConnector({ apiBase: sandbox.apiBase, env: { DISCORD_TIMEOUT_MS: '5000' } });
    assert.equal(inspect(connector), 'Connector {}');
  });
});
