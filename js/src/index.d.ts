// Hand-written declarations for src/index.js and src/adapters.js.

/** What a call authenticates with: nothing, a user's OAuth access token, or a bot token. */
export type Credential = null | { kind: 'none' } | { kind: 'bearer'; token: string } | { kind: 'bot'; token: string };

export type CredentialKind = 'none' | 'bearer' | 'bot';

/** The contract's error kinds (wit/connector.wit, `types.error-kind`). */
export type ErrorKind =
  | 'unknown-tool'
  | 'invalid-arguments'
  | 'missing-credential'
  | 'unauthorized'
  | 'forbidden'
  | 'not-found'
  | 'rate-limited'
  | 'upstream'
  | 'transport';

/** A failure the component reports through the contract's `error` record. Never carries a token. */
export class ConnectorError extends Error {
  readonly name: 'ConnectorError';
  kind: ErrorKind;
  /** The provider's HTTP status, when it answered. */
  status: number | null;
  /** The provider's JSON error code, when it sent one. */
  code: number | null;
  /** The provider's field errors or other details, parsed from JSON (the raw string if it is not JSON). */
  details: unknown;
  /** With `rate-limited`: how long to wait before trying again. */
  retryAfterMs: number | null;
  toJSON(): {
    kind: ErrorKind;
    message: string;
    status: number | null;
    code: number | null;
    details: unknown;
    retryAfterMs: number | null;
  };
}

/** A JSON Schema document. */
export type JsonSchema = { [keyword: string]: unknown };

export interface Tool {
  /** For example `discord_get_my_user`. */
  name: string;
  description: string;
  /** JSON Schema of the arguments object, parsed. */
  inputSchema: JsonSchema;
  /** OAuth 2.0 scopes the tool needs with a bearer credential. */
  scopes: string[];
  /** The kinds of credential the tool can run with. */
  accepts: CredentialKind[];
}

/** A binary tool result, such as the guild widget PNG. */
export interface BinaryOutput {
  contentType: string;
  data: Uint8Array;
}

/** A tool's result: Discord's JSON, parsed, or binary content. */
export type ToolOutput = unknown[] | { [key: string]: unknown } | BinaryOutput;

export interface AuthorizationLinkRequest {
  clientId: string;
  redirectUri: string;
  scopes: string[];
  /** Anti-forgery value; a fresh random one is made when absent. */
  state?: string;
  /** `consent` or `none`. */
  prompt?: 'consent' | 'none';
  /** Further query parameters Discord knows (guild_id, permissions, integration_type, ...). */
  extra?: Record<string, string | number | boolean> | Array<[string, string]>;
}

export interface AuthorizationLink {
  url: string;
  state: string;
  /** PKCE code verifier: keep it for exchangeCode. Hidden from util.inspect. */
  codeVerifier: string;
}

/** Tokens from Discord. util.inspect / console.log show them as "[redacted]"; JSON.stringify keeps them. */
export interface OAuthToken {
  accessToken: string;
  tokenType: string;
  expiresInSeconds: number;
  refreshToken: string | null;
  scopes: string[];
}

export interface OAuthClient {
  clientId: string;
  /** Absent for a public client that relies on PKCE alone. */
  clientSecret?: string;
}

export interface ProxyRequest {
  /** GET, POST, PUT, PATCH or DELETE (default GET). */
  method?: string;
  /** Path under the API base, starting with `/`, such as `/users/@me`. */
  path: string;
  /** Query parameters: an object (array values repeat the name) or [name, value] pairs. */
  query?: Record<string, string | number | boolean | Array<string | number | boolean>> | Array<[string, string]>;
  /** JSON body: a string, or a value to JSON.stringify. */
  body?: string | object;
  credential?: Credential;
}

export interface ProxyResponse {
  status: number;
  /** Header names (lower case) and values, as Discord sent them. */
  headers: Array<[string, string]>;
  body: Uint8Array;
  /** The first value of header `name` (case-insensitive), or null. */
  header(name: string): string | null;
  text(): string;
  json(): any;
}

export interface ConnectorOptions {
  /** Discord's API base, passed as DISCORD_API_BASE (the component defaults to https://discord.com/api/v10). */
  apiBase?: string;
  /**
   * The rest of the component's environment (docs/configuration.md), such as
   * DISCORD_TIMEOUT_MS or DISCORD_AUTHORIZE_URL. The component sees exactly apiBase and
   * these, never process.env.
   */
  env?: Record<string, string | number | boolean | undefined>;
  /**
   * The tools the connector offers, passed as DISCORD_TOOLS: names or `*` globs,
   * comma-separated or as a list (`['discord_get_*', 'discord_send_message']`).
   * listTools lists only these, and executeTool refuses any other with `unknown-tool`.
   */
  tools?: string | string[];
}

/**
 * One component instance. Its methods return promises, but each call runs
 * synchronously on the calling thread (jco's wasi:http shim blocks on a worker):
 * the event loop waits until the call ends, at the latest after DISCORD_TIMEOUT_MS.
 */
export interface Connector {
  listTools(): Promise<Tool[]>;
  /** `args`: an object, or its JSON text. */
  executeTool(name: string, args?: object | string, credential?: Credential): Promise<ToolOutput>;
  authorizationLink(request: AuthorizationLinkRequest): Promise<AuthorizationLink>;
  exchangeCode(request: OAuthClient & { code: string; redirectUri: string; codeVerifier: string }): Promise<OAuthToken>;
  refreshToken(request: OAuthClient & { refreshToken: string }): Promise<OAuthToken>;
  revokeToken(request: OAuthClient & { token: string }): Promise<void>;
  /** Any answer from Discord is a response, whatever its status; only a refused or unanswered request throws. */
  proxy(request: ProxyRequest): Promise<ProxyResponse>;
}

export function createConnector(options?: ConnectorOptions): Connector;

/** A credential, or a function (async allowed) giving one per call, such as a refreshing token store. */
export type CredentialSource = Credential | (() => Credential | Promise<Credential>);

/** A binary result as the adapters return it (JSON-safe). */
export interface Base64Output {
  contentType: string;
  size: number;
  base64: string;
}

/** An AI SDK tool (6 and 7): what `tool({ description, inputSchema, execute })` from 'ai' returns. */
export interface AiSdkTool {
  description: string;
  /** The AI SDK's Schema: `jsonSchema(tool.inputSchema)`. */
  inputSchema: unknown;
  execute(input: unknown, options?: { abortSignal?: AbortSignal; toolCallId?: string }): Promise<unknown | Base64Output>;
  toModelOutput(options: { output: unknown }): unknown;
}

export interface AdapterOptions {
  credential?: CredentialSource;
  /** Which tools to offer; by default those whose `accepts` has the credential's kind (all when it is a function). */
  filter?: (tool: Tool) => boolean;
}

export function aiSdkTools(
  connector: Connector,
  options?: AdapterOptions & {
    /** `jsonSchema` from 'ai'; without it an equivalent Schema object is made. */
    jsonSchema?: (schema: JsonSchema) => unknown;
  },
): Promise<Record<string, AiSdkTool>>;

export interface OpenAiFunctionTool {
  type: 'function';
  function: { name: string; description: string; parameters: JsonSchema };
}

export type ChatCompletionsToolCall = { id: string; type?: 'function'; function: { name: string; arguments: string } };
export type ResponsesFunctionCall = { type: 'function_call'; call_id: string; name: string; arguments: string };

export function openAiTools(
  connector: Connector,
  options?: AdapterOptions,
): Promise<{
  tools: OpenAiFunctionTool[];
  /** Runs a model's tool call; the content is the tool's JSON, `{contentType, size, base64}`, or `{"error": {...}}`. */
  dispatch(toolCall: ChatCompletionsToolCall): Promise<{ role: 'tool'; tool_call_id: string; content: string }>;
  dispatch(toolCall: ResponsesFunctionCall): Promise<{ type: 'function_call_output'; call_id: string; output: string }>;
}>;
