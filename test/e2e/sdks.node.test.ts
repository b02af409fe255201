/**
 * The clients an organization already uses, unchanged — given only the gateway's base URL and a
 * key — against the REAL local stack (`startStack`: gateway Worker under `wrangler dev`, attestation
 * service and AI worker on SIMULATED hardware), whose worker calls a recording model server
 * (recording-model.ts) that answers as the built-in model. Also the byte-exact passthrough: for a
 * set of real requests, the body the model server received equals the client's, field by field,
 * and the answer the client got equals the model server's, unknown fields included.
 *
 *   openai 6.49.0                  responses (plain, streamed), audio transcriptions, a chat stream
 *                                  aborted mid-way and one read slowly
 *   @anthropic-ai/sdk              messages.create, messages.stream, models.list, models.retrieve
 *   ai + @ai-sdk/openai-compatible generateText, streamText
 *   @langchain/openai ChatOpenAI   invoke, stream
 */
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import Anthropic from '@anthropic-ai/sdk';
import { ChatOpenAI } from '@langchain/openai';
import { generateText, streamText } from 'ai';
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RecordingModel, startRecordingModel } from './recording-model.js';
import { E2E_START_MS, E2E_STOP_MS, type E2eStack, startE2eStack, stopE2eStack } from './support.js';

const MODEL = 'sealgate-builtin';
const PROMPT = 'Is this thing on?';
const REPLY = 'You said: "Is this thing on?" Backwards: "on? thing this Is"';

/**
 * Every sealed stream ends with the client's copy of its receipt as an SSE comment line just before
 * the final event (src/receipts/kept-receipt.ts). Each SDK below reads its streams through `tap`,
 * which keeps a copy of every event stream, so each streamed test shows that SDK consumed a stream
 * that carried the comment — and did not choke on it.
 */
const streamsSeen: Promise<string>[] = [];
const tap: typeof fetch = async (input, init) => {
  const res = await fetch(input, init);
  if (!res.body || !res.headers.get('content-type')?.includes('text/event-stream')) return res;
  const [forSdk, copy] = res.body.tee();
  streamsSeen.push(new Response(copy).text());
  return new Response(forSdk, { status: res.status, statusText: res.statusText, headers: res.headers });
};
/** The last stream an SDK read carried the receipt comment, right before its final event. */
async function expectReceiptComment(finalEvent: RegExp): Promise<void> {
  const text = await streamsSeen.at(-1)!;
  const at = text.lastIndexOf('\n: sealgate-receipt {');
  expect(at).toBeGreaterThan(0);
  expect(text.slice(at + 1).split('\n')[1]).toMatch(finalEvent);
}

let recorder: RecordingModel;
let stack: E2eStack;

beforeAll(async () => {
  recorder = await startRecordingModel();
  stack = await startE2eStack({ modelUrl: recorder.url });
}, E2E_START_MS);

afterAll(() => stopE2eStack(stack, { beside: [recorder] }), E2E_STOP_MS);

describe('openai SDK: responses and transcriptions', () => {
  const client = () =>
    new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: stack.apiKey, maxRetries: 0, fetch: tap });

  it('responses.create, plain and streamed', async () => {
    const response = await client().responses.create({ model: MODEL, input: PROMPT });
    expect(response.output_text).toBe(REPLY);
    expect(response.status).toBe('completed');
    const stream = await client().responses.create({ model: MODEL, input: PROMPT, stream: true });
    let text = '';
    const types: string[] = [];
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'response.output_text.delta') text += event.delta;
    }
    expect(text).toBe(REPLY);
    expect(types[0]).toBe('response.created');
    expect(types.at(-1)).toBe('response.completed');
    await expectReceiptComment(/^event: response\.completed$/);
  });

  it('audio.transcriptions.create: the multipart body reaches the model server byte for byte', async () => {
    recorder.requests.length = 0;
    const audio = Buffer.alloc(48_000, 7);
    const transcript = await client().audio.transcriptions.create({
      file: await toFile(audio, 'hello.wav', { type: 'audio/wav' }),
      model: MODEL,
    });
    expect(transcript.text).toBe('Sealgate heard 48000 bytes of audio, about 1.5 seconds.');
    const got = recorder.requests.find((r) => r.path === '/v1/audio/transcriptions');
    expect(got?.contentType).toMatch(/^multipart\/form-data; boundary=/);
    expect(got?.raw.includes(audio)).toBe(true);
  });
});

describe('openai SDK: a chat stream aborted mid-way, and one read slowly', () => {
  const client = () =>
    new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: stack.apiKey, maxRetries: 0, fetch: tap });
  const messages = [{ role: 'user' as const, content: PROMPT }];

  it('aborted after its first chunk: the SDK stops there, and the stack serves the next stream whole', async () => {
    // Without `tap`: its copy of the body would fail with the abort too.
    const plain = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: stack.apiKey, maxRetries: 0 });
    // The model holds the rest of its answer until the SDK aborted: the abort is mid-stream.
    const release = recorder.holdAfterFirstEvent();
    const controller = new AbortController();
    let chunks = 0;
    try {
      const stream = await plain.chat.completions.create(
        { model: MODEL, messages, stream: true },
        { signal: controller.signal },
      );
      // openai 6's Stream ends its iteration quietly on the caller's own abort (no error to catch).
      for await (const _ of stream) {
        chunks++;
        if (chunks === 1) controller.abort();
      }
    } finally {
      release();
    }
    expect(chunks).toBe(1);
    expect(controller.signal.aborted).toBe(true);
    let text = '';
    for await (const chunk of await client().chat.completions.create({
      model: MODEL,
      messages,
      stream: true,
    })) {
      text += chunk.choices[0]?.delta.content ?? '';
    }
    expect(text).toBe(REPLY);
    await expectReceiptComment(/^data: \[DONE\]$/);
  });

  it('read slowly (a pause after every chunk): every chunk in order, then the receipt and [DONE]', async () => {
    let text = '';
    let chunks = 0;
    for await (const chunk of await client().chat.completions.create({
      model: MODEL,
      messages,
      stream: true,
    })) {
      chunks++;
      text += chunk.choices[0]?.delta.content ?? '';
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(chunks).toBeGreaterThan(2);
    expect(text).toBe(REPLY);
    await expectReceiptComment(/^data: \[DONE\]$/);
  });
});

describe('@anthropic-ai/sdk: messages', () => {
  const client = () => new Anthropic({ baseURL: stack.url, apiKey: stack.apiKey, maxRetries: 0, fetch: tap });

  it('messages.create', async () => {
    const message = await client().messages.create({
      model: MODEL,
      max_tokens: 64,
      messages: [{ role: 'user', content: PROMPT }],
    });
    expect(message.content).toEqual([{ type: 'text', text: REPLY }]);
    expect(message.stop_reason).toBe('end_turn');
  });

  it('messages.stream', async () => {
    const stream = client().messages.stream({
      model: MODEL,
      max_tokens: 64,
      messages: [{ role: 'user', content: PROMPT }],
    });
    let text = '';
    stream.on('text', (delta) => {
      text += delta;
    });
    const final = await stream.finalMessage();
    expect(text).toBe(REPLY);
    expect(final.content).toEqual([{ type: 'text', text: REPLY }]);
    expect(final.usage.output_tokens).toBe(11);
    await expectReceiptComment(/^event: message_stop$/);
  });

  it('an unknown model is the SDK’s NotFoundError, in Anthropic’s shape', async () => {
    // The model server answers 404 for a model it does not serve, as OpenAI's does; the gateway
    // passes it on as 404 model_not_found (every route: test/e2e/limits.node.test.ts).
    const error = await client()
      .messages.create({ model: 'nope', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(Anthropic.NotFoundError);
    expect((error as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({
      type: 'error',
      error: { type: 'not_found_error', code: 'model_not_found' },
    });
  });

  it('models.list and models.retrieve: Anthropic’s shapes, the key in x-api-key', async () => {
    const ids: string[] = [];
    for await (const model of client().models.list()) ids.push(model.id);
    expect(ids).toContain(MODEL);
    const model = await client().models.retrieve(MODEL);
    expect(model).toMatchObject({ type: 'model', id: MODEL, display_name: MODEL, lifecycle: 'active' });
    const missing = await client()
      .models.retrieve('nope')
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(missing).toBeInstanceOf(Anthropic.NotFoundError);
  });
});

describe('Vercel AI SDK (ai + @ai-sdk/openai-compatible)', () => {
  const provider = () =>
    createOpenAICompatible({
      name: 'sealgate',
      baseURL: `${stack.url}/v1`,
      apiKey: stack.apiKey,
      fetch: tap,
    });

  it('generateText', async () => {
    const { text } = await generateText({ model: provider()(MODEL), prompt: PROMPT, maxRetries: 0 });
    expect(text).toBe(REPLY);
  });

  it('streamText', async () => {
    const result = streamText({ model: provider()(MODEL), prompt: PROMPT, maxRetries: 0 });
    let text = '';
    for await (const delta of result.textStream) text += delta;
    expect(text).toBe(REPLY);
    await expectReceiptComment(/^data: \[DONE\]$/);
  });
});

describe('LangChain JS (@langchain/openai ChatOpenAI)', () => {
  const chat = () =>
    new ChatOpenAI({
      model: MODEL,
      apiKey: stack.apiKey,
      maxRetries: 0,
      configuration: { baseURL: `${stack.url}/v1`, fetch: tap },
    });

  it('invoke', async () => {
    const message = await chat().invoke(PROMPT);
    expect(message.content).toBe(REPLY);
  });

  it('stream', async () => {
    let text = '';
    for await (const chunk of await chat().stream(PROMPT)) text += String(chunk.content);
    expect(text).toBe(REPLY);
    await expectReceiptComment(/^data: \[DONE\]$/);
  });
});

describe('byte-exact passthrough', () => {
  const tools = [
    {
      type: 'function',
      function: {
        name: 'get_weather',
        description: 'Weather for a city',
        parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
        strict: true,
      },
    },
  ];
  const REQUESTS: [string, Record<string, unknown>][] = [
    ['/v1/chat/completions', { model: MODEL, messages: [{ role: 'user', content: PROMPT }] }],
    [
      '/v1/chat/completions',
      {
        model: MODEL,
        messages: [
          { role: 'system', content: 'Answer in JSON.' },
          { role: 'user', content: [{ type: 'text', text: PROMPT }] },
        ],
        tools,
        tool_choice: { type: 'function', function: { name: 'get_weather' } },
        parallel_tool_calls: false,
        response_format: {
          type: 'json_schema',
          json_schema: {
            name: 'answer',
            strict: true,
            schema: { type: 'object', properties: { a: { type: 'number' } } },
          },
        },
        logprobs: true,
        top_logprobs: 2,
        n: 2,
        seed: 42,
        user: 'user-1234',
        metadata: { team: 'search', ticket: 'T-1' },
        temperature: 0.25,
        max_completion_tokens: 40,
        stop: ['\n\n'],
        a_future_field: { nested: [1, 2.5, 'x', null, true], üñí: 'ç' },
      },
    ],
    [
      '/v1/chat/completions',
      {
        model: MODEL,
        messages: [{ role: 'user', content: PROMPT }],
        stream: true,
        stream_options: { include_usage: true },
        service_tier: 'default',
      },
    ],
    [
      '/v1/completions',
      { model: MODEL, prompt: ['one two', 'three'], max_tokens: 3, echo: true, suffix: null },
    ],
    [
      '/v1/embeddings',
      { model: MODEL, input: ['a', 'b'], dimensions: 8, encoding_format: 'float', user: 'u' },
    ],
  ];

  it.each(REQUESTS)('%s: the model server received the client’s body, field by field', async (path, body) => {
    recorder.requests.length = 0;
    const res = await fetch(`${stack.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(recorder.requests).toHaveLength(1);
    const got = recorder.requests[0]!;
    expect(got.path).toBe(path);
    expect(got.contentType).toBe('application/json');
    expect(JSON.parse(got.raw.toString('utf8'))).toStrictEqual(body);
    // …and the client got the model server's answer as it was sent, unknown fields included.
    if (body.stream !== true) expect(JSON.parse(text)).toStrictEqual(got.answered);
  });
});

describe('numbers beyond ±(2^53 − 1)', () => {
  it('reach the model server byte for byte through the gateway (workerd) and the AI worker (Node)', async () => {
    // Round 7 found such an integer sealed rounded; it was refused after that, legal int64 bounds
    // in tool schemas included. Carried as written now (src/json/exact-numbers.ts), both hops.
    const schema =
      '{"type":"object","properties":{"id":{"type":"integer","minimum":-9223372036854775808,"maximum":9223372036854775807}}}';
    const text = `{"model":"${MODEL}","messages":[{"role":"user","content":"${PROMPT}"}],"seed":12345678901234567890,"tools":[{"type":"function","function":{"name":"f","parameters":${schema}}}],"logit_bias":{"50256":1e20}}`;
    recorder.requests.length = 0;
    const res = await fetch(`${stack.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' },
      body: text,
    });
    expect(res.status).toBe(200);
    await res.text();
    expect(recorder.requests.map((r) => r.raw.toString('utf8'))).toEqual([text]);
  });
});
