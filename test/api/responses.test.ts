/**
 * OpenAI Responses through the built-in model: translated to chat completions and back (API
 * reference: "The response object", "Streaming events"), and what the translation refuses.
 */
import { describe, expect, it } from 'vitest';
import { responsesToChat } from '../../src/api/responses/request.js';
import { SealgateError } from '../../src/errors.js';
import { BUILTIN_MODEL_ID, createBuiltinModel } from '../../src/model/builtin.js';
import type { ModelAnswer } from '../../src/model/types.js';

const model = createBuiltinModel({ now: () => 1_767_225_600 });
const ask = { model: BUILTIN_MODEL_ID, input: 'Hello there' };
const ANSWER = 'You said: "Hello there" Backwards: "there Hello"';

describe('OpenAI Responses', () => {
  it('answers a response object', async () => {
    const answer = await model.call('/v1/responses', { body: { ...ask, instructions: 'Be brief.' } });
    const body = (answer as Extract<ModelAnswer, { kind: 'json' }>).body;
    expect(body).toMatchObject({
      object: 'response',
      status: 'completed',
      model: BUILTIN_MODEL_ID,
      instructions: 'Be brief.',
      store: false,
      output: [{ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: ANSWER }] }],
      usage: { input_tokens: 4, output_tokens: 7, total_tokens: 11 },
    });
    expect(body.id).toMatch(/^resp_/);
  });

  it('is incomplete when cut by max_output_tokens', async () => {
    const answer = await model.call('/v1/responses', { body: { ...ask, max_output_tokens: 2 } });
    expect((answer as Extract<ModelAnswer, { kind: 'json' }>).body).toMatchObject({
      status: 'incomplete',
      incomplete_details: { reason: 'max_output_tokens' },
    });
  });

  it('streams typed events, numbered, ending with response.completed', async () => {
    const answer = await model.call('/v1/responses', { body: { ...ask, stream: true } });
    if (answer.kind !== 'stream') throw new Error('expected a stream');
    const list: Record<string, unknown>[] = [];
    for await (const e of answer.events) list.push(JSON.parse(e));
    const types = list.map((e) => e.type);
    expect(types.slice(0, 4)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
    ]);
    expect(types.slice(-4)).toEqual([
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(list.map((e) => e.sequence_number)).toEqual(list.map((_, i) => i));
    const text = list
      .filter((e) => e.type === 'response.output_text.delta')
      .map((e) => e.delta)
      .join('');
    expect(text).toBe(ANSWER);
    expect(list.at(-1)).toMatchObject({
      response: {
        status: 'completed',
        output: [{ content: [{ text: ANSWER }] }],
        usage: { output_tokens: 7 },
      },
    });
  });

  it('translates input items, tools and text.format', () => {
    expect(
      responsesToChat({
        model: 'm',
        input: [
          {
            role: 'user',
            content: [
              { type: 'input_text', text: 'hi' },
              { type: 'input_image', image_url: 'https://x/y.png' },
            ],
          },
          { type: 'function_call', call_id: 'c1', name: 'get', arguments: '{}' },
          { type: 'function_call_output', call_id: 'c1', output: '42' },
        ],
        max_output_tokens: 5,
        tools: [{ type: 'function', name: 'get', parameters: { type: 'object' }, strict: true }],
        tool_choice: { type: 'function', name: 'get' },
        text: { format: { type: 'json_schema', name: 'n', schema: { type: 'object' }, strict: true } },
      }),
    ).toEqual({
      model: 'm',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'hi' },
            { type: 'image_url', image_url: { url: 'https://x/y.png' } },
          ],
        },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c1', type: 'function', function: { name: 'get', arguments: '{}' } }],
        },
        { role: 'tool', tool_call_id: 'c1', content: '42' },
      ],
      max_completion_tokens: 5,
      tools: [{ type: 'function', function: { name: 'get', parameters: { type: 'object' }, strict: true } }],
      tool_choice: { type: 'function', function: { name: 'get' } },
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'n', schema: { type: 'object' }, strict: true },
      },
    });
  });

  it.each([
    [{ previous_response_id: 'resp_1' }, /previous_response_id is not supported/],
    [{ reasoning: { effort: 'low' } }, /reasoning is not supported/],
    [{ tools: [{ type: 'web_search' }] }, /function tools only/],
    [{ input: [{ type: 'reasoning' }] }, /"reasoning" is not supported/],
    [{ input: 42 }, /input must be an array/],
  ])('refuses %j', async (change, message) => {
    const e = await model.call('/v1/responses', { body: { ...ask, ...change } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(e).toBeInstanceOf(SealgateError);
    expect((e as SealgateError).code).toBe('invalid_argument');
    expect((e as Error).message).toMatch(message);
  });
});
