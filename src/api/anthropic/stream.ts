/**
 * A streamed chat completion (`chat.completion.chunk` payloads, `[DONE]` last) → Anthropic's
 * streamed Message events (Messages API, "Streaming Messages"): `message_start`, then per content
 * block `content_block_start`, `content_block_delta` (`text_delta` or `input_json_delta`),
 * `content_block_stop`, then `message_delta` (stop_reason, usage) and `message_stop`.
 *
 * Each yielded string is one event's `data` JSON; its `type` is the SSE event name (the gateway
 * writes it as `event:`). `message_stop` is yielded only after the chat stream's `[DONE]`: a chat
 * stream that breaks off makes this one throw, never end well-formed.
 */
import { SealgateError } from '../../errors.js';
import { isObject, type Json } from '../shape.js';
import { anthropicUsage, messageId, stopReason } from './response.js';

type Block = { kind: 'text' } | { kind: 'tool'; call: number };

export async function* chatStreamToMessages(
  events: AsyncIterable<string>,
  model: string,
): AsyncGenerator<string> {
  const out = (event: Json) => JSON.stringify(event);
  let started = false;
  let block: Block | null = null;
  let index = -1;
  let finish: unknown = null;
  let usage: unknown = null;
  const close = function* () {
    if (block) yield out({ type: 'content_block_stop', index });
    block = null;
  };
  for await (const data of events) {
    if (data === '[DONE]') {
      if (!started) yield out(messageStart(null, model));
      yield* close();
      const u = anthropicUsage(usage);
      yield out({
        type: 'message_delta',
        delta: { stop_reason: stopReason(finish), stop_sequence: null },
        usage: { output_tokens: u.output_tokens, input_tokens: u.input_tokens },
      });
      yield out({ type: 'message_stop' });
      return;
    }
    const chunk: unknown = JSON.parse(data);
    if (!isObject(chunk)) throw new SealgateError('model_error', 'stream chunk is not a JSON object');
    if (!started) {
      started = true;
      yield out(messageStart(chunk.id, model));
    }
    if (chunk.usage) usage = chunk.usage;
    const choice = Array.isArray(chunk.choices) ? chunk.choices[0] : undefined;
    if (!isObject(choice)) continue;
    if (choice.finish_reason) finish = choice.finish_reason;
    const delta = isObject(choice.delta) ? choice.delta : {};
    if (typeof delta.content === 'string' && delta.content !== '') {
      if (block?.kind !== 'text') {
        yield* close();
        block = { kind: 'text' };
        index++;
        yield out({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
      }
      yield out({ type: 'content_block_delta', index, delta: { type: 'text_delta', text: delta.content } });
    }
    for (const call of Array.isArray(delta.tool_calls) ? delta.tool_calls : []) {
      if (!isObject(call)) continue;
      const fn = isObject(call.function) ? call.function : {};
      const at = typeof call.index === 'number' ? call.index : 0;
      if (block?.kind !== 'tool' || block.call !== at) {
        yield* close();
        block = { kind: 'tool', call: at };
        index++;
        yield out({
          type: 'content_block_start',
          index,
          content_block: { type: 'tool_use', id: call.id, name: fn.name, input: {} },
        });
      }
      if (typeof fn.arguments === 'string' && fn.arguments !== '') {
        yield out({
          type: 'content_block_delta',
          index,
          delta: { type: 'input_json_delta', partial_json: fn.arguments },
        });
      }
    }
  }
  throw new SealgateError('model_error', 'model stream ended without [DONE]');
}

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
