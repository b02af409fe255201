/**
 * Anthropic Messages request (API reference: "Messages", `POST /v1/messages`) → OpenAI chat
 * completions request, for a model server that speaks only chat completions.
 *
 * Translated: model, max_tokens, system (string or text blocks) → a leading `system` message,
 * messages (text, image with a base64 or URL source, tool_use, tool_result), stop_sequences → stop,
 * temperature, top_p, stream (with `stream_options.include_usage`, so the stream ends with usage),
 * tools (`input_schema` → `parameters`), tool_choice (auto/any/tool/none, and
 * `disable_parallel_tool_use` → `parallel_tool_calls: false`), metadata.user_id → user.
 * Refused (400): top_k, thinking, service_tier, container, mcp_servers, document and other block
 * types, and any field not listed here, on the body, a message, a block or an image source — a
 * translation never drops what it cannot carry. Accepted and dropped: `cache_control` on blocks and
 * tools, a prompt-caching hint that does not change the answer.
 */
import {
  arrayAt,
  copyPresent,
  type Json,
  objectAt,
  refuse,
  refuseUnknownFields,
  stringAt,
} from '../shape.js';

const KNOWN = new Set([
  'model',
  'max_tokens',
  'messages',
  'system',
  'stop_sequences',
  'temperature',
  'top_p',
  'stream',
  'tools',
  'tool_choice',
  'metadata',
]);

export function messagesToChat(body: Json): Json {
  refuseUnknownFields(body, KNOWN, 'body');
  stringAt(body.model, 'model');
  if (typeof body.max_tokens !== 'number' || !Number.isSafeInteger(body.max_tokens) || body.max_tokens < 1) {
    refuse('max_tokens must be a positive integer');
  }
  const chat: Json = { model: body.model, max_tokens: body.max_tokens };
  chat.messages = [...systemMessages(body.system), ...arrayAt(body.messages, 'messages').flatMap(message)];
  if ((chat.messages as unknown[]).length === 0) refuse('messages must not be empty');
  copyPresent(body, chat, { temperature: 'temperature', top_p: 'top_p', stop_sequences: 'stop' });
  if (body.stream === true) {
    chat.stream = true;
    chat.stream_options = { include_usage: true };
  } else if (body.stream !== undefined && body.stream !== false) refuse('stream must be a boolean');
  if (body.tools !== undefined) chat.tools = arrayAt(body.tools, 'tools').map(tool);
  if (body.tool_choice !== undefined) Object.assign(chat, toolChoice(body.tool_choice));
  if (body.metadata !== undefined) {
    const metadata = objectAt(body.metadata, 'metadata');
    refuseUnknownFields(metadata, new Set(['user_id']), 'metadata');
    if (metadata.user_id !== undefined && metadata.user_id !== null) {
      chat.user = stringAt(metadata.user_id, 'metadata.user_id');
    }
  }
  return chat;
}

function systemMessages(system: unknown): Json[] {
  if (system === undefined) return [];
  if (typeof system === 'string') return [{ role: 'system', content: system }];
  const text = arrayAt(system, 'system').map((block, i) => textOf(block, `system[${i}]`));
  return [{ role: 'system', content: text.join('\n') }];
}

/**
 * The fields each content block may carry here: what it is translated from, and `cache_control`
 * (dropped). Anything else on a block (`citations`, a field a newer API adds) is refused, not
 * dropped: the model would answer another request than the client wrote.
 */
const BLOCK_FIELDS: Readonly<Record<string, ReadonlySet<string>>> = {
  text: new Set(['type', 'text', 'cache_control']),
  image: new Set(['type', 'source', 'cache_control']),
  tool_use: new Set(['type', 'id', 'name', 'input', 'cache_control']),
  tool_result: new Set(['type', 'tool_use_id', 'content', 'is_error', 'cache_control']),
};
const SOURCE_FIELDS: Readonly<Record<string, ReadonlySet<string>>> = {
  base64: new Set(['type', 'media_type', 'data']),
  url: new Set(['type', 'url']),
};

/** A response's text block says `"citations": null` when it cites nothing: sent back, it passes. */
function checkBlockFields(b: Json, where: string): void {
  const known = BLOCK_FIELDS[String(b.type)];
  if (known) refuseUnknownFields(b, known, where, ['citations']);
}

function textOf(block: unknown, where: string): string {
  const b = objectAt(block, where);
  if (b.type !== 'text') refuse(`${where}.type "${String(b.type)}" is not supported here`);
  checkBlockFields(b, where);
  return stringAt(b.text, `${where}.text`);
}

/** One Anthropic message → one or more chat messages (each tool_result becomes a `tool` message). */
function message(value: unknown, i: number): Json[] {
  const where = `messages[${i}]`;
  const m = objectAt(value, where);
  refuseUnknownFields(m, new Set(['role', 'content']), where);
  if (m.role !== 'user' && m.role !== 'assistant') refuse(`${where}.role must be "user" or "assistant"`);
  if (typeof m.content === 'string') return [{ role: m.role, content: m.content }];
  const blocks = arrayAt(m.content, `${where}.content`).map((b, j) => {
    const block = objectAt(b, `${where}.content[${j}]`);
    checkBlockFields(block, `${where}.content[${j}]`);
    return block;
  });
  return m.role === 'user' ? userMessages(blocks, where) : [assistantMessage(blocks, where)];
}

function userMessages(blocks: Json[], where: string): Json[] {
  const out: Json[] = [];
  let parts: Json[] = [];
  const flush = () => {
    if (parts.length > 0) out.push({ role: 'user', content: parts });
    parts = [];
  };
  blocks.forEach((b, j) => {
    const at = `${where}.content[${j}]`;
    if (b.type === 'text') parts.push({ type: 'text', text: stringAt(b.text, `${at}.text`) });
    else if (b.type === 'image')
      parts.push({ type: 'image_url', image_url: { url: imageUrl(b.source, at) } });
    else if (b.type === 'tool_result') {
      flush();
      out.push({
        role: 'tool',
        tool_call_id: stringAt(b.tool_use_id, `${at}.tool_use_id`),
        content: toolResult(b, at),
      });
    } else refuse(`${at}.type "${String(b.type)}" is not supported when translated to chat completions`);
  });
  flush();
  return out;
}

function imageUrl(source: unknown, where: string): string {
  const s = objectAt(source, `${where}.source`);
  const known = SOURCE_FIELDS[String(s.type)];
  if (!known) return refuse(`${where}.source.type must be "base64" or "url"`);
  refuseUnknownFields(s, known, `${where}.source`);
  if (s.type === 'url') return stringAt(s.url, `${where}.source.url`);
  return `data:${stringAt(s.media_type, `${where}.source.media_type`)};base64,${stringAt(s.data, `${where}.source.data`)}`;
}

function toolResult(b: Json, where: string): string {
  if (b.is_error === true) refuse(`${where}.is_error is not supported when translated to chat completions`);
  if (b.content === undefined) return '';
  if (typeof b.content === 'string') return b.content;
  return arrayAt(b.content, `${where}.content`)
    .map((c, k) => textOf(c, `${where}.content[${k}]`))
    .join('\n');
}

function assistantMessage(blocks: Json[], where: string): Json {
  const text: string[] = [];
  const calls: Json[] = [];
  blocks.forEach((b, j) => {
    const at = `${where}.content[${j}]`;
    if (b.type === 'text') text.push(stringAt(b.text, `${at}.text`));
    else if (b.type === 'tool_use') {
      calls.push({
        id: stringAt(b.id, `${at}.id`),
        type: 'function',
        function: {
          name: stringAt(b.name, `${at}.name`),
          arguments: JSON.stringify(objectAt(b.input, `${at}.input`)),
        },
      });
    } else refuse(`${at}.type "${String(b.type)}" is not supported when translated to chat completions`);
  });
  return {
    role: 'assistant',
    content: text.length > 0 ? text.join('') : null,
    ...(calls.length > 0 ? { tool_calls: calls } : {}),
  };
}

function tool(value: unknown, i: number): Json {
  const where = `tools[${i}]`;
  const t = objectAt(value, where);
  if (t.type !== undefined && t.type !== 'custom')
    refuse(`${where}.type "${String(t.type)}" is not supported`);
  // `cache_control` is a prompt-caching hint (what the server may reuse, not what it answers),
  // dropped here as on content blocks: clients that cache put it on their last tool.
  refuseUnknownFields(t, new Set(['type', 'name', 'description', 'input_schema', 'cache_control']), where);
  return {
    type: 'function',
    function: {
      name: stringAt(t.name, `${where}.name`),
      ...(t.description !== undefined
        ? { description: stringAt(t.description, `${where}.description`) }
        : {}),
      parameters: objectAt(t.input_schema, `${where}.input_schema`),
    },
  };
}

function toolChoice(value: unknown): Json {
  const c = objectAt(value, 'tool_choice');
  const parallel = c.disable_parallel_tool_use === true ? { parallel_tool_calls: false } : {};
  switch (c.type) {
    case 'auto':
      return { tool_choice: 'auto', ...parallel };
    case 'any':
      return { tool_choice: 'required', ...parallel };
    case 'none':
      return { tool_choice: 'none' };
    case 'tool':
      return {
        tool_choice: { type: 'function', function: { name: stringAt(c.name, 'tool_choice.name') } },
        ...parallel,
      };
    default:
      return refuse('tool_choice.type must be auto, any, tool or none');
  }
}
