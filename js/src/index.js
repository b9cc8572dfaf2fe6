// A small wrapper over the Discord connector component as jco transpiles it
// (generated/, made by `npm run build`): plain objects in, plain objects out,
// contract errors thrown as ConnectorError.
import { existsSync, readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { WASIShim } from '@bytecodealliance/preview2-shim/instantiation';

import { ConnectorError } from './errors.js';

export { ConnectorError } from './errors.js';
export { aiSdkTools, openAiTools } from './adapters.js';

const GENERATED = new URL('../generated/', import.meta.url);
const GLUE = new URL('discord_connector.js', GENERATED);
if (!existsSync(GLUE)) {
  throw new Error(
    'The transpiled component is missing (js/generated/): run `npm run build` in js/ ' +
      '(after `cargo xtask dist` at the repository root).',
  );
}
const { instantiate } = await import(GLUE.href);

// The core modules are compiled once per process (off the main thread) and
// instantiated once per connector.
const CORE_MODULES = new Map();
for (const name of ['discord_connector.core.wasm', 'discord_connector.core2.wasm', 'discord_connector.core3.wasm']) {
  CORE_MODULES.set(name, await WebAssembly.compile(readFileSync(new URL(name, GENERATED))));
}
function coreModule(name) {
  const module = CORE_MODULES.get(name);
  if (!module) throw new Error(`the transpiled component asks for an unknown core module ${name}: rebuild js/generated/`);
  return module;
}

const REDACTED = '[redacted]';
const INSPECT = inspect.custom;

/** Hides the named properties from util.inspect / console.log (JSON.stringify still has them). */
function redactInInspect(object, secrets) {
  Object.defineProperty(object, INSPECT, {
    enumerable: false,
    value(depth, options, inspectFn = inspect) {
      const shown = { ...object };
      for (const key of secrets) if (shown[key] != null) shown[key] = REDACTED;
      return inspectFn(shown, options);
    },
  });
  return object;
}

function parseDetails(details) {
  if (details == null) return null;
  try {
    return JSON.parse(details);
  } catch {
    return details;
  }
}

/** The contract error inside what the transpiled code threw, if it is one. */
function contractError(thrown) {
  if (thrown === null || typeof thrown !== 'object' || !Object.hasOwn(thrown, 'payload')) return null;
  const payload = thrown.payload;
  if (payload === null || typeof payload !== 'object' || typeof payload.kind !== 'string') return null;
  return new ConnectorError({
    kind: payload.kind,
    message: payload.message,
    status: payload.status,
    code: payload.code,
    details: parseDetails(payload.details),
    retryAfterMs: payload.retryAfterMs == null ? null : Number(payload.retryAfterMs),
  });
}

const CREDENTIAL_HELP = 'a credential is null, {kind: "bearer", token} or {kind: "bot", token}';

function witCredential(credential) {
  if (credential == null) return { tag: 'none' };
  if (typeof credential !== 'object') throw new TypeError(CREDENTIAL_HELP);
  const { kind, token } = credential;
  if (kind === 'none') return { tag: 'none' };
  if (kind !== 'bearer' && kind !== 'bot') throw new TypeError(`${CREDENTIAL_HELP}; its kind must be "bearer" or "bot"`);
  if (typeof token !== 'string' || token === '') throw new TypeError(`${CREDENTIAL_HELP}; its token must be a non-empty string`);
  return { tag: kind, val: token };
}

function requireString(value, what) {
  if (typeof value !== 'string') throw new TypeError(`${what} must be a string`);
  return value;
}

function requireArray(value, what) {
  if (!Array.isArray(value)) throw new TypeError(`${what} must be an array`);
  return value;
}

function optionalString(value, what) {
  return value == null ? undefined : requireString(value, what);
}

/** `[[name, value], ...]` from an object (array values repeat) or from pairs. */
function pairs(value, what) {
  if (value == null) return [];
  const entries = Array.isArray(value) ? value : Object.entries(value).flatMap(([name, v]) => (Array.isArray(v) ? v.map((one) => [name, one]) : [[name, v]]));
  return entries.map((entry) => {
    if (!Array.isArray(entry) || entry.length !== 2) throw new TypeError(`${what} must be an object or a list of [name, value] pairs`);
    const [name, v] = entry;
    if (v === undefined || v === null) throw new TypeError(`${what}: ${String(name)} has no value`);
    return [String(name), String(v)];
  });
}

// `tools` as DISCORD_TOOLS's text: names or `*` globs, a comma-separated string or a list.
function toolsSetting(tools) {
  if (typeof tools === 'string') return tools;
  if (Array.isArray(tools) && tools.every((entry) => typeof entry === 'string')) return tools.join(',');
  throw new TypeError("tools must be a string such as 'discord_get_*,discord_list_*' or a list of names and globs");
}

function environment(apiBase, env, tools) {
  if (env != null && (typeof env !== 'object' || Array.isArray(env))) throw new TypeError('env must be an object of settings, such as { DISCORD_TIMEOUT_MS: "5000" }');
  const entries = new Map();
  for (const [name, value] of Object.entries(env ?? {})) {
    if (value === undefined) continue;
    if (name === '' || name.includes('=')) throw new TypeError(`env: ${JSON.stringify(name)} is not a variable name`);
    if (!['string', 'number', 'boolean'].includes(typeof value)) throw new TypeError(`env: ${name} must be a string`);
    entries.set(name, String(value));
  }
  if (apiBase != null) {
    requireString(apiBase, 'apiBase');
    if (entries.has('DISCORD_API_BASE') && entries.get('DISCORD_API_BASE') !== apiBase) {
      throw new TypeError('apiBase and env.DISCORD_API_BASE disagree: give one of them');
    }
    entries.set('DISCORD_API_BASE', apiBase);
  }
  if (tools != null) {
    const setting = toolsSetting(tools);
    if (entries.has('DISCORD_TOOLS') && entries.get('DISCORD_TOOLS') !== setting) {
      throw new TypeError('tools and env.DISCORD_TOOLS disagree: give one of them');
    }
    entries.set('DISCORD_TOOLS', setting);
  }
  return Object.fromEntries(entries);
}

function token(witToken) {
  return redactInInspect(
    {
      accessToken: witToken.accessToken,
      tokenType: witToken.tokenType,
      expiresInSeconds: Number(witToken.expiresInSeconds),
      refreshToken: witToken.refreshToken ?? null,
      scopes: witToken.scopes,
    },
    ['accessToken', 'refreshToken'],
  );
}

function client({ clientId, clientSecret }) {
  return { clientId: requireString(clientId, 'clientId'), clientSecret: optionalString(clientSecret, 'clientSecret') };
}

const UTF8 = new TextDecoder();

function proxyResponse({ status, headers, body }) {
  const response = { status, headers, body };
  Object.defineProperties(response, {
    /** The first value of header `name` (case-insensitive), or null. */
    header: { value: (name) => headers.find(([candidate]) => candidate.toLowerCase() === String(name).toLowerCase())?.[1] ?? null },
    text: { value: () => UTF8.decode(body) },
    json: { value: () => JSON.parse(UTF8.decode(body)) },
  });
  return response;
}

/**
 * One component instance with its own environment: exactly `apiBase` (as
 * DISCORD_API_BASE) and `env`, nothing of process.env.
 */
class Connector {
  #env;
  #instance = null;

  constructor(env) {
    this.#env = env;
    this.#instance = this.#instantiate();
  }

  #instantiate() {
    // WASIShim's sandbox.env gives this instance its own wasi:cli/environment.
    const imports = new WASIShim({ sandbox: { env: this.#env } }).getImportObject();
    return instantiate(coreModule, imports);
  }

  /** Runs `call` on the instance; a trap discards it (the next call gets a fresh one). */
  #call(call) {
    this.#instance ??= this.#instantiate();
    try {
      return call(this.#instance);
    } catch (thrown) {
      const error = contractError(thrown);
      if (error) throw error;
      if (thrown instanceof WebAssembly.RuntimeError) {
        this.#instance = null;
        throw new Error(`the component trapped (${thrown.message}); the next call uses a fresh instance`, { cause: thrown });
      }
      throw thrown;
    }
  }

  async listTools() {
    return this.#call((root) => root.tools.listTools()).map((tool) => ({
      name: tool.name,
      description: tool.description,
      inputSchema: JSON.parse(tool.inputSchema),
      scopes: tool.scopes,
      accepts: tool.accepts,
    }));
  }

  async executeTool(name, args = {}, credential = null) {
    requireString(name, 'the tool name');
    const json = typeof args === 'string' ? args : JSON.stringify(args ?? {});
    const wit = witCredential(credential);
    const output = this.#call((root) => root.tools.executeTool(name, json, wit));
    if (output.tag === 'json') return JSON.parse(output.val);
    return { contentType: output.val.contentType, data: output.val.data };
  }

  async authorizationLink({ clientId, redirectUri, scopes = [], state, prompt, extra } = {}) {
    const request = {
      clientId: requireString(clientId, 'clientId'),
      redirectUri: requireString(redirectUri, 'redirectUri'),
      scopes: requireArray(scopes, 'scopes').map((scope) => requireString(scope, 'a scope')),
      state: optionalString(state, 'state'),
      prompt: optionalString(prompt, 'prompt'),
      extra: pairs(extra, 'extra'),
    };
    const link = this.#call((root) => root.oauth.authorizationLink(request));
    return redactInInspect({ url: link.url, state: link.state, codeVerifier: link.codeVerifier }, ['codeVerifier']);
  }

  async exchangeCode({ clientId, clientSecret, code, redirectUri, codeVerifier } = {}) {
    const args = [client({ clientId, clientSecret }), requireString(code, 'code'), requireString(redirectUri, 'redirectUri'), requireString(codeVerifier, 'codeVerifier')];
    return token(this.#call((root) => root.oauth.exchangeCode(...args)));
  }

  async refreshToken({ clientId, clientSecret, refreshToken } = {}) {
    const args = [client({ clientId, clientSecret }), requireString(refreshToken, 'refreshToken')];
    return token(this.#call((root) => root.oauth.refreshToken(...args)));
  }

  async revokeToken({ clientId, clientSecret, token: revoked } = {}) {
    const args = [client({ clientId, clientSecret }), requireString(revoked, 'token')];
    this.#call((root) => root.oauth.revokeToken(...args));
  }

  async proxy({ method = 'GET', path, query, body, credential = null } = {}) {
    const request = {
      method: requireString(method, 'method'),
      path: requireString(path, 'path'),
      query: pairs(query, 'query'),
      body: body == null ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    };
    const wit = witCredential(credential);
    return proxyResponse(this.#call((root) => root.proxy.send(request, wit)));
  }
}

/**
 * A connector: a component instance whose environment is `apiBase` (as
 * DISCORD_API_BASE), `tools` (as DISCORD_TOOLS, which the component
 * enforces) plus `env`, and nothing else.
 */
export function createConnector({ apiBase, env, tools } = {}) {
  return new Connector(environment(apiBase, env, tools));
}
