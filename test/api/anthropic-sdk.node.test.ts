/**
 * The Anthropic SDK (@anthropic-ai/sdk) reading the Messages translation's answers from the built-in
 * model: `stop_reason` and `stop_sequence`, in a Message and in the stream's `message_delta` that
 * the SDK's MessageStream folds into its final Message.
 */
import Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { BUILTIN_MODEL_ID, createBuiltinModel } from '../../src/model/builtin.js';

const model = createBuiltinModel({ now: () => 1_767_225_600 });

/** The SDK's fetch: `/v1/messages` answered by the built-in model, as JSON or as SSE events. */
const fetchBuiltin: typeof fetch = async (_input, init) => {
  const body = JSON.parse(String(init?.body));
  const answer = await model.call('/v1/messages', { body });
  if (answer.kind === 'json') {
    return new Response(JSON.stringify(answer.body), { headers: { 'content-type': 'application/json' } });
  }
  let sse = '';
  for await (const data of answer.events) sse += `event: ${JSON.parse(data).type}\ndata: ${data}\n\n`;
  return new Response(sse, { headers: { 'content-type': 'text/event-stream' } });
};

const client = new Anthropic({ apiKey: 'k', baseURL: 'http://sealgate.invalid', fetch: fetchBuiltin });
const ask = {
  model: BUILTIN_MODEL_ID,
  max_tokens: 64,
  messages: [{ role: 'user' as const, content: 'Hello there' }],
  stop_sequences: ['Backwards'],
};

describe('@anthropic-ai/sdk reads stop_sequence', () => {
  it('messages.create: stop_reason "stop_sequence" and the sequence', async () => {
    const message = await client.messages.create(ask);
    expect(message.stop_reason).toBe('stop_sequence');
    expect(message.stop_sequence).toBe('Backwards');
    expect(message.content).toEqual([{ type: 'text', text: 'You said: "Hello there"' }]);
  });

  it('messages.stream: the final Message carries them from message_delta', async () => {
    const final = await client.messages.stream(ask).finalMessage();
    expect(final.stop_reason).toBe('stop_sequence');
    expect(final.stop_sequence).toBe('Backwards');
    const natural = await client.messages.stream({ ...ask, stop_sequences: ['absent'] }).finalMessage();
    expect([natural.stop_reason, natural.stop_sequence]).toEqual(['end_turn', null]);
  });
});
