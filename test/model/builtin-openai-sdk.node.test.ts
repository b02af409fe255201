/**
 * The built-in model's answers, served plainly over HTTP as an OpenAI server would, parsed by the
 * official `openai` SDK (6.49.0) — and read back through the upstream client (MODEL_URL pointing
 * at it), which must give exactly what the model gave.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_MODEL_ID, createBuiltinModel } from '../../src/model/builtin.js';
import { encodeSseEvent } from '../../src/model/sse.js';
import { isModelRoute } from '../../src/model/types.js';
import { createUpstreamModel } from '../../src/model/upstream.js';
import { type LocalModelServer, sendJson, startLocalModelServer, startSse } from './local-model-server.js';

const T = 1_767_225_600;
const builtin = createBuiltinModel({ now: () => T });
let server: LocalModelServer;
let client: OpenAI;

beforeAll(async () => {
  server = await startLocalModelServer(async (req, res) => {
    if (req.method === 'GET' && req.path === '/v1/models')
      return sendJson(res, 200, await builtin.listModels());
    if (req.method !== 'POST' || !isModelRoute(req.path)) return sendJson(res, 404, {});
    const answer = await builtin.call(req.path, { body: req.body });
    if (answer.kind === 'json') return sendJson(res, 200, answer.body);
    startSse(res);
    for await (const e of answer.events) res.write(encodeSseEvent(e));
    res.end();
  });
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});
afterAll(() => server.close());

const messages = [{ role: 'user' as const, content: 'Is this thing on?' }];

describe('the openai SDK parses the built-in model', () => {
  it('chat completion', async () => {
    const r = await client.chat.completions.create({ model: BUILTIN_MODEL_ID, messages });
    expect(r.object).toBe('chat.completion');
    expect(r.choices[0]?.message.content).toBe(
      'You said: "Is this thing on?" Backwards: "on? thing this Is"',
    );
    expect(r.usage).toEqual({ prompt_tokens: 4, completion_tokens: 11, total_tokens: 15 });
  });
  it('streamed chat completion, with usage, and the SDK stream helper', async () => {
    const stream = await client.chat.completions.create({
      model: BUILTIN_MODEL_ID,
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: unknown = null;
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe('You said: "Is this thing on?" Backwards: "on? thing this Is"');
    expect(finish).toBe('stop');
    expect(usage).toEqual({ prompt_tokens: 4, completion_tokens: 11, total_tokens: 15 });

    const helper = client.chat.completions.stream({ model: BUILTIN_MODEL_ID, messages });
    const final = await helper.finalChatCompletion();
    expect(final.choices[0]?.message.content).toBe(text);
  });
  it('completions, streamed and not', async () => {
    const r = await client.completions.create({ model: BUILTIN_MODEL_ID, prompt: 'a b c' });
    expect(r.choices[0]?.text).toBe(' c b a');
    const s = await client.completions.create({ model: BUILTIN_MODEL_ID, prompt: 'a b c', stream: true });
    let text = '';
    for await (const chunk of s) text += chunk.choices[0]?.text ?? '';
    expect(text).toBe(' c b a');
  });
  it('embeddings: the SDK asks for base64 and decodes it to the same floats', async () => {
    const r = await client.embeddings.create({ model: BUILTIN_MODEL_ID, input: ['alpha', 'beta'] });
    const direct = await builtin.call('/v1/embeddings', {
      body: { model: BUILTIN_MODEL_ID, input: ['alpha', 'beta'] },
    });
    if (direct.kind !== 'json') throw new Error('expected JSON');
    expect(server.requests.at(-1)?.body.encoding_format).toBe('base64');
    expect(r.data.map((d) => d.embedding)).toEqual(
      (direct.body.data as { embedding: number[] }[]).map((d) => d.embedding),
    );
    expect(r.usage).toEqual({ prompt_tokens: 2, total_tokens: 2 });
  });
  it('model list', async () => {
    const list = await client.models.list();
    expect(list.data.map((m) => m.id)).toEqual([BUILTIN_MODEL_ID]);
  });
});

describe('the upstream client reads the same answers back', () => {
  it('JSON and stream', async () => {
    const upstream = createUpstreamModel({ baseUrl: server.url });
    const body = { model: BUILTIN_MODEL_ID, messages };
    expect(await upstream.call('/v1/chat/completions', { body })).toEqual(
      await builtin.call('/v1/chat/completions', { body }),
    );
    const collect = async (a: Awaited<ReturnType<typeof builtin.call>>) => {
      if (a.kind !== 'stream') throw new Error('expected a stream');
      const out: string[] = [];
      for await (const e of a.events) out.push(e);
      return out;
    };
    const sbody = { ...body, stream: true };
    expect(await collect(await upstream.call('/v1/chat/completions', { body: sbody }))).toEqual(
      await collect(await builtin.call('/v1/chat/completions', { body: sbody })),
    );
  });
});
