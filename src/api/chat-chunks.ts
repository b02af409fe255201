/**
 * Reading a streamed chat completion (`chat.completion.chunk` payloads, `[DONE]` last: OpenAI API
 * reference, "Streaming") for the translations to other APIs' streams. Each payload is parsed and
 * shape-checked once here, and the one rule they all keep holds here: a chat stream that ends
 * without `[DONE]` throws, so no translated stream ever ends well-formed after a cut.
 */
import { SealgateError } from '../errors.js';
import { isObject } from './shape.js';

/** What a chunk's first choice carries; `null` when the chunk has no choice object (usage only). */
export interface ChatChoiceStep {
  finishReason: unknown;
  /** Its text delta, when a non-empty string. */
  content: string | null;
  /** Its tool-call deltas that are objects, in order. */
  toolCalls: Record<string, unknown>[];
}

export interface ChatChunkStep {
  chunk: Record<string, unknown>;
  choice: ChatChoiceStep | null;
}

/** Every chunk in order, then `'done'` at `[DONE]` (nothing after it is read). */
export async function* readChatChunks(events: AsyncIterable<string>): AsyncGenerator<ChatChunkStep | 'done'> {
  for await (const data of events) {
    if (data === '[DONE]') {
      yield 'done';
      return;
    }
    const chunk: unknown = JSON.parse(data);
    if (!isObject(chunk)) throw new SealgateError('model_error', 'stream chunk is not a JSON object');
    yield { chunk, choice: firstChoice(chunk) };
  }
  throw new SealgateError('model_error', 'model stream ended without [DONE]');
}

function firstChoice(chunk: Record<string, unknown>): ChatChoiceStep | null {
  const choice = Array.isArray(chunk.choices) ? chunk.choices[0] : undefined;
  if (!isObject(choice)) return null;
  const delta = isObject(choice.delta) ? choice.delta : {};
  const calls: unknown[] = Array.isArray(delta.tool_calls) ? delta.tool_calls : [];
  return {
    finishReason: choice.finish_reason,
    content: typeof delta.content === 'string' && delta.content !== '' ? delta.content : null,
    toolCalls: calls.filter(isObject),
  };
}
