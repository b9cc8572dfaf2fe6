import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { inspect } from 'node:util';

import { ConnectorError, createConnector } from '../src/index.js';
import { APPLICATION_ID, startSandbox, USER_ID } from './helpers/sandbox.mjs';

const REDIRECT_URI = 'http://127.0.0.1:8765/callback';

let sandbox;
let connector;
let confidential;
before(async () => {
  sandbox = await startSandbox();
  connector = createConnector({ apiBase: sandbox.apiBase, env: { DISCORD_AUTHORIZE_URL: sandbox.authorizeUrl } });
  confidential = { clientId: sandbox.clientId, clientSecret: sandbox.clientSecret };
});
after(() => sandbox?.stop());

/** Opens the link as a browser would; the sandbox approves at once and redirects with a code. */
async function approve(url) {
  const answer = await fetch(url, { redirect: 'manual' });
  assert.equal(answer.status, 302, await answer.text());
  const location = new URL(answer.headers.get('location'));
  assert.equal(`${location.origin}${location.pathname}`, REDIRECT_URI);
  return { code: location.searchParams.get('code'), state: location.searchParams.get('state') };
}

async function linkAndApprove(scopes = ['identify', 'guilds']) {
  const link = await connector.authorizationLink({ clientId: APPLICATION_ID, redirectUri: REDIRECT_URI, scopes, prompt: 'consent' });
  const { code, state } = await approve(link.url);
  assert.equal(state, link.state);
  return { link, code };
}

function assertHidden(object, ...secrets) {
  const shown = inspect(object, { depth: 5 });
  for (const secret of secrets) assert.ok(!shown.includes(secret), shown);
  assert.match(shown, /\[redacted\]/);
}

describe('OAuth 2.0 with PKCE against the sandbox', () => {
  it('makes a link with PKCE S256 and a fresh state', async () => {
    const link = await connector.authorizationLink({ clientId: APPLICATION_ID, redirectUri: REDIRECT_URI, scopes: ['identify', 'guilds'], extra: { guild_id: '613425648685547541' } });
    const url = new URL(link.url);
    assert.equal(`${url.origin}${url.pathname}`, sandbox.authorizeUrl);
    const query = url.searchParams;
    assert.equal(query.get('response_type'), 'code');
    assert.equal(query.get('client_id'), APPLICATION_ID);
    assert.equal(query.get('scope'), 'identify guilds');
    assert.equal(query.get('redirect_uri'), REDIRECT_URI);
    assert.equal(query.get('state'), link.state);
    assert.equal(query.get('guild_id'), '613425648685547541');
    assert.equal(query.get('code_challenge_method'), 'S256');
    assert.equal(query.get('code_challenge'), createHash('sha256').update(link.codeVerifier).digest('base64url'));
    assert.ok(link.codeVerifier.length >= 43 && link.codeVerifier.length <= 128);
    assert.ok(!link.url.includes(link.codeVerifier));
    assertHidden(link, link.codeVerifier);
    const again = await connector.authorizationLink({ clientId: APPLICATION_ID, redirectUri: REDIRECT_URI, scopes: ['identify'], state: 'my-state' });
    assert.equal(again.state, 'my-state');
    assert.notEqual(again.codeVerifier, link.codeVerifier);
  });

  it('refuses a bad link request as invalid-arguments', async () => {
    const error = await connector.authorizationLink({ clientId: APPLICATION_ID, redirectUri: REDIRECT_URI, scopes: ['identify', 'admin'] }).catch((thrown) => thrown);
    assert.ok(error instanceof ConnectorError);
    assert.equal(error.kind, 'invalid-arguments');
    assert.match(error.message, /"admin"/);
  });

  it('link -> code -> exchange -> call -> refresh -> revoke', async () => {
    const { link, code } = await linkAndApprove();
    const token = await connector.exchangeCode({ ...confidential, code, redirectUri: REDIRECT_URI, codeVerifier: link.codeVerifier });
    assert.equal(token.tokenType, 'Bearer');
    assert.deepEqual(token.scopes, ['identify', 'guilds']);
    assert.equal(typeof token.expiresInSeconds, 'number');
    assert.ok(token.expiresInSeconds > 0);
    assert.equal(typeof token.accessToken, 'string');
    assert.equal(typeof token.refreshToken, 'string');
    assertHidden(token, token.accessToken, token.refreshToken);
    assert.equal(JSON.parse(JSON.stringify(token)).accessToken, token.accessToken, 'JSON keeps the tokens for storage');

    const access = { kind: 'bearer', token: token.accessToken };
    const me = await connector.executeTool('discord_get_my_user', {}, access);
    assert.equal(me.id, USER_ID);
    const unscoped = await connector.executeTool('discord_retrieve_user_connections', {}, access).catch((thrown) => thrown);
    assert.equal(unscoped.kind, 'forbidden');

    const reused = await connector.exchangeCode({ ...confidential, code, redirectUri: REDIRECT_URI, codeVerifier: link.codeVerifier }).catch((thrown) => thrown);
    assert.ok(reused instanceof ConnectorError);
    assert.equal(reused.status, 400);
    assert.match(reused.message, /invalid_grant/);
    assert.ok(!reused.message.includes(code) && !reused.message.includes(link.codeVerifier));

    // A code used twice revokes what it gave (RFC 6749 4.1.2): start again.
    const second = await linkAndApprove();
    const first = await connector.exchangeCode({ ...confidential, code: second.code, redirectUri: REDIRECT_URI, codeVerifier: second.link.codeVerifier });
    const refreshed = await connector.refreshToken({ ...confidential, refreshToken: first.refreshToken });
    assert.notEqual(refreshed.accessToken, first.accessToken);
    assert.notEqual(refreshed.refreshToken, first.refreshToken);
    assertHidden(refreshed, refreshed.accessToken, refreshed.refreshToken);
    const stale = await connector.refreshToken({ ...confidential, refreshToken: first.refreshToken }).catch((thrown) => thrown);
    assert.ok(stale instanceof ConnectorError);
    assert.match(stale.message, /invalid_grant/);
    assert.ok(!stale.message.includes(first.refreshToken));

    const fresh = { kind: 'bearer', token: refreshed.accessToken };
    assert.equal((await connector.executeTool('discord_get_my_user', {}, fresh)).username, 'nelly');
    assert.equal(await connector.revokeToken({ ...confidential, token: refreshed.accessToken }), undefined);
    const revoked = await connector.executeTool('discord_get_my_user', {}, fresh).catch((thrown) => thrown);
    assert.ok(revoked instanceof ConnectorError);
    assert.equal(revoked.kind, 'unauthorized');
    assert.equal(revoked.status, 401);
    const dead = await connector.refreshToken({ ...confidential, refreshToken: refreshed.refreshToken }).catch((thrown) => thrown);
    assert.match(dead.message, /invalid_grant/);
  });

  it('a public client relies on PKCE alone; a wrong secret is unauthorized', async () => {
    const { link, code } = await linkAndApprove(['identify']);
    const wrong = await connector.exchangeCode({ clientId: APPLICATION_ID, clientSecret: 'not-the-secret', code, redirectUri: REDIRECT_URI, codeVerifier: link.codeVerifier }).catch((thrown) => thrown);
    assert.ok(wrong instanceof ConnectorError);
    assert.equal(wrong.kind, 'unauthorized');
    assert.match(wrong.message, /invalid_client/);
    assert.ok(!wrong.message.includes('not-the-secret'));
    const token = await connector.exchangeCode({ clientId: APPLICATION_ID, code, redirectUri: REDIRECT_URI, codeVerifier: link.codeVerifier });
    assert.deepEqual(token.scopes, ['identify']);
    assert.equal((await connector.executeTool('discord_get_my_user', {}, { kind: 'bearer', token: token.accessToken })).id, USER_ID);
  });
});
