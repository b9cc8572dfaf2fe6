import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { inspect } from 'node:util';

import { generateText, jsonSchema, stepCountIs, tool } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';

import { aiSdkTools, createConnector, openAiTools } from '../src/index.js';
import { bot, startSandbox, user, USER_ID, USER_TOKEN } from './helpers/sandbox.mjs';

const PNG_BASE64_PREFIX = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).toString('base64').slice(0, 8);
const NO_CREDENTIAL_TOOLS = [
  'discord_get_gateway',
  'discord_get_guild_template',
  'discord_get_guild_widget',
  'discord_get_guild_widget_png',
  'discord_get_invite_deprecated',
  'discord_get_public_keys',
  'discord_list_sticker_packs',
  'discord_resolve_invite',
];

let sandbox;
let connector;
let catalogue;
before(async () => {
  sandbox = await startSandbox();
  connector = createConnector({ apiBase: sandbox.apiBase });
  catalogue = Object.fromEntries((await connector.listTools()).map((entry) => [entry.name, entry]));
});
after(() => sandbox?.stop());

describe('aiSdkTools', () => {
  it('offers the tools the credential can run, in the AI SDK shape', async () => {
    const tools = await aiSdkTools(connector, { credential: user });
    const names = Object.keys(tools);
    assert.deepEqual(names, Object.values(catalogue).filter((entry) => entry.accepts.includes('bearer')).map((entry) => entry.name));
    assert.equal(names.length, 16, 'every tool runs with a user token');
    for (const [name, definition] of Object.entries(tools)) {
      assert.equal(definition.description, catalogue[name].description);
      assert.equal(definition.inputSchema[Symbol.for('vercel.ai.schema')], true);
      assert.ok('validate' in definition.inputSchema);
      assert.deepEqual(definition.inputSchema.jsonSchema, catalogue[name].inputSchema);
      assert.equal(typeof definition.execute, 'function');
    }
    assert.ok(!inspect(tools, { depth: 6 }).includes(USER_TOKEN), 'the credential stays in a closure');
    assert.deepEqual(Object.keys(await aiSdkTools(connector)), NO_CREDENTIAL_TOOLS);
    const botTools = Object.keys(await aiSdkTools(connector, { credential: bot }));
    assert.deepEqual(botTools, Object.values(catalogue).filter((entry) => entry.accepts.includes('bot')).map((entry) => entry.name));
    assert.ok(!botTools.includes('discord_retrieve_user_connections') && botTools.includes('discord_get_my_user'));
  });

  it('executes with the credential; a PNG comes back base64, and as an image for the model', async () => {
    const tools = await aiSdkTools(connector, { credential: () => user });
    assert.equal((await tools.discord_get_my_user.execute({}, { toolCallId: 't1', messages: [] })).id, USER_ID);
    const png = await tools.discord_get_guild_widget_png.execute({ guild_id: '613425648685547541' }, { toolCallId: 't2', messages: [] });
    assert.equal(png.contentType, 'image/png');
    assert.ok(png.base64.startsWith(PNG_BASE64_PREFIX));
    assert.equal(Buffer.from(png.base64, 'base64').length, png.size);
    const forModel = tools.discord_get_guild_widget_png.toModelOutput({ toolCallId: 't2', input: {}, output: png });
    assert.equal(forModel.type, 'content');
    assert.deepEqual(forModel.value[1], { type: 'image-data', data: png.base64, mediaType: 'image/png' });
    assert.deepEqual(tools.discord_get_gateway.toModelOutput({ output: { url: 'x' } }), { type: 'json', value: { url: 'x' } });
    const aborted = AbortSignal.abort();
    await assert.rejects(tools.discord_get_gateway.execute({}, { abortSignal: aborted }), { name: 'AbortError' });
  });

  it('runs inside the real AI SDK (generateText with a mock model, tool() and jsonSchema() from ai)', async () => {
    const definitions = await aiSdkTools(connector, { credential: user, jsonSchema });
    const tools = Object.fromEntries(Object.entries(definitions).map(([name, definition]) => [name, tool(definition)]));
    const usage = { inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 1, text: 1, reasoning: 0 } };
    const model = new MockLanguageModelV3({
      doGenerate: [
        {
          content: [
            { type: 'tool-call', toolCallId: 'call-1', toolName: 'discord_get_my_user', input: '{}' },
            { type: 'tool-call', toolCallId: 'call-2', toolName: 'discord_get_guild_widget_png', input: '{"guild_id": "613425648685547541"}' },
            { type: 'tool-call', toolCallId: 'call-3', toolName: 'discord_get_user', input: '{"user_id": "3"}' },
          ],
          finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
          usage,
          warnings: [],
        },
        { content: [{ type: 'text', text: 'done' }], finishReason: { unified: 'stop', raw: 'stop' }, usage, warnings: [] },
      ],
    });
    const result = await generateText({ model, tools, prompt: 'Who am I?', stopWhen: stepCountIs(2) });
    assert.equal(result.text, 'done');
    const [first] = result.steps;
    const results = Object.fromEntries(first.toolResults.map((entry) => [entry.toolCallId, entry.output]));
    assert.equal(results['call-1'].id, USER_ID);
    assert.equal(results['call-2'].contentType, 'image/png');
    const failed = first.content.find((part) => part.type === 'tool-error');
    assert.equal(failed.toolCallId, 'call-3');
    assert.equal(failed.error.kind, 'not-found');

    // What the model saw in its second call: tools with their JSON Schemas, then the results.
    const [, second] = model.doGenerateCalls;
    const offered = Object.fromEntries(second.tools.map((entry) => [entry.name, entry]));
    assert.deepEqual(offered.discord_get_user.inputSchema, catalogue.discord_get_user.inputSchema);
    const outputs = Object.fromEntries(second.prompt.filter((message) => message.role === 'tool').flatMap((message) => message.content).map((part) => [part.toolCallId, part.output]));
    assert.equal(outputs['call-1'].type, 'json');
    assert.equal(outputs['call-1'].value.id, USER_ID);
    assert.equal(outputs['call-2'].type, 'content');
    assert.equal(outputs['call-2'].value[1].type, 'image-data');
    assert.equal(outputs['call-3'].type, 'error-text');
    assert.match(outputs['call-3'].value, /404/);
  });
});

describe('openAiTools', () => {
  it('gives function tools and dispatches Chat Completions and Responses tool calls', async () => {
    const { tools, dispatch } = await openAiTools(connector, { credential: user });
    assert.equal(tools.length, 16);
    for (const entry of tools) {
      assert.deepEqual(Object.keys(entry), ['type', 'function']);
      assert.equal(entry.type, 'function');
      assert.deepEqual(Object.keys(entry.function), ['name', 'description', 'parameters']);
      assert.match(entry.function.name, /^[a-zA-Z0-9_-]{1,64}$/);
      assert.deepEqual(entry.function.parameters, catalogue[entry.function.name].inputSchema);
    }
    const chat = await dispatch({ id: 'call_1', type: 'function', function: { name: 'discord_get_my_user', arguments: '{}' } });
    assert.deepEqual(Object.keys(chat), ['role', 'tool_call_id', 'content']);
    assert.equal(chat.role, 'tool');
    assert.equal(chat.tool_call_id, 'call_1');
    assert.equal(JSON.parse(chat.content).id, USER_ID);

    const responses = await dispatch({ type: 'function_call', call_id: 'fc_1', name: 'discord_list_my_guilds', arguments: '{"limit": 1}' });
    assert.equal(responses.type, 'function_call_output');
    assert.equal(responses.call_id, 'fc_1');
    assert.equal(JSON.parse(responses.output).length, 1);

    const png = JSON.parse((await dispatch({ id: 'call_2', function: { name: 'discord_get_guild_widget_png', arguments: '{"guild_id": "613425648685547541"}' } })).content);
    assert.equal(png.contentType, 'image/png');
    assert.ok(png.base64.startsWith(PNG_BASE64_PREFIX));
  });

  it('hands errors to the model as JSON, never the token', async () => {
    const { dispatch } = await openAiTools(connector, { credential: { kind: 'bearer', token: 'sbx-user.not-a-real-token' } });
    const unauthorized = JSON.parse((await dispatch({ id: 'c', function: { name: 'discord_get_my_user', arguments: '{}' } })).content);
    assert.equal(unauthorized.error.kind, 'unauthorized');
    assert.equal(unauthorized.error.status, 401);
    assert.ok(!JSON.stringify(unauthorized).includes('not-a-real-token'));
    const invalid = JSON.parse((await dispatch({ id: 'c', function: { name: 'discord_get_user', arguments: '{"user_id": ' } })).content);
    assert.equal(invalid.error.kind, 'invalid-arguments');
    const unknown = JSON.parse((await dispatch({ id: 'c', function: { name: 'discord_nuke', arguments: '{}' } })).content);
    assert.equal(unknown.error.kind, 'unknown-tool');
    await assert.rejects(dispatch({ nonsense: true }), TypeError);
  });
});
