/**
 * OpenAI Responses request (API reference: "Responses", `POST /v1/responses`) → chat completions
 * request, for a model server that speaks only chat completions.
 *
 * Translated: model, instructions → a leading `system` message, input (a string, or items: messages
 * with `input_text`/`output_text`/`input_image` parts, `function_call`, `function_call_output`),
 * max_output_tokens → max_completion_tokens, temperature, top_p, stream (with usage), tools of type
 * `function`, tool_choice, parallel_tool_calls, text.format (`json_schema`, `json_object`, `text`)
 * → response_format, user, store (accepted; nothing is ever stored: answers say `store: false`).
 * Refused (400): previous_response_id, conversation, background, reasoning, include, prompt,
 * truncation other than "disabled", built-in tools, a part other than text in an assistant message,
 * and any field not listed here, on the body, an input item or a content part.
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
  'input',
  'instructions',
  'max_output_tokens',
  'temperature',
  'top_p',
  'stream',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'text',
  'user',
  'store',
  'metadata',
  'truncation',
]);

export function responsesToChat(body: Json): Json {
  refuseUnknownFields(body, KNOWN, 'body');
  const chat: Json = { model: stringAt(body.model, 'model') };
  if (body.truncation !== undefined && body.truncation !== null && body.truncation !== 'disabled') {
    refuse('truncation "auto" is not supported');
  }
  if (body.metadata !== undefined && body.metadata !== null) objectAt(body.metadata, 'metadata');
  const messages: Json[] = [];
  if (body.instructions !== undefined && body.instructions !== null) {
    messages.push({ role: 'system', content: stringAt(body.instructions, 'instructions') });
  }
  if (typeof body.input === 'string') messages.push({ role: 'user', content: body.input });
  else messages.push(...arrayAt(body.input, 'input').map(inputItem));
  if (messages.length === 0) refuse('input must not be empty');
  chat.messages = messages;
  copyPresent(body, chat, {
    max_output_tokens: 'max_completion_tokens',
    temperature: 'temperature',
    top_p: 'top_p',
    parallel_tool_calls: 'parallel_tool_calls',
    user: 'user',
  });
  if (body.stream === true) {
    chat.stream = true;
    chat.stream_options = { include_usage: true };
  } else if (body.stream !== undefined && body.stream !== null && body.stream !== false) {
    refuse('stream must be a boolean');
  }
  if (body.tools !== undefined) chat.tools = arrayAt(body.tools, 'tools').map(tool);
  if (body.tool_choice !== undefined) chat.tool_choice = toolChoice(body.tool_choice);
  if (body.text !== undefined && body.text !== null) {
    const format = responseFormat(objectAt(body.text, 'text').format);
    if (format) chat.response_format = format;
  }
  return chat;
}

/**
 * The fields each input item and content part may carry here: what it is translated from, and the
 * `id` and `status` an output item has when a client sends the last answer's items back. Anything
 * else is refused, not dropped (an `output_text`'s `annotations` and `logprobs` only when empty).
 */
const ITEM_FIELDS: Readonly<Record<string, ReadonlySet<string>>> = {
  message: new Set(['type', 'role', 'content', 'id', 'status']),
  function_call: new Set(['type', 'call_id', 'name', 'arguments', 'id', 'status']),
  function_call_output: new Set(['type', 'call_id', 'output', 'id', 'status']),
};
const PART_FIELDS: Readonly<Record<string, ReadonlySet<string>>> = {
  input_text: new Set(['type', 'text']),
  output_text: new Set(['type', 'text']),
  input_image: new Set(['type', 'image_url', 'detail']),
};

function inputItem(value: unknown, i: number): Json {
  const where = `input[${i}]`;
  const item = objectAt(value, where);
  const type = item.type ?? 'message';
  const itemFields = ITEM_FIELDS[String(type)];
  if (itemFields) refuseUnknownFields(item, itemFields, where);
  if (type === 'function_call') {
    return {
      role: 'assistant',
      content: null,
      tool_calls: [
        {
          id: stringAt(item.call_id, `${where}.call_id`),
          type: 'function',
          function: {
            name: stringAt(item.name, `${where}.name`),
            arguments: stringAt(item.arguments, `${where}.arguments`),
          },
        },
      ],
    };
  }
  if (type === 'function_call_output') {
    return {
      role: 'tool',
      tool_call_id: stringAt(item.call_id, `${where}.call_id`),
      content: stringAt(item.output, `${where}.output`),
    };
  }
  if (type !== 'message') refuse(`${where}.type "${String(type)}" is not supported`);
  const role = item.role;
  if (role !== 'user' && role !== 'assistant' && role !== 'system' && role !== 'developer') {
    refuse(`${where}.role must be user, assistant, system or developer`);
  }
  if (typeof item.content === 'string') return { role, content: item.content };
  const parts = arrayAt(item.content, `${where}.content`).map((p, j) =>
    contentPart(p, `${where}.content[${j}]`),
  );
  // Chat completions takes an assistant's content as one string: a part without text (an image)
  // cannot be carried, and is refused rather than dropped.
  if (role === 'assistant') {
    if (parts.some((p) => p.type !== 'text'))
      refuse(`${where}: an assistant message carries text parts only`);
    return { role, content: parts.map((p) => p.text).join('') };
  }
  return { role, content: parts };
}

function contentPart(value: unknown, where: string): Json {
  const p = objectAt(value, where);
  const partFields = PART_FIELDS[String(p.type)];
  if (partFields) refuseUnknownFields(p, partFields, where, ['annotations', 'logprobs']);
  if (p.type === 'input_text' || p.type === 'output_text') {
    return { type: 'text', text: stringAt(p.text, `${where}.text`) };
  }
  if (p.type === 'input_image') {
    return {
      type: 'image_url',
      image_url: {
        url: stringAt(p.image_url, `${where}.image_url`),
        ...(p.detail !== undefined ? { detail: p.detail } : {}),
      },
    };
  }
  return refuse(`${where}.type "${String(p.type)}" is not supported when translated to chat completions`);
}

function tool(value: unknown, i: number): Json {
  const where = `tools[${i}]`;
  const t = objectAt(value, where);
  if (t.type !== 'function')
    refuse(`${where}.type "${String(t.type)}" is not supported (function tools only)`);
  const fn: Json = { name: stringAt(t.name, `${where}.name`) };
  copyPresent(t, fn, { description: 'description', parameters: 'parameters', strict: 'strict' });
  return { type: 'function', function: fn };
}

function toolChoice(value: unknown): unknown {
  if (value === 'auto' || value === 'none' || value === 'required') return value;
  const c = objectAt(value, 'tool_choice');
  if (c.type !== 'function') refuse('tool_choice must be auto, none, required or a function');
  return { type: 'function', function: { name: stringAt(c.name, 'tool_choice.name') } };
}

function responseFormat(format: unknown): Json | null {
  if (format === undefined || format === null) return null;
  const f = objectAt(format, 'text.format');
  if (f.type === 'text') return null;
  if (f.type === 'json_object') return { type: 'json_object' };
  if (f.type !== 'json_schema') refuse('text.format.type must be text, json_object or json_schema');
  const schema: Json = { name: stringAt(f.name, 'text.format.name') };
  copyPresent(f, schema, { description: 'description', schema: 'schema', strict: 'strict' });
  return { type: 'json_schema', json_schema: schema };
}
