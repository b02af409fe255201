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
import { SealgateError } from '../../errors.js';
import { isObject, type Json } from '../shape.js';
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
  let sequence = 0;
  const out = (event: Json) => JSON.stringify({ ...event, sequence_number: sequence++ });
  let chatId: unknown = null;
  let createdAt = 0;
  let started = false;
  let item: Item | null = null;
  const done: Json[] = [];
  let finish: unknown = null;
  let usage: unknown = null;
  const snapshot = (status: string, u: Json | null = null) =>
    responseObject(request, { id: responseId(chatId), createdAt, status, output: done, usage: u, finish });
  const close = function* () {
    if (!item) return;
    const output_index = item.index;
    if (item.kind === 'message') {
      const id = messageItemId(chatId);
      const part = { type: 'output_text', text: item.text, annotations: [], logprobs: [] };
      yield out({
        type: 'response.output_text.done',
        item_id: id,
        output_index,
        content_index: 0,
        text: item.text,
        logprobs: [],
      });
      yield out({ type: 'response.content_part.done', item_id: id, output_index, content_index: 0, part });
      done.push(messageItem(chatId, item.text, 'completed'));
    } else {
      yield out({
        type: 'response.function_call_arguments.done',
        item_id: item.id,
        output_index,
        arguments: item.args,
      });
      done.push(callItem(item, 'completed'));
    }
    yield out({ type: 'response.output_item.done', output_index, item: done[done.length - 1] });
    item = null;
  };
  for await (const data of events) {
    if (data === '[DONE]') {
      yield* close();
      const final = snapshot('completed', responsesUsage(usage));
      yield out({
        type: final.status === 'completed' ? 'response.completed' : 'response.incomplete',
        response: final,
      });
      return;
    }
    const chunk: unknown = JSON.parse(data);
    if (!isObject(chunk)) throw new SealgateError('model_error', 'stream chunk is not a JSON object');
    if (!started) {
      started = true;
      chatId = chunk.id;
      createdAt = typeof chunk.created === 'number' ? chunk.created : 0;
      yield out({ type: 'response.created', response: snapshot('in_progress') });
      yield out({ type: 'response.in_progress', response: snapshot('in_progress') });
    }
    if (chunk.usage) usage = chunk.usage;
    const choice = Array.isArray(chunk.choices) ? chunk.choices[0] : undefined;
    if (!isObject(choice)) continue;
    if (choice.finish_reason) finish = choice.finish_reason;
    const delta = isObject(choice.delta) ? choice.delta : {};
    if (typeof delta.content === 'string' && delta.content !== '') {
      if (item?.kind !== 'message') {
        yield* close();
        item = { kind: 'message', index: done.length, text: '' };
        const id = messageItemId(chatId);
        yield out({
          type: 'response.output_item.added',
          output_index: item.index,
          item: { ...messageItem(chatId, '', 'in_progress'), content: [] },
        });
        yield out({
          type: 'response.content_part.added',
          item_id: id,
          output_index: item.index,
          content_index: 0,
          part: { type: 'output_text', text: '', annotations: [], logprobs: [] },
        });
      }
      item.text += delta.content;
      yield out({
        type: 'response.output_text.delta',
        item_id: messageItemId(chatId),
        output_index: item.index,
        content_index: 0,
        delta: delta.content,
        logprobs: [],
      });
    }
    for (const call of Array.isArray(delta.tool_calls) ? delta.tool_calls : []) {
      if (!isObject(call)) continue;
      const fn = isObject(call.function) ? call.function : {};
      const at = typeof call.index === 'number' ? call.index : 0;
      if (item?.kind !== 'call' || item.call !== at) {
        yield* close();
        const index = done.length;
        item = {
          kind: 'call',
          index,
          call: at,
          id: callItemId(chatId, at),
          callId: call.id,
          name: fn.name,
          args: '',
        };
        yield out({
          type: 'response.output_item.added',
          output_index: index,
          item: callItem(item, 'in_progress'),
        });
      }
      if (typeof fn.arguments === 'string' && fn.arguments !== '' && item.kind === 'call') {
        item.args += fn.arguments;
        yield out({
          type: 'response.function_call_arguments.delta',
          item_id: item.id,
          output_index: item.index,
          delta: fn.arguments,
        });
      }
    }
  }
  throw new SealgateError('model_error', 'model stream ended without [DONE]');
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
