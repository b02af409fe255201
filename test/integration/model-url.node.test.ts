/**
 * MODEL_URL end to end: an AI worker in front of a real OpenAI-compatible model server started here
 * (node:http, vLLM's SSE framing: `data: {json}\n\n` chunks, then `data: [DONE]\n\n`), attested
 * to the real attestation service on SIMULATED hardware, called by a client with the gateway's
 * library code (stack.ts).
 *
 * Streaming is proven by the order of events, never by clocks: the model server holds its last
 * chunk until the client has decrypted the first one. A worker (or anything between) that buffered
 * the stream would never deliver that first chunk, and the test could not finish.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningWorker } from '../../src/ai-worker/main.js';
import { openResponse } from '../../src/envelope/response.js';
import { openSse, post } from '../ai-worker/support.js';
import type { Json } from '../model/json.js';
import {
  chatChunk,
  type LocalModelServer,
  sendJson,
  signal,
  startLocalModelServer,
  startSse,
  writeData,
} from '../model/local-model-server.js';
import { CHAT, type Stack, startStack } from './stack.js';

let stack: Stack;
const seal: Stack['seal'] = (body, opts) => stack.seal(body, opts);

beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack?.close());

describe('MODEL_URL: an OpenAI-compatible model server behind the worker', () => {
  let model: LocalModelServer;
  let proxied: RunningWorker;
  /** Per test: how the local model server answers a streamed request. */
  let streamHandler: (res: Parameters<Parameters<typeof startLocalModelServer>[0]>[1]) => Promise<void>;
  const events: string[] = [];
  /** When set, the JSON answer's text as the model server writes it. */
  let jsonText: string | undefined;

  beforeAll(async () => {
    model = await startLocalModelServer(async (req, res) => {
      if (req.path !== CHAT) return sendJson(res, 404, { error: { message: 'no' } });
      if (req.body.stream !== true && jsonText !== undefined) {
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(jsonText);
      }
      if (req.body.stream !== true) {
        return sendJson(res, 200, {
          id: 'chatcmpl-local',
          object: 'chat.completion',
          created: 1,
          model: req.body.model,
          choices: [
            {
              index: 0,
              message: { role: 'assistant', content: 'from the local model' },
              finish_reason: 'stop',
            },
          ],
          usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
        });
      }
      await streamHandler(res);
    });
    proxied = await stack.startWorker({ modelUrl: model.url });
    await proxied.ready;
  });
  afterAll(() => model?.close());

  it('forwards the opened request to the model server and seals its answer', async () => {
    const body = { model: 'local-model', temperature: 0.2, messages: [{ role: 'user', content: 'to vLLM' }] };
    const { sealed, context } = await seal(body);
    const answer: Json = await openResponse(context, await (await post(proxied.url, CHAT, sealed)).text());
    expect(model.requests.at(-1)?.body).toEqual(body);
    expect(answer.choices[0].message.content).toBe('from the local model');
    expect(answer.usage).toEqual({ prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 });
  });

  it('streams: the first decrypted chunk reaches the client before the server produces the last one', async () => {
    const gate = signal();
    events.length = 0;
    streamHandler = async (res) => {
      startSse(res);
      await writeData(res, chatChunk('first'));
      events.push('server: wrote first chunk');
      await gate.promise; // the server holds its last chunk until the client has the first one
      events.push('server: writes last chunk');
      await writeData(res, chatChunk(' last', { choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }));
      res.end('data: [DONE]\n\n');
    };
    const { sealed, context } = await seal({
      model: 'local-model',
      stream: true,
      messages: [{ role: 'user', content: 'stream through' }],
    });
    const opened = await openSse(await post(proxied.url, CHAT, sealed), context, (chunk, index) => {
      events.push(`client: decrypted chunk ${index}`);
      if (index === 0) {
        expect(JSON.parse(chunk).choices[0].delta.content).toBe('first');
        gate.fire();
      }
    });
    expect(opened.error).toBeUndefined();
    expect(events.indexOf('client: decrypted chunk 0')).toBeGreaterThan(-1);
    expect(events.indexOf('client: decrypted chunk 0')).toBeLessThan(
      events.indexOf('server: writes last chunk'),
    );
    expect(opened.chunks).toHaveLength(3);
    expect(opened.chunks[2]).toBe('[DONE]');
  });

  it('numbers beyond ±(2^53 − 1) in the answer reach the client as the model server wrote them, JSON and stream', async () => {
    // In JSON values, where a model or server puts them: `created`, an extra field, a usage count
    // (a tool call's `arguments` is a string and never was at risk).
    const big = '"created":9007199254740993,"x_ids":[18446744073709551615,-9007199254740993]';
    jsonText = `{"id":"c",${big},"object":"chat.completion","model":"local-model","choices":[{"index":0,"message":{"role":"assistant","content":"n"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":12345678901234567890}}`;
    const json = await seal({ model: 'local-model', messages: [{ role: 'user', content: 'big' }] });
    const answer = await (await post(proxied.url, CHAT, json.sealed)).text();
    // What the gateway writes its client (src/gateway/sealing/upstream.ts openJsonAnswer). Before,
    // the worker (readJson) and the gateway (openResponse) each parsed with a plain JSON.parse:
    // '"created":9007199254740992', '"completion_tokens":12345678901234567000'.
    expect(JSON.stringify(await openResponse(json.context, answer))).toBe(jsonText);
    jsonText = undefined;

    // A stream's events are sealed as the model server wrote them (the worker parses each only to
    // check it) and the gateway writes each opened payload on as text: the digits survive.
    const chunk = `{"id":"c",${big},"object":"chat.completion.chunk","model":"local-model","choices":[{"index":0,"delta":{"content":"n"},"finish_reason":null}]}`;
    streamHandler = async (res) => {
      startSse(res);
      await writeData(res, chunk);
      res.end('data: [DONE]\n\n');
    };
    const stream = await seal({
      model: 'local-model',
      stream: true,
      messages: [{ role: 'user', content: 'big' }],
    });
    const opened = await openSse(await post(proxied.url, CHAT, stream.sealed), stream.context);
    expect(opened.error).toBeUndefined();
    expect(opened.chunks).toEqual([chunk, '[DONE]']);
  });

  it('a model server that fails mid-stream: its failure sealed in an error frame, no end frame', async () => {
    streamHandler = async (res) => {
      startSse(res);
      await writeData(res, chatChunk('partial'));
      res.destroy(); // the model server dies
    };
    const { sealed, context } = await seal({
      model: 'local-model',
      stream: true,
      messages: [{ role: 'user', content: 'crash' }],
    });
    const opened = await openSse(await post(proxied.url, CHAT, sealed), context);
    expect(opened.chunks).toEqual([chatChunk('partial')]);
    // model_error: the opener read the worker's error frame (envelope/stream.ts workerFailure).
    expect(opened.error).toEqual({
      code: 'model_error',
      message: 'sealed stream: the worker reported a failure (model_error)',
    });
    expect(opened.types.includes(1)).toBe(false); // no end record
  });
});

describe('MODEL_URL: a client that goes away', () => {
  it('closing the sealed stream closes the worker’s request to the model server', async () => {
    const modelClosed = signal();
    const model = await startLocalModelServer(async (_req, res) => {
      res.on('close', modelClosed.fire);
      startSse(res);
      await writeData(res, chatChunk('first'));
      // …and never more: only the client leaving can end this request.
    });
    try {
      const worker = await stack.startWorker({ modelUrl: model.url });
      await worker.ready;
      const { sealed, context } = await seal({
        model: 'local-model',
        stream: true,
        messages: [{ role: 'user', content: 'then leave' }],
      });
      const client = new AbortController();
      const response = await post(worker.url, CHAT, sealed, {}, client.signal);
      const opened = await openSse(response, context, () => client.abort());
      expect(opened.chunks).toEqual([chatChunk('first')]);
      await modelClosed.promise; // resolves only when the model server saw its connection close
      expect(model.requests).toHaveLength(1);
    } finally {
      await model.close();
    }
  });
});
