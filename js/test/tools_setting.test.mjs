// `tools` (DISCORD_TOOLS) limits what a connector offers: the component lists
// only the selected tools and refuses any other before anything is sent.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { ConnectorError, createConnector } from '../src/index.js';
import { bot, startSandbox, user, USER_ID } from './helpers/sandbox.mjs';

let sandbox;
before(async () => {
  sandbox = await startSandbox();
});
after(() => sandbox?.stop());

// The read-only tools of the full list, selected as the globs below do.
async function readOnlyNames() {
  const all = await createConnector({ apiBase: sandbox.apiBase }).listTools();
  return all.map((tool) => tool.name).filter((name) => name.startsWith('discord_get_') || name.startsWith('discord_list_'));
}

describe('tools', () => {
  it('lists only the selected tools, given as a string or a list', async () => {
    const expected = await readOnlyNames();
    assert.ok(expected.length > 10 && expected.length < 37, `${expected.length} read-only tools`);
    for (const tools of ['discord_get_*,discord_list_*', ['discord_get_*', 'discord_list_*']]) {
      const connector = createConnector({ apiBase: sandbox.apiBase, tools });
      assert.deepEqual((await connector.listTools()).map((tool) => tool.name), expected);
      assert.equal((await connector.executeTool('discord_get_my_user', {}, user)).id, USER_ID, 'a selected tool runs');
    }
  });

  it('refuses any other tool as unknown-tool, before sending anything', async () => {
    const connector = createConnector({ apiBase: sandbox.apiBase, tools: ['discord_get_*'] });
    const error = await connector
      .executeTool('discord_send_message', { channel_id: '1', content: 'hi' }, bot)
      .catch((thrown) => thrown);
    assert.ok(error instanceof ConnectorError, String(error));
    assert.equal(error.kind, 'unknown-tool');
  });

  it('is the same as env.DISCORD_TOOLS, and refuses disagreeing or malformed settings', async () => {
    const viaEnv = createConnector({ apiBase: sandbox.apiBase, env: { DISCORD_TOOLS: 'discord_get_*,discord_list_*' } });
    assert.deepEqual((await viaEnv.listTools()).map((tool) => tool.name), await readOnlyNames());
    assert.throws(() => createConnector({ tools: 'discord_get_*', env: { DISCORD_TOOLS: 'discord_list_*' } }), /disagree/);
    assert.throws(() => createConnector({ tools: 7 }), TypeError);
    assert.throws(() => createConnector({ tools: ['discord_get_*', 7] }), TypeError);
  });

  it('a value the component refuses fails every call, naming it', async () => {
    const misspelt = createConnector({ apiBase: sandbox.apiBase, tools: 'discord_get_mi_user' });
    assert.deepEqual(await misspelt.listTools(), []);
    const error = await misspelt.executeTool('discord_get_gateway').catch((thrown) => thrown);
    assert.equal(error.kind, 'transport');
    assert.match(error.message, /discord_get_mi_user/);
  });
});
