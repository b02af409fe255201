/**
 * Reading a streamed chat completion (`chat.completion.chunk` payloads, `[DONE]` last: OpenAI API
 * reference, "Streaming") for the translations to other APIs' streams. Each payload is parsed and
 * shape-checked once here, and the one rule they all keep holds here: a chat stream that ends
 * without `[DONE]` throws, so no translated stream ever ends well-formed after a cut.
 */
import { SealgateError } from '../errors.js';
import { isJsonObject } from '../json/object-guards.js';
import type { Json } from './shape.js';

/** What a chunk's first choice carries; `null` when the chunk has no choice object (usage only). */
interface ChatChoiceStep {
  finishReason: unknown;
  /** The stop sequence the server names on the choice (`namedStop`). */
  namedStop: unknown;
  /** Its text delta, when a non-empty string. */
  content: string | null;
  /** Its tool-call deltas that are objects, in order. */
  toolCalls: Json[];
}

interface ChatChunkStep {
  chunk: Json;
  choice: ChatChoiceStep | null;
}

/**
 * One stream translation's state and events, driven by translateChatStream. `start` runs once,
 * before anything else of the first chunk; `end` only at `[DONE]` (then `started` may be false).
 */
export interface ChatStreamTranslator {
  readonly started: boolean;
  /** The last chunk's `usage` seen, and the last `finish_reason` (with the stop it names, if any). */
  usage: unknown;
  finish: unknown;
  namedStop?: unknown;
  start(chunk: Json): Iterable<string>;
  text(content: string): Iterable<string>;
  toolCall(call: Json): Iterable<string>;
  end(): Iterable<string>;
}

/** The translated stream: each chunk handed to `t` in order; its events, `t.end()`'s last. */
export async function* translateChatStream(
  events: AsyncIterable<string>,
  t: ChatStreamTranslator,
): AsyncGenerator<string> {
  for await (const step of readChatChunks(events)) {
    if (step === 'done') {
      yield* t.end();
      return;
    }
    if (!t.started) yield* t.start(step.chunk);
    if (step.chunk.usage) t.usage = step.chunk.usage;
    const { choice } = step;
    if (!choice) continue;
    if (choice.finishReason) {
      t.finish = choice.finishReason;
      t.namedStop = choice.namedStop;
    }
    if (choice.content !== null) yield* t.text(choice.content);
    for (const call of choice.toolCalls) yield* t.toolCall(call);
  }
}

/** Every chunk in order, then `'done'` at `[DONE]` (nothing after it is read). */
async function* readChatChunks(events: AsyncIterable<string>): AsyncGenerator<ChatChunkStep | 'done'> {
  for await (const data of events) {
    if (data === '[DONE]') {
      yield 'done';
      return;
    }
    const chunk: unknown = JSON.parse(data);
    if (!isJsonObject(chunk)) throw new SealgateError('model_error', 'stream chunk is not a JSON object');
    yield { chunk, choice: firstChoice(chunk) };
  }
  throw new SealgateError('model_error', 'model stream ended without [DONE]');
}

function firstChoice(chunk: Json): ChatChoiceStep | null {
  const choice = Array.isArray(chunk.choices) ? chunk.choices[0] : undefined;
  if (!isJsonObject(choice)) return null;
  const delta = isJsonObject(choice.delta) ? choice.delta : {};
  const calls: unknown[] = Array.isArray(delta.tool_calls) ? delta.tool_calls : [];
  return {
    finishReason: choice.finish_reason,
    namedStop: namedStop(choice),
    content: typeof delta.content === 'string' && delta.content !== '' ? delta.content : null,
    toolCalls: calls.filter(isJsonObject),
  };
}

/**
 * The stop sequence a chat choice (an answer's or a chunk's) says it ended on, if any: vLLM's
 * OpenAI-compatible server and the built-in model name it `stop_reason` (a string; vLLM gives a
 * token id there for a stop token), SGLang `matched_stop`. OpenAI's own API has no such field.
 */
export function namedStop(choice: Json): unknown {
  return choice.stop_reason ?? choice.matched_stop;
}
