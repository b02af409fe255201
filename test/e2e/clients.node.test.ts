/**
 * The edge gateway end to end, as apps reach it: the REAL local stack (`startStack`, what
 * `npm start` runs — gateway Worker under `wrangler dev`, attestation service and AI worker on
 * SIMULATED hardware, the built-in deterministic model) called by the official `openai` SDK
 * (6.49.0) and by the real `curl` binary. Every answer went through attestation, sealing and opening;
 * nothing is mocked.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { utf8 } from '../../src/bytes.js';
import { embed } from '../../src/model/builtin-embeddings.js';
import { SseParser } from '../../src/model/sse.js';
import {
  curl,
  E2E_START_MS,
  E2E_STOP_MS,
  type E2eStack,
  parseCurlInclude,
  startE2eStack,
  stopE2eStack,
} from './support.js';

const MODEL = 'sealgate-builtin';
const PROMPT = 'Is this thing on?';
const REPLY = 'You said: "Is this thing on?" Backwards: "on? thing this Is"';
const KID = /^[A-Za-z0-9_-]{21}[AQgw]$/;

let stack: E2eStack;
let client: OpenAI;
/** The JSON bodies the SDK sent, in order (to see what it asked for). */
const sent: Record<string, unknown>[] = [];

beforeAll(async () => {
  stack = await startE2eStack();
  client = new OpenAI({
    baseURL: `${stack.url}/v1`,
    apiKey: stack.apiKey,
    maxRetries: 0,
    fetch: (url, init) => {
      if (typeof init?.body === 'string') sent.push(JSON.parse(init.body));
      return fetch(url, init);
    },
  });
}, E2E_START_MS);

// wrangler ran workerd in its process group, and nothing of that group is left.
afterAll(() => stopE2eStack(stack, { ranWorkerd: true }), E2E_STOP_MS);

const messages = [{ role: 'user' as const, content: PROMPT }];

function expectSealgateHeaders(headers: Headers) {
  expect(headers.get('x-sealgate-manifest')).toBe(stack.manifestDigest);
  expect(headers.get('x-sealgate-simulated')).toBe('1');
  expect(headers.get('x-sealgate-key-id')).toMatch(KID);
}

describe('the openai SDK against the gateway', () => {
  it('chat completion, non-streamed: the built-in model’s answer and the Sealgate headers', async () => {
    const { data, response } = await client.chat.completions
      .create({ model: MODEL, messages })
      .withResponse();
    expect(data.object).toBe('chat.completion');
    expect(data.model).toBe(MODEL);
    expect(data.choices).toHaveLength(1);
    expect(data.choices[0]?.message).toMatchObject({ role: 'assistant', content: REPLY });
    expect(data.choices[0]?.finish_reason).toBe('stop');
    expect(data.usage).toEqual({ prompt_tokens: 4, completion_tokens: 11, total_tokens: 15 });
    expect(response.status).toBe(200);
    expectSealgateHeaders(response.headers);
  });

  it('chat completion, streamed: the assembled text equals the non-streamed answer', async () => {
    const plain = await client.chat.completions.create({ model: MODEL, messages });
    const { data: stream, response } = await client.chat.completions
      .create({ model: MODEL, messages, stream: true, stream_options: { include_usage: true } })
      .withResponse();
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expectSealgateHeaders(response.headers);
    let text = '';
    let chunks = 0;
    let finish: string | null = null;
    let usage: unknown = null;
    for await (const chunk of stream) {
      chunks++;
      expect(chunk.object).toBe('chat.completion.chunk');
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(chunks).toBeGreaterThan(2); // really streamed, word by word
    expect(text).toBe(plain.choices[0]?.message.content);
    expect(text).toBe(REPLY);
    expect(finish).toBe('stop');
    expect(usage).toEqual(plain.usage);
  });

  it('completions, streamed and not: the same text', async () => {
    const prompt = 'Once upon a time in a sealed enclave';
    const { data: plain, response } = await client.completions
      .create({ model: MODEL, prompt, max_tokens: 8 })
      .withResponse();
    expectSealgateHeaders(response.headers);
    expect(plain.object).toBe('text_completion');
    const expected = plain.choices[0]?.text ?? '';
    expect(expected.trim().split(/\s+/)).toHaveLength(8);
    const stream = await client.completions.create({ model: MODEL, prompt, max_tokens: 8, stream: true });
    let text = '';
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      text += chunk.choices[0]?.text ?? '';
    }
    expect(chunks).toBeGreaterThan(2);
    expect(text).toBe(expected);
  });

  it('embeddings: the SDK asks base64; dimensions, unit norm, and the built-in model’s exact vector', async () => {
    const input = 'attested embeddings';
    const { data, response } = await client.embeddings
      .create({ model: MODEL, input: [input, 'another'], dimensions: 64 })
      .withResponse();
    expect(sent.at(-1)).toMatchObject({ encoding_format: 'base64', dimensions: 64 });
    expectSealgateHeaders(response.headers);
    expect(data.object).toBe('list');
    expect(data.data.map((d) => d.index)).toEqual([0, 1]);
    for (const { embedding } of data.data) {
      expect(embedding).toHaveLength(64);
      const norm = Math.sqrt(embedding.reduce((s, x) => s + x * x, 0));
      expect(Math.abs(norm - 1)).toBeLessThan(1e-5);
    }
    expect(data.data[0]?.embedding).toEqual(Array.from(await embed(utf8.encode(input), 64)));
    expect(data.data[0]?.embedding).not.toEqual(data.data[1]?.embedding);
    const defaults = await client.embeddings.create({ model: MODEL, input });
    expect(defaults.data[0]?.embedding).toHaveLength(256);
  });

  it('models list (plain routing data) with the manifest header', async () => {
    const response = await client.models.list().asResponse();
    expect(response.status).toBe(200);
    expect(response.headers.get('x-sealgate-manifest')).toBe(stack.manifestDigest);
    expect(response.headers.get('x-sealgate-simulated')).toBe('1');
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toContain(MODEL);
  });

  it('a wrong API key: AuthenticationError (401) with OpenAI’s error shape', async () => {
    const wrong = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'sk-not-the-key', maxRetries: 0 });
    const error = await wrong.chat.completions.create({ model: MODEL, messages }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    const auth = error as InstanceType<typeof OpenAI.AuthenticationError>;
    expect(auth.status).toBe(401);
    expect(auth.code).toBe('invalid_api_key');
    expect(auth.error).toMatchObject({ code: 'invalid_api_key', type: expect.any(String) });
    expect(auth.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(auth.headers.get('x-sealgate-key-id')).toBeNull(); // nothing was sealed
  });
});

describe('curl against the gateway', () => {
  const chat = (extra: Record<string, unknown> = {}) => JSON.stringify({ model: MODEL, messages, ...extra });
  const headerArgs = (key: string) => [
    '-H',
    `authorization: Bearer ${key}`,
    '-H',
    'content-type: application/json',
  ];

  it('a chat completion', async () => {
    const r = await curl([
      '-i',
      `${stack.url}/v1/chat/completions`,
      ...headerArgs(stack.apiKey),
      '-d',
      chat(),
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const { status, headers, body } = parseCurlInclude(r.stdout);
    expect(status).toBe(200);
    expect(headers['x-sealgate-manifest']).toBe(stack.manifestDigest);
    expect(headers['x-sealgate-simulated']).toBe('1');
    expect(headers['x-sealgate-key-id']).toMatch(KID);
    expect(JSON.parse(body).choices[0].message.content).toBe(REPLY);
  });

  it('a streamed chat completion (-N): every event, in order, then [DONE]', async () => {
    const r = await curl([
      '-N',
      `${stack.url}/v1/chat/completions`,
      ...headerArgs(stack.apiKey),
      '-d',
      chat({ stream: true }),
    ]);
    expect(r.code).toBe(0);
    const parser = new SseParser();
    const events = parser.push(r.stdout).map((e) => e.data);
    parser.end();
    expect(events.at(-1)).toBe('[DONE]');
    expect(events.filter((e) => e === '[DONE]')).toHaveLength(1);
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
    expect(chunks.length).toBeGreaterThan(2);
    for (const c of chunks) expect(c.object).toBe('chat.completion.chunk');
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe(REPLY);
    expect(chunks.at(-1).choices[0].finish_reason).toBe('stop');
  });

  it('a wrong key: 401 invalid_api_key in OpenAI’s error JSON', async () => {
    const r = await curl(['-i', `${stack.url}/v1/chat/completions`, ...headerArgs('sk-wrong'), '-d', chat()]);
    expect(r.code).toBe(0);
    const { status, headers, body } = parseCurlInclude(r.stdout);
    expect(status).toBe(401);
    expect(headers['www-authenticate']).toMatch(/^Bearer/);
    expect(headers['content-type']).toMatch(/^application\/json/);
    const { error } = JSON.parse(body);
    expect(error).toMatchObject({ code: 'invalid_api_key', param: null });
    expect(typeof error.message).toBe('string');
    expect(typeof error.type).toBe('string');
  });
});
