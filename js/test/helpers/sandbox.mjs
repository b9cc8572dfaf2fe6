// Starts the Discord sandbox (`discord-sandbox --port 0`) in a child
// process: the component's calls block this thread, so the server cannot
// live in it.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const SANDBOX_BIN = process.env.DISCORD_SANDBOX_BIN ?? fileURLToPath(new URL('../../../target/debug/discord-sandbox', import.meta.url));

/** The sandbox's fixed tokens and ids (sandbox/src/tokens.rs). */
export const USER_TOKEN = 'sbx-user.MTc4NzY1MjYxNjQwOTUzODU2.all-scopes';
export const IDENTIFY_ONLY_TOKEN = 'sbx-user.MTc4NzY1MjYxNjQwOTUzODU2.identify-only';
export const BOT_TOKEN = 'sbx-bot.MTE3ODc2NTI2MTY0MDk1Mzg1Ng.GhJkLm.bot-secret';
export const USER_ID = '80351110224678912';
export const APPLICATION_ID = '1178765261640953856';
export const user = { kind: 'bearer', token: USER_TOKEN };
export const bot = { kind: 'bot', token: BOT_TOKEN };

const KEYS = ['DISCORD_API_BASE', 'DISCORD_AUTHORIZE_URL', 'DISCORD_CLIENT_ID', 'DISCORD_CLIENT_SECRET'];

/** Spawns `node script args...` or a binary and waits for KEY=value lines on its stdout. */
export function startProcess(command, args, keys, { timeoutMs = 30_000 } = {}) {
  // The sandbox reads no DISCORD_ setting but its rate limit (benchmarks turn it off).
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('DISCORD_') || name === 'DISCORD_SANDBOX_RATE_LIMIT'),
  );
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const ready = new Promise((resolve, reject) => {
    const values = {};
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`${command} printed no ${keys.join(', ')} within ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
    child.stdout.on('data', (chunk) => {
      buffered += chunk;
      let newline;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        const equals = line.indexOf('=');
        if (equals > 0) values[line.slice(0, equals)] = line.slice(equals + 1);
      }
      if (keys.every((key) => key in values)) {
        clearTimeout(timer);
        resolve(values);
      }
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited (${code ?? signal}) before it was ready; stderr: ${stderr}`));
    });
  });
  const stop = async () => {
    process.off('exit', kill);
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGINT');
    const timer = setTimeout(kill, 3000);
    await exited;
    clearTimeout(timer);
  };
  return ready.then((values) => ({ values, stop, pid: child.pid }), async (error) => {
    await stop();
    throw error;
  });
}

/** A running sandbox: { apiBase, authorizeUrl, clientId, clientSecret, origin, stop() }. */
export async function startSandbox() {
  if (!existsSync(SANDBOX_BIN)) {
    throw new Error(`the sandbox binary ${SANDBOX_BIN} does not exist: build it (cargo build -p discord-sandbox) or set DISCORD_SANDBOX_BIN`);
  }
  const { values, stop } = await startProcess(SANDBOX_BIN, ['--port', '0'], KEYS);
  const apiBase = values.DISCORD_API_BASE;
  if (!/^http:\/\/127\.0\.0\.1:[1-9][0-9]*\/api\/v10$/.test(apiBase)) {
    await stop();
    throw new Error(`the sandbox printed an unexpected DISCORD_API_BASE: ${apiBase}`);
  }
  return {
    apiBase,
    authorizeUrl: values.DISCORD_AUTHORIZE_URL,
    clientId: values.DISCORD_CLIENT_ID,
    clientSecret: values.DISCORD_CLIENT_SECRET,
    origin: new URL(apiBase).origin,
    stop,
  };
}

/** A server that accepts connections and stalls (test/helpers/stall-server.mjs), in a child process. */
export async function startStallServer(mode) {
  const script = fileURLToPath(new URL('stall-server.mjs', import.meta.url));
  const { values, stop } = await startProcess(process.execPath, [script, mode], ['PORT']);
  return { apiBase: `http://127.0.0.1:${values.PORT}/api/v10`, stop };
}
