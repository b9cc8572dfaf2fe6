// Transpiles the release component (../dist/discord_connector.wasm, or the
// file named by DISCORD_CONNECTOR_WASM) with jco into generated/.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));
const wasm = path.resolve(root, process.env.DISCORD_CONNECTOR_WASM ?? '../dist/discord_connector.wasm');
const out = path.join(root, 'generated');
const shown = process.env.DISCORD_CONNECTOR_WASM ? wasm : '../dist/discord_connector.wasm';

if (!existsSync(wasm)) {
  console.error(`error: ${shown} does not exist.`);
  console.error('Build the component first: run `cargo xtask dist` from the repository root.');
  process.exit(1);
}

// The package's entry is dist/api.js; its CLI is dist/jco.js beside it.
const jcoDir = new URL('..', import.meta.resolve('@bytecodealliance/jco'));
const jco = fileURLToPath(new URL('dist/jco.js', jcoDir));
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
// Sync instantiation: each createConnector() gets its own component instance
// (own memory, own wasi:cli/environment) from core modules compiled once.
const run = spawnSync(
  process.execPath,
  [jco, 'transpile', wasm, '--out-dir', out, '--name', 'discord_connector', '--instantiation', 'sync', '--quiet'],
  { stdio: 'inherit' },
);
if (run.status !== 0) {
  console.error(`error: jco transpile failed (exit ${run.status ?? run.signal})`);
  process.exit(1);
}
const bytes = readFileSync(wasm);
const info = {
  component: shown,
  bytes: bytes.length,
  sha256: createHash('sha256').update(bytes).digest('hex'),
  jco: JSON.parse(readFileSync(new URL('package.json', jcoDir), 'utf8')).version,
};
writeFileSync(path.join(out, 'build-info.json'), `${JSON.stringify(info, null, 2)}\n`);
console.log(`transpiled ${info.component} (${info.bytes} bytes, sha256 ${info.sha256.slice(0, 12)}) with jco ${info.jco} into generated/`);
