// The "Use it in JavaScript" snippet (the top README.md and js/README.md)
// is the code between the markers below, run as is against the sandbox.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, test } from 'node:test';

import { startSandbox, USER_TOKEN } from './helpers/sandbox.mjs';

const sandbox = await startSandbox();
after(() => sandbox.stop());
process.env.DISCORD_API_BASE = sandbox.apiBase;
process.env.DISCORD_BEARER_TOKEN = USER_TOKEN;
const printed = [];
const print = console.log;
console.log = (...values) => printed.push(values.join(' '));

// README snippet begins
import { createConnector, ConnectorError } from '@discord-connector/wasm';

const discord = createConnector({ apiBase: process.env.DISCORD_API_BASE }); // default: discord.com
const user = { kind: 'bearer', token: process.env.DISCORD_BEARER_TOKEN };
const me = await discord.executeTool('discord_get_my_user', {}, user);
console.log(`signed in as ${me.username};`, (await discord.listTools()).length, 'tools');
try {
  await discord.executeTool('discord_get_my_user', {}, { kind: 'bearer', token: 'expired' });
} catch (error) {
  if (error instanceof ConnectorError) console.log(error.kind, error.status); // unauthorized 401
}
// README snippet ends

console.log = print;

test('the README snippet runs and prints what it promises', () => {
  // The catalogue's size, as `cargo xtask generate` lists its names for the component.
  const tools = readFileSync(new URL('../../src/input_schemas.rs', import.meta.url), 'utf8').match(/^\s+"discord_\w+",$/gm).length;
  assert.deepEqual(printed, [`signed in as nelly; ${tools} tools`, 'unauthorized 401']);
});

test('js/README.md shows exactly the snippet that ran', () => {
  const source = readFileSync(new URL(import.meta.url), 'utf8');
  const snippet = source.split('// README snippet begins\n')[1].split('// README snippet ends\n')[0];
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  assert.ok(readme.includes(`\`\`\`js\n${snippet}\`\`\``), 'js/README.md has the snippet in a js block');
  const top = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = top.split('## Use it in JavaScript\n')[1]?.split('\n## ')[0] ?? '';
  assert.ok(section.includes(`\`\`\`js\n${snippet}\`\`\``), 'the top README has the snippet under "Use it in JavaScript"');
});
