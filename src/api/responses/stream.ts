/**
 * A streamed chat completion (`chat.completion.chunk` payloads, `[DONE]` last) → the Responses
 * API's typed stream events (API reference: "Streaming events"): `response.created`,
 * `response.in_progress`, per output item `response.output_item.added`, then for a message
 * `response.content_part.added`, `response.output_text.delta`…, `response.output_text.done`,
 * `response.content_part.done`, for a function call `response.function_call_arguments.delta`…,
 * `response.function_call_arguments.done`; each item ends with `response.output_item.done`, and
 * the stream with `response.completed` (or `response.incomplete` when cut by max_output_tokens).
 *
 * Each yielded string is one event's JSON (its `type` is the SSE event name), numbered by
 * `sequence_number`. The final event comes only after the chat stream's `[DONE]`.
 */

import { isJsonObject } from '../../json/object-guards.js';
import { type ChatStreamTranslator, translateChatStream } from '../chat-chunks.js';
import type { Json } from '../shape.js';
import {
  callItemId,
  messageItem,
  messageItemId,
  responseId,
  responseObject,
  responsesUsage,
} from './response.js';

type Item =
  | { kind: 'message'; index: number; text: string }
  | { kind: 'call'; index: number; call: number; id: string; callId: unknown; name: unknown; args: string };

export async function* chatStreamToResponses(
  events: AsyncIterable<string>,
  request: Json,
): AsyncGenerator<string> {
  yield* translateChatStream(events, new ResponsesStream(request));
}

/**
 * One translated stream's state. Invariants: events are numbered 0, 1, 2… in the order yielded; at
 * most one output item is open (`item`), and `done` holds every closed one in output order, so an
 * open item's `output_index` is `done.length` when it opens.
 */
class ResponsesStream implements ChatStreamTranslator {
  started = false;
  finish: unknown = null;
  usage: unknown = null;
  #sequence = 0;
  #chatId: unknown = null;
  #createdAt = 0;
  #item: Item | null = null;
  readonly #done: Json[] = [];

  constructor(readonly request: Json) {}

  #out(event: Json): string {
    return JSON.stringify({ ...event, sequence_number: this.#sequence++ });
  }

  #snapshot(status: string, u: Json | null = null): Json {
    return responseObject(this.request, {
      id: responseId(this.#chatId),
      createdAt: this.#createdAt,
      status,
      output: this.#done,
      usage: u,
      finish: this.finish,
    });
  }

  /** The first chunk names the response: `response.created`, then `response.in_progress`. */
  *start(chunk: Json): Generator<string> {
    this.started = true;
    this.#chatId = chunk.id;
    this.#createdAt = typeof chunk.created === 'number' ? chunk.created : 0;
    yield this.#out({ type: 'response.created', response: this.#snapshot('in_progress') });
    yield this.#out({ type: 'response.in_progress', response: this.#snapshot('in_progress') });
  }

  /** Text: opens a message item (and its output_text part) unless one is open, then the delta. */
  *text(content: string): Generator<string> {
    if (this.#item?.kind !== 'message') {
      yield* this.#closeItem();
      this.#item = { kind: 'message', index: this.#done.length, text: '' };
      yield this.#out({
        type: 'response.output_item.added',
        output_index: this.#item.index,
        item: { ...messageItem(this.#chatId, '', 'in_progress'), content: [] },
      });
      yield this.#out({
        type: 'response.content_part.added',
        item_id: messageItemId(this.#chatId),
        output_index: this.#item.index,
        content_index: 0,
        part: { type: 'output_text', text: '', annotations: [], logprobs: [] },
      });
    }
    this.#item.text += content;
    yield this.#out({
      type: 'response.output_text.delta',
      item_id: messageItemId(this.#chatId),
      output_index: this.#item.index,
      content_index: 0,
      delta: content,
      logprobs: [],
    });
  }

  /** A tool call's delta: a call with another index opens a new function_call item. */
  *toolCall(call: Json): Generator<string> {
    const fn = isJsonObject(call.function) ? call.function : {};
    const at = typeof call.index === 'number' ? call.index : 0;
    if (this.#item?.kind !== 'call' || this.#item.call !== at) {
      yield* this.#closeItem();
      const index = this.#done.length;
      this.#item = {
        kind: 'call',
        index,
        call: at,
        id: callItemId(this.#chatId, at),
        callId: call.id,
        name: fn.name,
        args: '',
      };
      yield this.#out({
        type: 'response.output_item.added',
        output_index: index,
        item: callItem(this.#item, 'in_progress'),
      });
    }
    const item = this.#item;
    if (typeof fn.arguments === 'string' && fn.arguments !== '' && item.kind === 'call') {
      item.args += fn.arguments;
      yield this.#out({
        type: 'response.function_call_arguments.delta',
        item_id: item.id,
        output_index: item.index,
        delta: fn.arguments,
      });
    }
  }

  /** Closes the open item, if any: its `.done` events, then `response.output_item.done`. */
  *#closeItem(): Generator<string> {
    const item = this.#item;
    if (!item) return;
    const output_index = item.index;
    if (item.kind === 'message') {
      const id = messageItemId(this.#chatId);
      const part = { type: 'output_text', text: item.text, annotations: [], logprobs: [] };
      yield this.#out({
        type: 'response.output_text.done',
        item_id: id,
        output_index,
        content_index: 0,
        text: item.text,
        logprobs: [],
      });
      yield this.#out({
        type: 'response.content_part.done',
        item_id: id,
        output_index,
        content_index: 0,
        part,
      });
      this.#done.push(messageItem(this.#chatId, item.text, 'completed'));
    } else {
      yield this.#out({
        type: 'response.function_call_arguments.done',
        item_id: item.id,
        output_index,
        arguments: item.args,
      });
      this.#done.push(callItem(item, 'completed'));
    }
    yield this.#out({
      type: 'response.output_item.done',
      output_index,
      item: this.#done[this.#done.length - 1],
    });
    this.#item = null;
  }

  /** After `[DONE]`: the open item closed, then `response.completed` (`response.incomplete` when cut). */
  *end(): Generator<string> {
    yield* this.#closeItem();
    const final = this.#snapshot('completed', responsesUsage(this.usage));
    yield this.#out({
      type: final.status === 'completed' ? 'response.completed' : 'response.incomplete',
      response: final,
    });
  }
}

function callItem(item: Extract<Item, { kind: 'call' }>, status: string): Json {
  return {
    type: 'function_call',
    id: item.id,
    call_id: item.callId,
    name: item.name,
    arguments: item.args,
    status,
  };
}
