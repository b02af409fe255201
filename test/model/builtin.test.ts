/**
 * The built-in model: deterministic answers, OpenAI's exact response shapes (API reference: the
 * chat completion object, the chat completion chunk object, the completion object, the embedding
 * object), streams whose chunks add up to the non-streamed answer, and honest word counts.
 */
import { describe, expect, it } from 'vitest';
import { fromBase64 } from '../../src/bytes.js';
import { SealgateError } from '../../src/errors.js';
import { BUILTIN_MODEL_ID, createBuiltinModel } from '../../src/model/builtin.js';
import type { ModelAnswer, ModelRoute } from '../../src/model/types.js';
import type { Json } from './json.js';

const T = 1_767_225_600;
const model = createBuiltinModel({ now: () => T });
const CHAT = '/v1/chat/completions';
const messages = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Hello there, model!' },
];

async function json(route: ModelRoute, body: Record<string, unknown>) {
  const answer = await model.call(route, { body: { model: BUILTIN_MODEL_ID, ...body } });
  expect(answer.kind).toBe('json');
  return (answer as Extract<ModelAnswer, { kind: 'json' }>).body as Record<string, Json>;
}
async function stream(route: ModelRoute, body: Record<string, unknown>): Promise<string[]> {
  const answer = await model.call(route, { body: { model: BUILTIN_MODEL_ID, stream: true, ...body } });
  expect(answer.kind).toBe('stream');
  const out: string[] = [];
  for await (const e of (answer as Extract<ModelAnswer, { kind: 'stream' }>).events) out.push(e);
  return out;
}
async function refusal(route: ModelRoute, body: Record<string, unknown>): Promise<string> {
  try {
    await model.call(route, { body: { model: BUILTIN_MODEL_ID, ...body } });
  } catch (e) {
    expect(e).toBeInstanceOf(SealgateError);
    expect((e as SealgateError).code).toBe('invalid_argument');
    return (e as SealgateError).message;
  }
  throw new Error('expected a refusal');
}

describe('built-in model: chat', () => {
  it('answers in the chat.completion shape, quoting the last user message, with word usage', async () => {
    const body = await json(CHAT, { messages });
    expect(body).toEqual({
      id: expect.stringMatching(/^chatcmpl-[0-9a-f]{24}$/),
      object: 'chat.completion',
      created: T,
      model: BUILTIN_MODEL_ID,
      system_fingerprint: 'sealgate-builtin-v1',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: 'You said: "Hello there, model!" Backwards: "model! there, Hello"',
            refusal: null,
          },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      // prompt: "Be brief." (2 words) + "Hello there, model!" (3); answer: 9 words.
      usage: { prompt_tokens: 5, completion_tokens: 9, total_tokens: 14 },
    });
  });
  it('is deterministic: the same request gives the same answer and id', async () => {
    expect(await json(CHAT, { messages })).toEqual(await json(CHAT, { messages }));
    const other = await json(CHAT, { messages: [{ role: 'user', content: 'Something else' }] });
    expect(other.id).not.toBe((await json(CHAT, { messages })).id);
  });
  it('reads text content parts and ignores other parts', async () => {
    const body = await json(CHAT, {
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'look at' },
            { type: 'image_url', image_url: { url: 'https://example.invalid/x.png' } },
            { type: 'text', text: 'this' },
          ],
        },
      ],
    });
    expect(body.choices[0].message.content).toBe('You said: "look at this" Backwards: "this at look"');
    expect(body.usage.prompt_tokens).toBe(3);
  });
  it('streams one word per chunk; the chunks add up to the non-streamed content', async () => {
    const whole = await json(CHAT, { messages });
    const events = await stream(CHAT, { messages });
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
    for (const c of chunks) {
      expect(c).toMatchObject({
        id: chunks[0].id,
        object: 'chat.completion.chunk',
        created: T,
        model: BUILTIN_MODEL_ID,
      });
      expect(c).not.toHaveProperty('usage');
    }
    expect(chunks[0].id).toMatch(/^chatcmpl-[0-9a-f]{24}$/);
    expect(chunks[0].choices).toEqual([
      { index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null },
    ]);
    const last = chunks.at(-1);
    expect(last.choices).toEqual([{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }]);
    const words = chunks.slice(1, -1).map((c) => c.choices[0].delta.content as string);
    expect(words).toHaveLength(whole.usage.completion_tokens);
    expect(words.join('')).toBe(whole.choices[0].message.content);
  });
  it('with stream_options.include_usage: usage null on every chunk, then a usage chunk with no choices', async () => {
    const events = await stream(CHAT, { messages, stream_options: { include_usage: true } });
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
    for (const c of chunks.slice(0, -1)) expect(c.usage).toBeNull();
    expect(chunks.at(-1)).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 5, completion_tokens: 9, total_tokens: 14 },
    });
    expect(chunks.at(-2).choices[0].finish_reason).toBe('stop');
  });
  it('stops at max_tokens / max_completion_tokens with finish_reason "length"', async () => {
    const cut = await json(CHAT, { messages, max_tokens: 3 });
    expect(cut.choices[0]).toMatchObject({
      message: { content: 'You said: "Hello' },
      finish_reason: 'length',
    });
    expect(cut.usage.completion_tokens).toBe(3);
    const cut2 = await json(CHAT, { messages, max_completion_tokens: 2, max_tokens: 5 });
    expect(cut2.choices[0].message.content).toBe('You said:');
  });
  it('ends before the first stop sequence (OpenAI "stop"), the stream as the JSON answer', async () => {
    // The whole answer: You said: "Hello there, model!" Backwards: "model! there, Hello"
    const one = await json(CHAT, { messages, stop: 'there' });
    expect(one.choices[0]).toMatchObject({ message: { content: 'You said: "Hello' }, finish_reason: 'stop' });
    expect(one.usage.completion_tokens).toBe(3);
    // The earliest match wins, whatever the order; a cut inside a word keeps its start.
    const two = await json(CHAT, { messages, stop: ['Backwards', 'odel'] });
    expect(two.choices[0].message.content).toBe('You said: "Hello there, m');
    const events = await stream(CHAT, { messages, stop: ['Backwards', 'odel'] });
    const chunks = events.slice(1, -2).map((e) => JSON.parse(e).choices[0].delta.content as string);
    expect(chunks).toEqual(['You', ' said:', ' "Hello', ' there,', ' m']);
    expect(JSON.parse(events.at(-2)!).choices[0].finish_reason).toBe('stop');
    // The sequence it stopped on, named as vLLM names it (`stop_reason`), JSON and streamed.
    expect(two.choices[0].stop_reason).toBe('odel');
    expect(JSON.parse(events.at(-2)!).choices[0].stop_reason).toBe('odel');
    // No match: the whole answer; a stop after max_tokens words: the limit comes first. Neither
    // names a sequence.
    const whole = (await json(CHAT, { messages, stop: ['absent'] })).choices[0];
    expect(whole.message.content).toMatch(/Hello"$/);
    expect(whole).not.toHaveProperty('stop_reason');
    const limited = await json(CHAT, { messages, stop: 'Backwards', max_tokens: 2 });
    expect(limited.choices[0]).toMatchObject({ message: { content: 'You said:' }, finish_reason: 'length' });
    expect(limited.choices[0]).not.toHaveProperty('stop_reason');
  });
  it('refuses a stop that is not a non-empty string or 1 to 4 of them', async () => {
    for (const stop of ['', [], ['a', 'b', 'c', 'd', 'e'], [''], [1], 5, { a: 'b' }]) {
      expect(await refusal(CHAT, { messages, stop }), JSON.stringify(stop)).toBe(
        'stop must be a non-empty string or an array of 1 to 4 non-empty strings',
      );
    }
    expect((await json(CHAT, { messages, stop: null })).choices[0].finish_reason).toBe('stop');
  });
  it('answers n identical choices and counts each', async () => {
    const body = await json(CHAT, { messages, n: 2 });
    expect(body.choices.map((c: { index: number }) => c.index)).toEqual([0, 1]);
    expect(body.choices[1].message).toEqual(body.choices[0].message);
    expect(body.usage.completion_tokens).toBe(18);
  });
  it('refuses malformed requests with field paths, never with content', async () => {
    expect(await refusal(CHAT, {})).toBe('messages must be a non-empty array');
    expect(await refusal(CHAT, { messages: [{ role: 'robot', content: 'secret words' }] })).toBe(
      'messages[0].role must be one of system, developer, user, assistant, tool, function',
    );
    expect(await refusal(CHAT, { messages: [{ role: 'user', content: 42 }] })).toBe(
      'messages[0].content must be a string, an array of parts, or null',
    );
    expect(await refusal(CHAT, { messages, max_tokens: 0 })).toBe('max_tokens must be a positive integer');
    expect(await refusal(CHAT, { messages, logprobs: true })).toBe(
      'logprobs are not supported by the built-in model',
    );
    expect(await refusal(CHAT, { messages, stream_options: { include_usage: true } })).toBe(
      'stream_options is only allowed when stream is true',
    );
    expect(await refusal(CHAT, { messages, model: 'gpt-unknown' })).toBe(
      'model is not served by the built-in model',
    );
  });
  it('refuses what plain text cannot meet: a JSON response format, a forced tool call', async () => {
    const formats = [
      { type: 'json_object' },
      { type: 'json_schema', json_schema: { name: 'a' } },
      'json',
      {},
    ];
    for (const response_format of formats) {
      expect(await refusal(CHAT, { messages, response_format }), JSON.stringify(response_format)).toBe(
        'response_format other than {"type":"text"} is not supported by the built-in model',
      );
    }
    const tools = [{ type: 'function', function: { name: 'get', parameters: { type: 'object' } } }];
    for (const tool_choice of ['required', { type: 'function', function: { name: 'get' } }, 'any']) {
      expect(await refusal(CHAT, { messages, tools, tool_choice }), JSON.stringify(tool_choice)).toBe(
        'a tool_choice or function_call that forces a call is not supported by the built-in model (it never calls tools)',
      );
    }
    // The deprecated functions API: a function_call naming a function forces a call too.
    const functions = [{ name: 'get', parameters: { type: 'object' } }];
    expect(await refusal(CHAT, { messages, functions, function_call: { name: 'get' } })).toBe(
      'a tool_choice or function_call that forces a call is not supported by the built-in model (it never calls tools)',
    );
    // Audio output would not come: refused, as a JSON format is.
    for (const modalities of [['text', 'audio'], ['audio'], [], 'text']) {
      expect(await refusal(CHAT, { messages, modalities }), JSON.stringify(modalities)).toBe(
        'the built-in model answers modalities ["text"] only',
      );
    }
    expect(await refusal(CHAT, { messages, audio: { voice: 'alloy', format: 'wav' } })).toBe(
      'audio output is not supported by the built-in model',
    );
    // What text can meet is answered: a text format, tools it may decline to call.
    for (const extra of [
      { response_format: { type: 'text' } },
      { response_format: null, tools },
      { tools, tool_choice: 'auto' },
      { tools, tool_choice: 'none' },
      { functions, function_call: 'auto' },
      { functions, function_call: 'none' },
      { modalities: ['text'], audio: null },
    ]) {
      const body = await json(CHAT, { messages, ...extra });
      expect(body.choices[0].message.content, JSON.stringify(extra)).toMatch(/^You said:/);
    }
  });
});

describe('built-in model: completions', () => {
  const ROUTE = '/v1/completions';
  it('continues a prompt with its words reversed, in the text_completion shape', async () => {
    const body = await json(ROUTE, { prompt: 'one two three' });
    expect(body).toEqual({
      id: expect.stringMatching(/^cmpl-[0-9a-f]{24}$/),
      object: 'text_completion',
      created: T,
      model: BUILTIN_MODEL_ID,
      system_fingerprint: 'sealgate-builtin-v1',
      choices: [{ text: ' three two one', index: 0, logprobs: null, finish_reason: 'stop' }],
      usage: { prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 },
    });
  });
  it('defaults to 16 tokens as OpenAI does, orders choices prompt by prompt, and echoes', async () => {
    const long = Array.from({ length: 20 }, (_, i) => `w${i}`).join(' ');
    const body = await json(ROUTE, { prompt: [long, 'a b'], n: 2, echo: true });
    expect(body.choices.map((c: Json) => [c.index, c.finish_reason])).toEqual([
      [0, 'length'],
      [1, 'length'],
      [2, 'stop'],
      [3, 'stop'],
    ]);
    expect(body.choices[2].text).toBe('a b b a');
    expect(body.usage).toEqual({ prompt_tokens: 22, completion_tokens: 2 * 16 + 2 * 2, total_tokens: 58 });
  });
  it('streams the same text', async () => {
    const whole = await json(ROUTE, { prompt: 'one two three' });
    const events = await stream(ROUTE, { prompt: 'one two three', stream_options: { include_usage: true } });
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
    expect(chunks.every((c) => c.object === 'text_completion' && c.id === chunks[0].id)).toBe(true);
    const text = chunks.flatMap((c) => c.choices.map((ch: Json) => ch.text)).join('');
    expect(text).toBe(whole.choices[0].text);
    expect(chunks.at(-2).choices[0].finish_reason).toBe('stop');
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: whole.usage });
  });
  it('ends the completion, not the echoed prompt, before the first stop sequence', async () => {
    const body = await json(ROUTE, { prompt: 'one two three', stop: ['wo'], echo: true });
    expect(body.choices[0]).toMatchObject({ text: 'one two three three t', finish_reason: 'stop' });
    expect(body.usage.completion_tokens).toBe(2);
    // Each word follows a space: a stop that starts with one matches before the first word.
    expect((await json(ROUTE, { prompt: 'one two three', stop: ' three' })).choices[0].text).toBe('');
    const events = await stream(ROUTE, { prompt: 'one two three', stop: ['wo'] });
    const text = events.slice(0, -1).map((e) => JSON.parse(e).choices[0].text as string);
    expect(text).toEqual([' three', ' t', '']);
  });
  it('refuses token-array prompts', async () => {
    expect(await refusal(ROUTE, { prompt: [1, 2, 3] })).toMatch(/token arrays are not supported/);
  });
});

describe('built-in model: embeddings', () => {
  const ROUTE = '/v1/embeddings';
  const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  it('answers deterministic unit vectors of 256 dimensions in the embedding list shape', async () => {
    const body = await json(ROUTE, { input: ['alpha', 'beta gamma'] });
    expect(body).toMatchObject({
      object: 'list',
      model: BUILTIN_MODEL_ID,
      usage: { prompt_tokens: 3, total_tokens: 3 },
    });
    expect(body.data.map((d: Json) => [d.object, d.index, d.embedding.length])).toEqual([
      ['embedding', 0, 256],
      ['embedding', 1, 256],
    ]);
    for (const d of body.data) expect(norm(d.embedding)).toBeCloseTo(1, 5);
    expect(body.data[0].embedding).not.toEqual(body.data[1].embedding);
    expect((await json(ROUTE, { input: 'alpha' })).data[0].embedding).toEqual(body.data[0].embedding);
  });
  it('pins the expansion: the first values for "alpha" (SHA-256 based, see builtin-embeddings.ts)', async () => {
    const v = (await json(ROUTE, { input: 'alpha', dimensions: 4 })).data[0].embedding as number[];
    // Independent recomputation of the documented rule.
    const dst = new TextEncoder().encode('sealgate/builtin-embedding/v1');
    const msg = new Uint8Array([...dst, 0, 0, 0, 0, ...new TextEncoder().encode('alpha')]);
    const h = new DataView(await crypto.subtle.digest('SHA-256', msg));
    const raw = [0, 1, 2, 3].map((i) => h.getInt16(2 * i) / 32768);
    const n = norm(raw);
    expect(v).toEqual(raw.map((x) => Math.fround(x / n)));
  });
  it('`dimensions` shortens: the re-normalised prefix of the longer vector', async () => {
    const long = (await json(ROUTE, { input: 'alpha', dimensions: 1024 })).data[0].embedding as number[];
    const short = (await json(ROUTE, { input: 'alpha', dimensions: 8 })).data[0].embedding as number[];
    const prefix = long.slice(0, 8);
    const n = norm(prefix);
    short.forEach((x, i) => {
      expect(x).toBeCloseTo(prefix[i]! / n, 6);
    });
  });
  it('base64 carries the same float32 values, little-endian', async () => {
    const floats = (await json(ROUTE, { input: 'alpha' })).data[0].embedding as number[];
    const b64 = (await json(ROUTE, { input: 'alpha', encoding_format: 'base64' })).data[0]
      .embedding as string;
    const bytes = fromBase64(b64);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    expect(Array.from({ length: bytes.length / 4 }, (_, i) => view.getFloat32(4 * i, true))).toEqual(floats);
  });
  it('counts token-array inputs by their length', async () => {
    const body = await json(ROUTE, { input: [[1, 2, 3], [4]] });
    expect(body.usage.prompt_tokens).toBe(4);
  });
  it('refuses empty input, a stream, and bad dimensions', async () => {
    expect(await refusal(ROUTE, { input: '' })).toBe('input must not be empty');
    expect(await refusal(ROUTE, { input: 'x', stream: true })).toBe('stream is not supported on this route');
    expect(await refusal(ROUTE, { input: 'x', dimensions: 0 })).toBe(
      'dimensions must be an integer from 1 to 3072',
    );
    expect(await refusal(ROUTE, { input: 'x', encoding_format: 'hex' })).toBe(
      'encoding_format must be "float" or "base64"',
    );
  });
});

describe('built-in model: model list', () => {
  it('lists its model ids in OpenAI shape, aliases included', async () => {
    const m = createBuiltinModel({ now: () => T, models: ['sealgate-builtin', 'gpt-4o-mini'] });
    expect(await m.listModels()).toEqual({
      object: 'list',
      data: [
        { id: 'sealgate-builtin', object: 'model', created: T, owned_by: 'sealgate' },
        { id: 'gpt-4o-mini', object: 'model', created: T, owned_by: 'sealgate' },
      ],
    });
    expect(m.servesModel('gpt-4o-mini')).toBe(true);
    expect(m.servesModel('other')).toBe(false);
  });
});
