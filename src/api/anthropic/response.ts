/**
 * OpenAI chat completion (API reference: "The chat completion object") → Anthropic Message (API
 * reference: "Messages", response body): text → a `text` block, each tool call → a `tool_use` block,
 * finish_reason → stop_reason, prompt/completion tokens → input/output tokens.
 */
import { SealgateError } from '../../errors.js';
import { isJsonObject } from '../../json/object-guards.js';
import { arrayAt, type Json, parseArguments } from '../shape.js';
import { tokenCount } from '../token-count.js';

/** chat `finish_reason` → Anthropic `stop_reason` (Messages API: "stop_reason"). */
export function stopReason(finish: unknown): string {
  switch (finish) {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
    case 'function_call':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    default:
      return 'end_turn';
  }
}

/** `msg_…` from the chat completion's id (stable: the same answer gets the same id). */
export function messageId(chatId: unknown): string {
  return `msg_${typeof chatId === 'string' ? chatId.replace(/^chatcmpl-/, '') : 'sealgate'}`;
}

/**
 * chat usage → Anthropic usage. Each count is read by token-count.ts (a fractional one rounded up, a
 * negative or non-numeric one as 2^53 − 1, only a missing one as 0): the gateway meters this
 * translated usage, so no report makes the answer cheaper than an honest one.
 */
export function anthropicUsage(usage: unknown): { input_tokens: number; output_tokens: number } {
  const u = isJsonObject(usage) ? usage : {};
  return {
    input_tokens: tokenCount(u.prompt_tokens) ?? 0,
    output_tokens: tokenCount(u.completion_tokens) ?? 0,
  };
}

export function chatToMessage(chat: Json, model: string): Json {
  const choices = arrayAt(chat.choices, 'the model answer’s choices');
  const choice = choices[0];
  if (choices.length !== 1 || !isJsonObject(choice) || !isJsonObject(choice.message)) {
    throw new SealgateError('model_error', 'the model answer does not have exactly one choice');
  }
  const m = choice.message;
  const content: Json[] = [];
  if (typeof m.content === 'string' && m.content !== '') content.push({ type: 'text', text: m.content });
  for (const call of Array.isArray(m.tool_calls) ? m.tool_calls : []) {
    const fn = isJsonObject(call) && isJsonObject(call.function) ? call.function : {};
    content.push({
      type: 'tool_use',
      id: isJsonObject(call) ? call.id : undefined,
      name: fn.name,
      input: parseArguments(fn.arguments),
    });
  }
  return {
    id: messageId(chat.id),
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: stopReason(choice.finish_reason),
    stop_sequence: null,
    usage: anthropicUsage(chat.usage),
  };
}
