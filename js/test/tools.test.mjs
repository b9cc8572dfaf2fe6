import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';

import { createConnector } from '../src/index.js';
import { bot, startSandbox, user, USER_ID, APPLICATION_ID } from './helpers/sandbox.mjs';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
// The catalogue's names, as `cargo xtask generate` lists them for the component.
const CATALOGUE = [
  ...readFileSync(new URL('../../src/input_schemas.rs', import.meta.url), 'utf8').matchAll(/^\s+"(discord_\w+)",$/gm),
].map((match) => match[1]);

let sandbox;
let connector;
before(async () => {
  sandbox = await startSandbox();
  connector = createConnector({ apiBase: sandbox.apiBase });
});
after(() => sandbox?.stop());

describe('listTools', () => {
  it('lists every tool with parsed schemas, scopes and credential kinds', async () => {
    const tools = await connector.listTools();
    assert.deepEqual(tools.map((tool) => tool.name), CATALOGUE);
    for (const tool of tools) {
      assert.match(tool.name, /^discord_[a-z0-9_]+$/);
      assert.ok(tool.description.length > 20, tool.name);
      assert.equal(typeof tool.inputSchema, 'object', tool.name);
      assert.equal(tool.inputSchema.type, 'object', tool.name);
      assert.equal(tool.inputSchema.additionalProperties, false, tool.name);
      assert.ok(Array.isArray(tool.scopes));
      assert.ok(tool.accepts.length > 0 && tool.accepts.every((kind) => ['none', 'bearer', 'bot'].includes(kind)), tool.name);
    }
    const byName = Object.fromEntries(tools.map((tool) => [tool.name, tool]));
    assert.deepEqual(byName.discord_get_my_user.accepts, ['bearer', 'bot']);
    assert.deepEqual(byName.discord_get_my_user.scopes, ['identify']);
    assert.deepEqual(byName.discord_get_user.inputSchema.required, ['user_id']);
    assert.equal(byName.discord_list_my_guilds.inputSchema.properties.limit.maximum, 200);
    assert.deepEqual(byName.discord_retrieve_user_connections.scopes, ['connections']);
    assert.deepEqual(byName.discord_get_gateway.accepts, ['none', 'bearer', 'bot']);
  });
});

describe('executeTool', () => {
  it('runs a JSON tool with a bearer token', async () => {
    const me = await connector.executeTool('discord_get_my_user', {}, user);
    assert.equal(me.id, USER_ID);
    assert.equal(me.username, 'nelly');
    assert.equal(me.email, 'nelly@example.com');
  });

  it('runs a JSON tool with a bot token, arguments given as JSON text', async () => {
    const me = await connector.executeTool('discord_get_my_user', '{}', bot);
    assert.equal(me.bot, true);
    assert.equal(me.id, APPLICATION_ID);
    const guilds = await connector.executeTool('discord_list_my_guilds', JSON.stringify({ limit: 2, after: '81384788765712384' }), user);
    assert.ok(Array.isArray(guilds));
    assert.deepEqual(guilds.map((guild) => guild.id), ['613425648685547541', '1144100424245366835']);
  });

  it('runs a tool without a credential', async () => {
    assert.deepEqual(await connector.executeTool('discord_get_gateway'), { url: 'wss://gateway.discord.gg' });
    const invite = await connector.executeTool('discord_resolve_invite', { invite_code: 'discord.com/invite/wasm-workshop', with_counts: true }, null);
    assert.equal(invite.code, 'wasm-workshop');
    assert.ok(invite.approximate_member_count > 0);
  });

  it('returns the widget PNG as bytes, exactly as the sandbox serves them', async () => {
    const png = await connector.executeTool('discord_get_guild_widget_png', { guild_id: '1144100424245366835', style: 'banner4' }, bot);
    assert.equal(png.contentType, 'image/png');
    assert.ok(png.data instanceof Uint8Array);
    assert.deepEqual([...png.data.subarray(0, 8)], PNG_SIGNATURE);
    const served = new Uint8Array(await (await fetch(`${sandbox.apiBase}/guilds/1144100424245366835/widget.png?style=banner4`)).arrayBuffer());
    assert.deepEqual(png.data, served);
    // IHDR: width and height, big-endian, at bytes 16..24.
    const view = new DataView(png.data.buffer, png.data.byteOffset);
    assert.deepEqual([view.getUint32(16), view.getUint32(20)], [320, 160]);
  });
});
