/**
 * OpenAI chat completion → OpenAI Response object (API reference: "The response object"): the
 * message text → one `message` output item with an `output_text` part, each tool call → a
 * `function_call` item; finish_reason `length` → status `incomplete` with reason
 * `max_output_tokens`; usage → input/output/total tokens.
 */
import { SealgateError } from '../../errors.js';
import { isJsonObject } from '../../json/object-guards.js';
import { arrayAt, type Json } from '../shape.js';
import { sumTokenCounts, tokenCount } from '../token-count.js';

const suffix = (chatId: unknown) =>
  typeof chatId === 'string' ? chatId.replace(/^chatcmpl-/, '') : 'sealgate';
export const responseId = (chatId: unknown) => `resp_${suffix(chatId)}`;
export const messageItemId = (chatId: unknown) => `msg_${suffix(chatId)}`;
export const callItemId = (chatId: unknown, i: number) => `fc_${suffix(chatId)}_${i}`;

/**
 * chat usage → Responses usage. Each count is read by token-count.ts (a fractional one rounded up, a
 * negative or non-numeric one as 2^53 − 1, only a missing one as 0): the gateway meters this
 * translated usage, so no report makes the answer cheaper than an honest one.
 */
export function responsesUsage(usage: unknown): Json {
  const u = isJsonObject(usage) ? usage : {};
  return {
    input_tokens: tokenCount(u.prompt_tokens) ?? 0,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: tokenCount(u.completion_tokens) ?? 0,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: tokenCount(u.total_tokens) || sumTokenCounts(u.prompt_tokens, u.completion_tokens),
  };
}

/** The response object around `output`, echoing the request's settings as OpenAI does. */
export function responseObject(
  request: Json,
  fields: {
    id: string;
    createdAt: number;
    status: string;
    output: Json[];
    usage: Json | null;
    finish?: unknown;
  },
): Json {
  const incomplete = fields.finish === 'length';
  return {
    id: fields.id,
    object: 'response',
    created_at: fields.createdAt,
    status: incomplete && fields.status === 'completed' ? 'incomplete' : fields.status,
    error: null,
    incomplete_details: incomplete ? { reason: 'max_output_tokens' } : null,
    instructions: request.instructions ?? null,
    max_output_tokens: request.max_output_tokens ?? null,
    model: request.model,
    output: fields.output,
    parallel_tool_calls: request.parallel_tool_calls ?? true,
    previous_response_id: null,
    store: false,
    temperature: request.temperature ?? 1,
    text: request.text ?? { format: { type: 'text' } },
    tool_choice: request.tool_choice ?? 'auto',
    tools: request.tools ?? [],
    top_p: request.top_p ?? 1,
    truncation: 'disabled',
    usage: fields.usage,
    user: request.user ?? null,
    metadata: request.metadata ?? {},
  };
}

export function messageItem(chatId: unknown, text: string, status: string): Json {
  return {
    type: 'message',
    id: messageItemId(chatId),
    status,
    role: 'assistant',
    content: [{ type: 'output_text', text, annotations: [], logprobs: [] }],
  };
}

export function chatToResponse(chat: Json, request: Json): Json {
  const choices = arrayAt(chat.choices, 'the model answer’s choices');
  const choice = choices[0];
  if (choices.length !== 1 || !isJsonObject(choice) || !isJsonObject(choice.message)) {
    throw new SealgateError('model_error', 'the model answer does not have exactly one choice');
  }
  const m = choice.message;
  const output: Json[] = [];
  if (typeof m.content === 'string' && m.content !== '')
    output.push(messageItem(chat.id, m.content, 'completed'));
  (Array.isArray(m.tool_calls) ? m.tool_calls : []).forEach((call: unknown, i: number) => {
    const c = isJsonObject(call) ? call : {};
    const fn = isJsonObject(c.function) ? c.function : {};
    output.push({
      type: 'function_call',
      id: callItemId(chat.id, i),
      call_id: c.id,
      name: fn.name,
      arguments: typeof fn.arguments === 'string' ? fn.arguments : '',
      status: 'completed',
    });
  });
  return responseObject(request, {
    id: responseId(chat.id),
    createdAt: typeof chat.created === 'number' ? chat.created : 0,
    status: 'completed',
    output,
    usage: responsesUsage(chat.usage),
    finish: choice.finish_reason,
  });
}
