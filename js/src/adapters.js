// Tool definitions for agent frameworks, built from the component's catalogue.
// Neither adapter imports its framework.
import { ConnectorError } from './errors.js';

// The AI SDK recognises a schema object by this registered symbol (what its
// jsonSchema() sets); the validator symbol is for older releases.
const AI_SCHEMA = Symbol.for('vercel.ai.schema');
const AI_VALIDATOR = Symbol.for('vercel.ai.validator');

function kindOf(credential) {
  return credential == null ? 'none' : credential.kind;
}

function defaultFilter(credential) {
  if (typeof credential === 'function') return () => true;
  const kind = kindOf(credential);
  return (tool) => tool.accepts.includes(kind);
}

async function resolve(credential) {
  return typeof credential === 'function' ? await credential() : credential;
}

/** A binary output as JSON-safe data: { contentType, size, base64 }. */
function jsonSafe(output) {
  if (output !== null && typeof output === 'object' && output.data instanceof Uint8Array && typeof output.contentType === 'string') {
    return { contentType: output.contentType, size: output.data.length, base64: Buffer.from(output.data).toString('base64') };
  }
  return output;
}

function isBinary(output) {
  return output !== null && typeof output === 'object' && typeof output.contentType === 'string' && typeof output.base64 === 'string';
}

/** The AI SDK's Schema shape, as jsonSchema() from 'ai' makes it (no validator: the component validates). */
function schemaLike(schema) {
  return { [AI_SCHEMA]: true, [AI_VALIDATOR]: true, _type: undefined, jsonSchema: schema, validate: undefined };
}

/**
 * Vercel AI SDK (6 and 7) tools: `{ [name]: { description, inputSchema, execute, toModelOutput } }`,
 * to pass as `tools` to generateText / streamText.
 *
 * - `credential`: null, `{kind, token}`, or a function (async allowed) returning one per call.
 * - `jsonSchema`: the AI SDK's own `jsonSchema` from 'ai' (optional; an equivalent object is made otherwise).
 * - `filter(tool)`: which tools to offer; by default those whose `accepts` has the credential's kind
 *   (all of them when `credential` is a function).
 */
export async function aiSdkTools(connector, { credential = null, jsonSchema, filter } = {}) {
  const keep = filter ?? defaultFilter(credential);
  const tools = {};
  for (const tool of (await connector.listTools()).filter(keep)) {
    tools[tool.name] = {
      description: tool.description,
      inputSchema: jsonSchema ? jsonSchema(tool.inputSchema) : schemaLike(tool.inputSchema),
      async execute(input, options) {
        options?.abortSignal?.throwIfAborted();
        return jsonSafe(await connector.executeTool(tool.name, input ?? {}, await resolve(credential)));
      },
      toModelOutput({ output }) {
        if (!isBinary(output)) return { type: 'json', value: output };
        const part = output.contentType.startsWith('image/')
          ? { type: 'image-data', data: output.base64, mediaType: output.contentType }
          : { type: 'file-data', data: output.base64, mediaType: output.contentType };
        return { type: 'content', value: [{ type: 'text', text: `${output.contentType}, ${output.size} bytes` }, part] };
      },
    };
  }
  return tools;
}

/**
 * OpenAI function tools (`{type: "function", function: {name, description, parameters}}`) and
 * `dispatch(toolCall)`, which runs a model's tool call and gives the message to send back:
 *
 * - a Chat Completions call `{id, function: {name, arguments}}` gives `{role: "tool", tool_call_id, content}`;
 * - a Responses API call `{type: "function_call", call_id, name, arguments}` gives
 *   `{type: "function_call_output", call_id, output}`.
 *
 * The content is the tool's JSON; a binary result is `{contentType, size, base64}`; a
 * ConnectorError is `{"error": {kind, message, status, code, details, retryAfterMs}}` so the
 * model can react to it. Other errors (bad options, a trapped component) are thrown.
 */
export async function openAiTools(connector, { credential = null, filter } = {}) {
  const keep = filter ?? defaultFilter(credential);
  const catalogue = (await connector.listTools()).filter(keep);
  const names = new Set(catalogue.map((tool) => tool.name));
  const tools = catalogue.map((tool) => ({
    type: 'function',
    function: { name: tool.name, description: tool.description, parameters: tool.inputSchema },
  }));

  async function run(name, args) {
    if (!names.has(name)) {
      return { error: { kind: 'unknown-tool', message: `no tool named ${JSON.stringify(String(name))} is offered`, status: null, code: null, details: null, retryAfterMs: null } };
    }
    try {
      return jsonSafe(await connector.executeTool(name, args ?? '{}', await resolve(credential)));
    } catch (error) {
      if (error instanceof ConnectorError) return { error: error.toJSON() };
      throw error;
    }
  }

  async function dispatch(toolCall) {
    if (toolCall?.type === 'function_call' || (toolCall?.call_id !== undefined && toolCall?.function === undefined)) {
      const output = JSON.stringify(await run(toolCall.name, toolCall.arguments));
      return { type: 'function_call_output', call_id: toolCall.call_id, output };
    }
    if (toolCall?.function && typeof toolCall.function === 'object') {
      const content = JSON.stringify(await run(toolCall.function.name, toolCall.function.arguments));
      return { role: 'tool', tool_call_id: toolCall.id, content };
    }
    throw new TypeError('dispatch takes a Chat Completions tool call ({id, function: {name, arguments}}) or a Responses API function_call');
  }

  return { tools, dispatch };
}
