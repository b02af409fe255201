/**
 * A streamed chat completion (`chat.completion.chunk` payloads, `[DONE]` last) → Anthropic's
 * streamed Message events (Messages API, "Streaming Messages"): `message_start`, then per content
 * block `content_block_start`, `content_block_delta` (`text_delta` or `input_json_delta`),
 * `content_block_stop`, then `message_delta` (stop_reason, stop_sequence, usage) and `message_stop`.
 *
 * Each yielded string is one event's `data` JSON; its `type` is the SSE event name (the gateway
 * writes it as `event:`). `message_stop` is yielded only after the chat stream's `[DONE]`: a chat
 * stream that breaks off makes this one throw, never end well-formed.
 */

import { isJsonObject } from '../../json/object-guards.js';
import { type ChatStreamTranslator, translateChatStream } from '../chat-chunks.js';
import type { Json } from '../shape.js';
import { anthropicUsage, messageId, stopOf } from './response.js';

type Block = { kind: 'text' } | { kind: 'tool'; call: number };

/** `stops`: the request's `stop_sequences`, which `message_delta`'s `stop_sequence` may name. */
export async function* chatStreamToMessages(
  events: AsyncIterable<string>,
  model: string,
  stops: readonly unknown[] = [],
): AsyncGenerator<string> {
  yield* translateChatStream(events, new MessagesStream(model, stops));
}

/**
 * One translated stream's state. Invariants: `message_start` comes first (at `[DONE]` too, for an
 * empty answer); at most one content block is open (`block`, numbered `index`), and every block
 * opened is stopped before the next one starts and before `message_delta`.
 */
class MessagesStream implements ChatStreamTranslator {
  started = false;
  finish: unknown = null;
  namedStop: unknown = null;
  usage: unknown = null;
  #block: Block | null = null;
  #index = -1;

  constructor(
    readonly model: string,
    readonly stops: readonly unknown[],
  ) {}

  *start(chunk: Json): Generator<string> {
    this.started = true;
    yield out(messageStart(chunk.id, this.model));
  }

  /** Text: opens a text block unless one is open, then the delta. */
  *text(content: string): Generator<string> {
    if (this.#block?.kind !== 'text') {
      yield* this.#closeBlock();
      this.#block = { kind: 'text' };
      this.#index++;
      yield out({
        type: 'content_block_start',
        index: this.#index,
        content_block: { type: 'text', text: '' },
      });
    }
    yield out({
      type: 'content_block_delta',
      index: this.#index,
      delta: { type: 'text_delta', text: content },
    });
  }

  /** A tool call's delta: a call with another index opens a new tool_use block. */
  *toolCall(call: Json): Generator<string> {
    const fn = isJsonObject(call.function) ? call.function : {};
    const at = typeof call.index === 'number' ? call.index : 0;
    if (this.#block?.kind !== 'tool' || this.#block.call !== at) {
      yield* this.#closeBlock();
      this.#block = { kind: 'tool', call: at };
      this.#index++;
      yield out({
        type: 'content_block_start',
        index: this.#index,
        content_block: { type: 'tool_use', id: call.id, name: fn.name, input: {} },
      });
    }
    if (typeof fn.arguments === 'string' && fn.arguments !== '') {
      yield out({
        type: 'content_block_delta',
        index: this.#index,
        delta: { type: 'input_json_delta', partial_json: fn.arguments },
      });
    }
  }

  /** After `[DONE]`: the open block's stop, `message_delta` (stop reason, usage), `message_stop`. */
  *end(): Generator<string> {
    if (!this.started) yield out(messageStart(null, this.model));
    yield* this.#closeBlock();
    const u = anthropicUsage(this.usage);
    yield out({
      type: 'message_delta',
      delta: stopOf(this.finish, this.namedStop, this.stops),
      usage: { output_tokens: u.output_tokens, input_tokens: u.input_tokens },
    });
    yield out({ type: 'message_stop' });
  }

  *#closeBlock(): Generator<string> {
    if (this.#block) yield out({ type: 'content_block_stop', index: this.#index });
    this.#block = null;
  }
}

const out = (event: Json) => JSON.stringify(event);

function messageStart(chatId: unknown, model: string): Json {
  return {
    type: 'message_start',
    message: {
      id: messageId(chatId),
      type: 'message',
      role: 'assistant',
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: 0, output_tokens: 0 },
    },
  };
}
