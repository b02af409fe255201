/**
 * Anthropic Messages through the built-in model: the request translated to chat completions, the
 * answer and its stream translated back (Messages API, "Messages" and "Streaming Messages"), and
 * what the translation refuses.
 */
import { describe, expect, it } from 'vitest';
import { messagesToChat } from '../../src/api/anthropic/request.js';
import { chatToMessage } from '../../src/api/anthropic/response.js';
import { chatStreamToMessages } from '../../src/api/anthropic/stream.js';
import { SealgateError } from '../../src/errors.js';
import { BUILTIN_MODEL_ID, createBuiltinModel } from '../../src/model/builtin.js';
import type { ModelAnswer } from '../../src/model/types.js';

const model = createBuiltinModel({ now: () => 1_767_225_600 });
const ask = { model: BUILTIN_MODEL_ID, max_tokens: 64, messages: [{ role: 'user', content: 'Hello there' }] };

async function events(answer: ModelAnswer): Promise<Record<string, unknown>[]> {
  if (answer.kind !== 'stream') throw new Error('expected a stream');
  const out: Record<string, unknown>[] = [];
  for await (const e of answer.events) out.push(JSON.parse(e));
  return out;
}

async function* from(list: string[]) {
  yield* list;
}

describe('Anthropic Messages', () => {
  it('answers a Message with the built-in model', async () => {
    const answer = await model.call('/v1/messages', { body: ask });
    expect(answer.kind).toBe('json');
    const body = (answer as Extract<ModelAnswer, { kind: 'json' }>).body;
    expect(body).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: BUILTIN_MODEL_ID,
      content: [{ type: 'text', text: 'You said: "Hello there" Backwards: "there Hello"' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 2, output_tokens: 7 },
    });
    expect(body.id).toMatch(/^msg_/);
  });

  it('streams Anthropic’s event sequence whose text deltas add up to the answer', async () => {
    const list = await events(await model.call('/v1/messages', { body: { ...ask, stream: true } }));
    const types = list.map((e) => e.type);
    expect(types[0]).toBe('message_start');
    expect(types[1]).toBe('content_block_start');
    expect(types.slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
    const text = list
      .filter((e) => e.type === 'content_block_delta')
      .map((e) => (e.delta as { text: string }).text)
      .join('');
    expect(text).toBe('You said: "Hello there" Backwards: "there Hello"');
    expect(list.at(-2)).toMatchObject({ delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 7 } });
  });

  it('says max_tokens when the answer was cut', async () => {
    const answer = await model.call('/v1/messages', { body: { ...ask, max_tokens: 2 } });
    expect((answer as Extract<ModelAnswer, { kind: 'json' }>).body.stop_reason).toBe('max_tokens');
  });

  it('translates system, images, tools, tool_use and tool_result', () => {
    const chat = messagesToChat({
      model: 'm',
      max_tokens: 10,
      system: [{ type: 'text', text: 'Be brief.' }],
      stop_sequences: ['END'],
      metadata: { user_id: 'u1' },
      tools: [{ name: 'get', description: 'd', input_schema: { type: 'object' } }],
      tool_choice: { type: 'any', disable_parallel_tool_use: true },
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'look' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } },
          ],
        },
        { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'get', input: { a: 1 } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: '42' }] },
      ],
    });
    expect(chat).toEqual({
      model: 'm',
      max_tokens: 10,
      stop: ['END'],
      user: 'u1',
      tools: [
        { type: 'function', function: { name: 'get', description: 'd', parameters: { type: 'object' } } },
      ],
      tool_choice: 'required',
      parallel_tool_calls: false,
      messages: [
        { role: 'system', content: 'Be brief.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'look' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
          ],
        },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 't1', type: 'function', function: { name: 'get', arguments: '{"a":1}' } }],
        },
        { role: 'tool', tool_call_id: 't1', content: '42' },
      ],
    });
  });

  it('translates tool calls back to tool_use blocks, streamed and not', async () => {
    const message = chatToMessage(
      {
        id: 'chatcmpl-1',
        choices: [
          {
            finish_reason: 'tool_calls',
            message: {
              content: null,
              tool_calls: [{ id: 'c1', function: { name: 'get', arguments: '{"a":1}' } }],
            },
          },
        ],
        usage: { prompt_tokens: 3, completion_tokens: 4 },
      },
      'm',
    );
    expect(message.content).toEqual([{ type: 'tool_use', id: 'c1', name: 'get', input: { a: 1 } }]);
    expect(message.stop_reason).toBe('tool_use');

    const chunk = (delta: unknown, finish: string | null = null) =>
      JSON.stringify({ id: 'chatcmpl-1', choices: [{ index: 0, delta, finish_reason: finish }] });
    const out: Record<string, unknown>[] = [];
    const stream = chatStreamToMessages(
      from([
        chunk({
          role: 'assistant',
          tool_calls: [{ index: 0, id: 'c1', function: { name: 'get', arguments: '' } }],
        }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: '{"a":' } }] }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: '1}' } }] }),
        chunk({}, 'tool_calls'),
        '[DONE]',
      ]),
      'm',
    );
    for await (const e of stream) out.push(JSON.parse(e));
    expect(out.map((e) => e.type)).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(out[1]).toMatchObject({ content_block: { type: 'tool_use', id: 'c1', name: 'get' } });
    expect(out[5]).toMatchObject({ delta: { stop_reason: 'tool_use' } });
  });

  it('says stop_sequence and the sequence when the built-in model stopped on one, streamed and not', async () => {
    const body = {
      ...ask,
      messages: [{ role: 'user', content: 'Hello there' }],
      stop_sequences: ['nope', 'Backwards'],
    };
    const answer = (await model.call('/v1/messages', { body })) as Extract<ModelAnswer, { kind: 'json' }>;
    expect(answer.body).toMatchObject({
      content: [{ type: 'text', text: 'You said: "Hello there"' }],
      stop_reason: 'stop_sequence',
      stop_sequence: 'Backwards',
    });
    const list = await events(await model.call('/v1/messages', { body: { ...body, stream: true } }));
    expect(list.at(-2)).toMatchObject({
      delta: { stop_reason: 'stop_sequence', stop_sequence: 'Backwards' },
    });
    // A sequence that never occurs, or one past max_tokens: not what ended the answer.
    for (const [extra, reason] of [
      [{ stop_sequences: ['absent'] }, 'end_turn'],
      [{ stop_sequences: ['Backwards'], max_tokens: 2 }, 'max_tokens'],
    ] as const) {
      const json = (await model.call('/v1/messages', { body: { ...ask, ...extra } })) as Extract<
        ModelAnswer,
        { kind: 'json' }
      >;
      expect(json.body, reason).toMatchObject({ stop_reason: reason, stop_sequence: null });
      const streamed = await events(
        await model.call('/v1/messages', { body: { ...ask, ...extra, stream: true } }),
      );
      expect(streamed.at(-2), reason).toMatchObject({ delta: { stop_reason: reason, stop_sequence: null } });
    }
  });

  it.each([
    ['a bare "stop": a natural end or a sequence, unknowable', { finish_reason: 'stop' }, ['END'], null],
    ['vLLM names a requested sequence', { finish_reason: 'stop', stop_reason: 'END' }, ['END'], 'END'],
    ['SGLang names a requested sequence', { finish_reason: 'stop', matched_stop: 'END' }, ['END'], 'END'],
    [
      'a named sequence the request did not ask for',
      { finish_reason: 'stop', stop_reason: 'X' },
      ['END'],
      null,
    ],
    ['a stop token id, not a sequence', { finish_reason: 'stop', stop_reason: 128009 }, ['END'], null],
    ['a sequence named with another finish', { finish_reason: 'length', stop_reason: 'END' }, ['END'], null],
  ])('an OpenAI-compatible server’s end: %s', async (_, end, stops, sequence) => {
    const reason = sequence ? 'stop_sequence' : end.finish_reason === 'length' ? 'max_tokens' : 'end_turn';
    const message = chatToMessage(
      { id: 'chatcmpl-1', choices: [{ ...end, message: { content: 'hi' } }], usage: {} },
      'm',
      stops,
    );
    expect(message).toMatchObject({ stop_reason: reason, stop_sequence: sequence });
    const chunk = (delta: unknown, extra: object = {}) =>
      JSON.stringify({ id: 'chatcmpl-1', choices: [{ index: 0, delta, finish_reason: null, ...extra }] });
    const out: Record<string, unknown>[] = [];
    const stream = chatStreamToMessages(
      from([chunk({ content: 'hi' }), chunk({}, end), '[DONE]']),
      'm',
      stops,
    );
    for await (const e of stream) out.push(JSON.parse(e));
    expect(out.at(-2)).toMatchObject({ delta: { stop_reason: reason, stop_sequence: sequence } });
  });

  it('fails, never ends well-formed, when the chat stream breaks off', async () => {
    const stream = chatStreamToMessages(from([JSON.stringify({ id: 'x', choices: [] })]), 'm');
    await expect(async () => {
      for await (const _ of stream);
    }).rejects.toThrow(/without \[DONE\]/);
  });

  it.each([
    [{ top_k: 5 }, /top_k is not supported/],
    [{ thinking: { type: 'enabled', budget_tokens: 1024 } }, /thinking is not supported/],
    [{ max_tokens: 0 }, /max_tokens must be a positive integer/],
    [{ messages: [{ role: 'system', content: 'x' }] }, /role must be "user" or "assistant"/],
    [
      { messages: [{ role: 'user', content: [{ type: 'document', source: {} }] }] },
      /"document" is not supported/,
    ],
    [{ messages: [] }, /messages must not be empty/],
  ])('refuses %j', async (change, message) => {
    const e = await model.call('/v1/messages', { body: { ...ask, ...change } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(e).toBeInstanceOf(SealgateError);
    expect((e as SealgateError).code).toBe('invalid_argument');
    expect((e as Error).message).toMatch(message);
  });
});
