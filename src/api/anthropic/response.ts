/**
 * OpenAI chat completion (API reference: "The chat completion object") → Anthropic Message (API
 * reference: "Messages", response body): text → a `text` block, each tool call → a `tool_use` block,
 * finish_reason → stop_reason (and stop_sequence, when the server names it: `stopOf`),
 * prompt/completion tokens → input/output tokens.
 */
import { SealgateError } from '../../errors.js';
import { isJsonObject } from '../../json/object-guards.js';
import { namedStop } from '../chat-chunks.js';
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

/**
 * A chat choice's end as Anthropic's `stop_reason` and `stop_sequence` (Messages API, response:
 * "stop_reason", "stop_sequence"). finish_reason "stop" covers both a natural end and a stop
 * sequence (OpenAI API reference, "finish_reason": "a natural stop point or a provided stop
 * sequence"), and the answer's text cannot tell them apart: the sequence is cut from it. So
 * `stop_sequence` is said only when the server names the sequence on the choice (`named`: vLLM's
 * `stop_reason`, SGLang's `matched_stop`, the built-in model's `stop_reason`) and it is one of the
 * request's `stop_sequences`; otherwise the answer is `end_turn` with `stop_sequence: null` — never
 * a guess.
 */
export function stopOf(
  finish: unknown,
  named: unknown,
  requested: readonly unknown[],
): { stop_reason: string; stop_sequence: string | null } {
  if (finish === 'stop' && typeof named === 'string' && requested.includes(named)) {
    return { stop_reason: 'stop_sequence', stop_sequence: named };
  }
  return { stop_reason: stopReason(finish), stop_sequence: null };
}

/** The request's `stop_sequences`, as `stopOf` compares them (none when absent). */
export function requestedStops(request: Json): readonly unknown[] {
  return Array.isArray(request.stop_sequences) ? request.stop_sequences : [];
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

export function chatToMessage(chat: Json, model: string, stops: readonly unknown[] = []): Json {
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
    ...stopOf(choice.finish_reason, namedStop(choice), stops),
    usage: anthropicUsage(chat.usage),
  };
}
