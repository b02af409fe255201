/**
 * The upstream client against a real OpenAI-compatible server on loopback (vLLM's framing): the
 * opened body is forwarded as it is, streams pass through event by event as they are produced, and
 * every failure has its typed code. Each case runs over both transports: the global fetch (undici,
 * the default) and node-http-fetch.ts (what the AI worker passes).
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SealgateError } from '../../src/errors.js';
import { createNodeHttpFetch } from '../../src/model/node-http-fetch.js';
import type { ModelAnswer } from '../../src/model/types.js';
import { createUpstreamModel, modelOrigin, type UpstreamModelOptions } from '../../src/model/upstream.js';
import {
  chatChunk,
  type Handler,
  type LocalModelServer,
  sendJson,
  signal,
  startLocalModelServer,
  startSse,
  writeData,
} from './local-model-server.js';

let server: LocalModelServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});
async function serve(handler: Handler) {
  server = await startLocalModelServer(handler);
  return server;
}
const nodeHttpFetch = createNodeHttpFetch();
afterAll(() => nodeHttpFetch.close());
const TRANSPORTS = [
  ['fetch', undefined],
  ['node:http', nodeHttpFetch],
] as const;

const CHAT = '/v1/chat/completions';
const body = { model: 'local-model', messages: [{ role: 'user', content: 'hi' }] };

async function collect(answer: ModelAnswer): Promise<{ events: string[]; error?: SealgateError }> {
  if (answer.kind !== 'stream') throw new Error('expected a stream');
  const events: string[] = [];
  try {
    for await (const e of answer.events) events.push(e);
  } catch (error) {
    return { events, error: error as SealgateError };
  }
  return { events };
}
function upstream(o: UpstreamModelOptions, transport: (typeof TRANSPORTS)[number][1]) {
  return createUpstreamModel(transport ? { ...o, fetch: transport } : o);
}
async function failure(run: Promise<unknown>): Promise<SealgateError> {
  try {
    await run;
  } catch (e) {
    expect(e).toBeInstanceOf(SealgateError);
    return e as SealgateError;
  }
  throw new Error('expected a failure');
}

describe('modelOrigin', () => {
  it('accepts the origin with or without /v1 and trailing slashes', () => {
    expect(modelOrigin('http://127.0.0.1:8000')).toBe('http://127.0.0.1:8000');
    expect(modelOrigin('http://127.0.0.1:11434/v1/')).toBe('http://127.0.0.1:11434');
    expect(modelOrigin('https://api.openai.com/v1')).toBe('https://api.openai.com');
    expect(modelOrigin('http://gpu-host/llm/v1')).toBe('http://gpu-host/llm');
  });
  it('refuses what is not a plain http(s) URL', () => {
    for (const bad of ['ftp://x', 'localhost:8000', 'http://u:p@h/', 'http://h/?q=1']) {
      expect(() => modelOrigin(bad)).toThrow(SealgateError);
    }
  });
});

describe.each(TRANSPORTS)('upstream model over %s: JSON answers', (_name, transport) => {
  const createUpstreamModel = (o: UpstreamModelOptions) => upstream(o, transport);
  it('forwards the opened body verbatim to {MODEL_URL}/v1/…, with the API key as a bearer token', async () => {
    const s = await serve((_req, res) =>
      sendJson(res, 200, { id: 'x', object: 'chat.completion', choices: [] }),
    );
    const model = createUpstreamModel({ baseUrl: `${s.url}/v1/`, apiKey: 'sk-test' });
    const answer = await model.call(CHAT, { body });
    expect(answer).toEqual({ kind: 'json', body: { id: 'x', object: 'chat.completion', choices: [] } });
    expect(s.requests).toHaveLength(1);
    expect(s.requests[0]).toMatchObject({ method: 'POST', path: '/v1/chat/completions', body });
    expect(s.requests[0]!.headers.authorization).toBe('Bearer sk-test');
    expect(s.requests[0]!.headers['content-type']).toBe('application/json');
  });
  it('sends no authorization header without a key', async () => {
    const s = await serve((_req, res) => sendJson(res, 200, { data: [] }));
    await createUpstreamModel({ baseUrl: s.url }).call('/v1/embeddings', {
      body: { model: 'e', input: 'x' },
    });
    expect(s.requests[0]!.headers.authorization).toBeUndefined();
  });
  it('maps HTTP failures: 400/422 → invalid_argument, 404 → model_not_found, others → model_error; the server’s message only as clientMessage', async () => {
    let status = 400;
    const s = await serve((_req, res) => sendJson(res, status, { error: { message: 'prompt was: secret' } }));
    const model = createUpstreamModel({ baseUrl: s.url });
    for (const [st, code] of [
      [400, 'invalid_argument'],
      [422, 'invalid_argument'],
      [404, 'model_not_found'],
      [429, 'model_error'],
      [500, 'model_error'],
    ] as const) {
      status = st;
      for (const b of [body, { ...body, stream: true }]) {
        const e = await failure(model.call(CHAT, { body: b }));
        expect({ code: e.code, status: e.detail?.status }).toEqual({ code, status: st });
        // For the sealed error answer alone: not in the message or detail the worker logs.
        expect(e.clientMessage).toBe('prompt was: secret');
        expect(e.message).not.toContain('secret');
        expect(JSON.stringify(e.detail)).not.toContain('secret');
      }
    }
  });
  it('refuses an answer that is not a JSON object, or an in-band error', async () => {
    let reply = 'not json';
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(reply);
    });
    const model = createUpstreamModel({ baseUrl: s.url });
    expect((await failure(model.call(CHAT, { body }))).message).toBe('model server answer is not JSON');
    // An integer beyond 2^53 alone is kept as its source text: an object to `typeof`, not to JSON.
    for (const text of ['[1,2]', '12345678901234567890']) {
      reply = text;
      expect((await failure(model.call(CHAT, { body }))).message, text).toBe(
        'model server answer is not a JSON object',
      );
    }
    reply = '{"error":{"message":"boom"}}';
    expect((await failure(model.call(CHAT, { body }))).code).toBe('model_error');
  });
  it('unreachable → fetch_failed (upstream_unavailable)', async () => {
    const s = await serve((_req, res) => sendJson(res, 200, {}));
    const url = s.url;
    await s.close();
    server = undefined;
    const e = await failure(createUpstreamModel({ baseUrl: url }).call(CHAT, { body }));
    expect({ code: e.code, message: e.message }).toEqual({
      code: 'fetch_failed',
      message: 'cannot reach the model server',
    });
  });
  it('no answer to a model call within requestTimeoutMs → model_error (it may have run: not retried)', async () => {
    const s = await serve(() => new Promise(() => undefined)); // never answers
    const e = await failure(
      createUpstreamModel({ baseUrl: s.url, requestTimeoutMs: 50 }).call(CHAT, { body }),
    );
    expect({ code: e.code, message: e.message }).toEqual({
      code: 'model_error',
      message: 'model server did not answer within 50 ms',
    });
    // The model list runs no model: its timeout stays fetch_failed (upstream_unavailable).
    const list = await failure(createUpstreamModel({ baseUrl: s.url, requestTimeoutMs: 50 }).listModels());
    expect({ code: list.code, message: list.message }).toEqual({
      code: 'fetch_failed',
      message: 'model server did not answer within 50 ms',
    });
  });
  it('passes the model list through in OpenAI shape', async () => {
    const s = await serve((_req, res) =>
      sendJson(res, 200, {
        object: 'list',
        data: [{ id: 'llama', object: 'model', created: 5, owned_by: 'vllm' }, { id: 'b' }],
      }),
    );
    expect(await createUpstreamModel({ baseUrl: s.url }).listModels()).toEqual({
      object: 'list',
      data: [
        { id: 'llama', object: 'model', created: 5, owned_by: 'vllm' },
        { id: 'b', object: 'model', created: 0, owned_by: 'upstream' },
      ],
    });
    expect(s.requests[0]).toMatchObject({ method: 'GET', path: '/v1/models' });
  });
});

// node:http only (the worker's transport): undici's pool may open a second connection anyway.
describe('upstream model over node:http: connections', () => {
  it('answers read to their end leave the connection for the next call', async () => {
    const ports: number[] = [];
    const s = await serve((_req, res, raw) => {
      ports.push(raw.socket.remotePort ?? 0);
      sendJson(res, 200, { id: 'x', choices: [] });
    });
    const model = upstream({ baseUrl: s.url }, nodeHttpFetch);
    for (let i = 0; i < 3; i++) await model.call(CHAT, { body });
    expect(ports).toHaveLength(3);
    expect(new Set(ports).size).toBe(1);
  });
});

describe.each(TRANSPORTS)('upstream model over %s: streams', (_name, transport) => {
  const createUpstreamModel = (o: UpstreamModelOptions) => upstream(o, transport);
  it('yields each data payload, [DONE] last, tolerating CRLF, comments and multi-line data', async () => {
    const s = await serve((_req, res) => {
      startSse(res);
      res.write(': vllm keep-alive\r\n\r\n');
      res.write(`data: ${chatChunk('Hel')}\r\n\r\n`);
      res.write('data: {"id":"c","object":"chat.completion.chunk",\ndata: "choices":[]}\n\n');
      res.end('data: [DONE]\n\n');
    });
    const answer = await createUpstreamModel({ baseUrl: s.url }).call(CHAT, {
      body: { ...body, stream: true },
    });
    const { events, error } = await collect(answer);
    expect(error).toBeUndefined();
    expect(events).toEqual([
      chatChunk('Hel'),
      '{"id":"c","object":"chat.completion.chunk",\n"choices":[]}',
      '[DONE]',
    ]);
    expect(s.requests[0]!.headers.accept).toBe('text/event-stream');
    expect(s.requests[0]!.body.stream).toBe(true);
  });
  it('delivers an event before the server has produced the next one (no buffering)', async () => {
    const gate = signal();
    const order: string[] = [];
    const s = await serve(async (_req, res) => {
      startSse(res);
      await writeData(res, chatChunk('first'));
      order.push('server wrote first');
      await gate.promise;
      order.push('server writes last');
      await writeData(res, chatChunk('last'));
      res.end('data: [DONE]\n\n');
    });
    const answer = await createUpstreamModel({ baseUrl: s.url }).call(CHAT, {
      body: { ...body, stream: true },
    });
    if (answer.kind !== 'stream') throw new Error('expected a stream');
    const events: string[] = [];
    for await (const e of answer.events) {
      events.push(e);
      order.push(`client got ${events.length}`);
      if (events.length === 1) gate.fire();
    }
    expect(order.indexOf('client got 1')).toBeLessThan(order.indexOf('server writes last'));
    expect(events).toEqual([chatChunk('first'), chatChunk('last'), '[DONE]']);
  });
  it('a stream that ends without [DONE] fails after the events it had (model_error)', async () => {
    const s = await serve((_req, res) => {
      startSse(res);
      res.end(`data: ${chatChunk('a')}\n\n`);
    });
    const { events, error } = await collect(
      await createUpstreamModel({ baseUrl: s.url }).call(CHAT, { body: { ...body, stream: true } }),
    );
    expect(events).toEqual([chatChunk('a')]);
    expect({ code: error?.code, message: error?.message }).toEqual({
      code: 'model_error',
      message: 'model server stream ended without [DONE]',
    });
  });
  it('an error event or an in-band error object fails the stream', async () => {
    let tail = 'event: error\ndata: {"message":"x"}\n\n';
    const s = await serve((_req, res) => {
      startSse(res);
      res.end(`data: ${chatChunk('a')}\n\n${tail}data: [DONE]\n\n`);
    });
    const model = createUpstreamModel({ baseUrl: s.url });
    const run = async () => collect(await model.call(CHAT, { body: { ...body, stream: true } }));
    expect((await run()).error?.message).toBe('model server sent an error event');
    tail = 'data: {"error":{"message":"CUDA out of memory"}}\n\n';
    expect((await run()).error?.message).toBe('model server reported an error mid-stream');
    tail = 'data: {"object":"error","message":"x"}\n\n';
    expect((await run()).error?.message).toBe('model server reported an error mid-stream');
    tail = 'data: not json\n\n';
    expect((await run()).error?.message).toBe('model server stream event is not JSON');
  });
  it('a server silent for idleTimeoutMs mid-stream fails it (model_error)', async () => {
    const s = await serve(async (_req, res) => {
      startSse(res);
      await writeData(res, chatChunk('a'));
      // then nothing
    });
    const { events, error } = await collect(
      await createUpstreamModel({ baseUrl: s.url, idleTimeoutMs: 50 }).call(CHAT, {
        body: { ...body, stream: true },
      }),
    );
    expect(events).toEqual([chatChunk('a')]);
    expect(error?.message).toBe('model server stream idle for 50 ms');
  });
  it('idleTimeoutMs bounds each wait, not the stream: steady events slower in total pass', async () => {
    const s = await serve(async (_req, res) => {
      startSse(res);
      // 12 waits of 60 ms: 720 ms in all, over the 500 ms bound, each wait far under it (a loaded
      // machine that fires a 60 ms timer late still stays inside it).
      for (const c of 'abcdefghijkl') {
        await writeData(res, chatChunk(c));
        await new Promise((r) => setTimeout(r, 60));
      }
      res.end('data: [DONE]\n\n');
    });
    const { events, error } = await collect(
      await createUpstreamModel({ baseUrl: s.url, idleTimeoutMs: 500 }).call(CHAT, {
        body: { ...body, stream: true },
      }),
    );
    expect(error).toBeUndefined();
    expect(events).toHaveLength(13);
  });
  it('a reader slower than idleTimeoutMs is not the server idling', async () => {
    const s = await serve((_req, res) => {
      startSse(res);
      res.end(`data: ${chatChunk('a')}\n\ndata: ${chatChunk('b')}\n\ndata: [DONE]\n\n`);
    });
    const answer = await createUpstreamModel({ baseUrl: s.url, idleTimeoutMs: 30 }).call(CHAT, {
      body: { ...body, stream: true },
    });
    if (answer.kind !== 'stream') throw new Error('expected a stream');
    const events: string[] = [];
    for await (const e of answer.events) {
      events.push(e);
      await new Promise((r) => setTimeout(r, 80));
    }
    expect(events).toEqual([chatChunk('a'), chatChunk('b'), '[DONE]']);
  });
  it('batches: the events of a read together; a bad event ends it after the ones before it', async () => {
    const s = await serve((_req, res) => {
      startSse(res);
      res.end(
        `data: ${chatChunk('a')}\n\n: comment\n\ndata: ${chatChunk('b')}\n\ndata: not json\n\ndata: ${chatChunk('c')}\n\n`,
      );
    });
    const answer = await createUpstreamModel({ baseUrl: s.url }).call(CHAT, {
      body: { ...body, stream: true },
    });
    if (answer.kind !== 'stream' || !answer.batches) throw new Error('expected a stream with batches');
    const seen: string[][] = [];
    let error: unknown;
    try {
      for await (const batch of answer.batches) seen.push([...batch]);
    } catch (e) {
      error = e;
    }
    // The stream's first event alone (time to first chunk), then the rest of its read.
    expect(seen).toEqual([[chatChunk('a')], [chatChunk('b')]]);
    expect(error).toMatchObject({ code: 'model_error', message: 'model server stream event is not JSON' });
  });
  it('the first event goes on alone only once checked: a bad or error first event yields nothing', async () => {
    let head = 'data: not json\n\n';
    const s = await serve((_req, res) => {
      startSse(res);
      res.end(`${head}data: ${chatChunk('a')}\n\ndata: [DONE]\n\n`);
    });
    const model = createUpstreamModel({ baseUrl: s.url });
    const run = async () => {
      const answer = await model.call(CHAT, { body: { ...body, stream: true } });
      if (answer.kind !== 'stream' || !answer.batches) throw new Error('expected a stream with batches');
      const seen: string[][] = [];
      try {
        for await (const batch of answer.batches) seen.push([...batch]);
      } catch (e) {
        return { seen, error: e as { code?: string; message?: string } };
      }
      return { seen, error: undefined };
    };
    const expectRefused = async (message: string) => {
      const r = await run();
      expect(r.seen).toEqual([]);
      expect(r.error).toMatchObject({ code: 'model_error', message });
    };
    await expectRefused('model server stream event is not JSON');
    head = 'data: {"error":{"message":"x"}}\n\n';
    await expectRefused('model server reported an error mid-stream');
    head = 'event: error\ndata: {}\n\n';
    await expectRefused('model server sent an error event');
    // A comment and a ping before it: the first event passed on is still the first checked one.
    head = ': hi\n\nevent: ping\ndata: {}\n\n';
    expect(await run()).toEqual({ seen: [[chatChunk('a')], ['[DONE]']], error: undefined });
  });
  it('batches end with [DONE], what follows it is not read as events', async () => {
    const s = await serve((_req, res) => {
      startSse(res);
      res.end(`data: ${chatChunk('a')}\n\ndata: [DONE]\n\ndata: ${chatChunk('late')}\n\n`);
    });
    const answer = await createUpstreamModel({ baseUrl: s.url }).call(CHAT, {
      body: { ...body, stream: true },
    });
    if (answer.kind !== 'stream' || !answer.batches) throw new Error('expected a stream with batches');
    const seen: string[] = [];
    for await (const batch of answer.batches) seen.push(...batch);
    expect(seen).toEqual([chatChunk('a'), '[DONE]']);
  });
  it('a stream request answered with JSON is a model_error', async () => {
    const s = await serve((_req, res) => sendJson(res, 200, { id: 'x' }));
    const e = await failure(
      createUpstreamModel({ baseUrl: s.url }).call(CHAT, { body: { ...body, stream: true } }),
    );
    expect(e.message).toBe('model server did not answer the stream as text/event-stream');
  });
  it('stopping early closes the connection to the model server', async () => {
    const closed = signal();
    const s = await serve(async (_req, res, raw) => {
      res.on('close', closed.fire);
      startSse(res);
      await writeData(res, chatChunk('a'));
      void raw;
    });
    const answer = await createUpstreamModel({ baseUrl: s.url }).call(CHAT, {
      body: { ...body, stream: true },
    });
    if (answer.kind !== 'stream') throw new Error('expected a stream');
    for await (const e of answer.events) {
      expect(e).toBe(chatChunk('a'));
      break;
    }
    await closed.promise; // resolves only if the server saw the connection go
    expect(s.requests).toHaveLength(1);
  });
});
