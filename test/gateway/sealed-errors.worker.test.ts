/**
 * A worker's refusal after it opened the request comes sealed under the request's response key
 * (docs/protocol.md "Sealed error answer"), through the gateway Worker, the REAL worker app and a
 * model server behind it (src/model/upstream.ts) that refuses: the model server's own message
 * reaches the client — in OpenAI's error JSON, Anthropic's on /v1/messages, and as the error an
 * official SDK raises — and never crosses the gateway–worker hop in the clear. Then the hop's
 * moves: it cannot change the status, put a plain error with a code that only comes sealed (or one
 * no worker answers) in its place, hand over the sealed error of another request, garble it, or
 * pass a sealed answer off as an error and an error as an answer — each is `upstream_tampered`.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeEach, expect, it, vi } from 'vitest';
import { ERROR_CONTENT_TYPE } from '../../src/envelope/error-response.js';
import { callGateway as call, stackPerFile } from './do-helpers.js';
import {
  env,
  flip,
  gatewayDescribe,
  HAS_GATEWAY_BINDINGS,
  KEY,
  PROMPT,
  type Stack,
  sseData,
  WORKER_B,
} from './stack.js';

const CHAT = '/v1/chat/completions';
/** What vLLM answers a request over the model's context (HTTP 400, OpenAI's error JSON). */
const TOO_LONG =
  "This model's maximum context length is 4096 tokens. However, you requested 99999 tokens (12 in the messages, 99987 in the completion). Please reduce the length of the messages or completion.";
const SERVER_400 = {
  status: 400,
  body: { error: { message: TOO_LONG, type: 'BadRequestError', param: null, code: 400 } },
};
const chat = {
  model: 'sealgate-builtin',
  max_tokens: 99_987,
  messages: [{ role: 'user' as const, content: 'the secret prompt' }],
};
let stack: Stack;
let router: typeof fetch;
/** The bodies the workers answered with, as the hop saw them. */
let answers: string[] = [];

const post = (path: string, body: unknown, headers: Record<string, string> = KEY) =>
  call(path, { method: 'POST', headers, body: JSON.stringify(body) });

/** Routes the workers' answers through `hop` (the man in the middle), recording what it saw. */
function onHop(hop: (res: Response, url: string) => Promise<Response> | Response): void {
  vi.stubGlobal('fetch', async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = input instanceof Request ? input.url : String(input);
    const res = await router(input, init);
    if (!(init?.method === 'POST' && url.startsWith('http://worker'))) return res;
    answers.push(await res.clone().text());
    return await hop(res, url);
  });
}

async function errorOf(res: Response): Promise<{ status: number; code: string; message: string }> {
  const body = (await res.json()) as { error: { code: string; message: string } };
  return { status: res.status, code: body.error.code, message: body.error.message };
}

const workerPosts = () => stack.calls.filter((c) => c.startsWith('POST http://worker')).length;

stackPerFile({ keyed: true }, (s) => {
  stack = s;
  router = globalThis.fetch;
});
beforeEach(() => {
  if (!HAS_GATEWAY_BINDINGS) return;
  answers = [];
  stack.calls.length = 0;
  stack.modelServer = SERVER_400;
  onHop((res) => res);
});
afterAll(() => {
  if (HAS_GATEWAY_BINDINGS) stack.modelServer = undefined;
});

gatewayDescribe("the model server's refusal, sealed to the client", () => {
  it.each([
    ['chat', CHAT, chat],
    ['chat, streamed (refused before the first event)', CHAT, { ...chat, stream: true }],
    ['responses', '/v1/responses', { model: 'sealgate-builtin', input: 'hi', max_output_tokens: 99_987 }],
    ['embeddings', '/v1/embeddings', { model: 'sealgate-builtin', input: 'the secret prompt' }],
  ])('%s: 400 invalid_request with its own message; the hop saw ciphertext', async (_what, path, body) => {
    const res = await post(path, body);
    expect(await errorOf(res)).toEqual({ status: 400, code: 'invalid_request', message: TOO_LONG });
    expect(answers).toHaveLength(1);
    expect(answers[0]).not.toContain('maximum context length');
    expect(answers[0]).not.toContain('invalid_request');
  });

  it('the gateway logs the code, never the message', async () => {
    const lines: string[] = [];
    const keep = (...args: unknown[]) => void lines.push(args.map(String).join(' '));
    for (const level of ['log', 'warn', 'error'] as const) vi.spyOn(console, level).mockImplementation(keep);
    try {
      expect((await errorOf(await post(CHAT, chat))).message).toBe(TOO_LONG);
    } finally {
      vi.restoreAllMocks();
    }
    expect(lines.some((l) => l.includes('"event":"worker_error"') && l.includes('invalid_request'))).toBe(
      true,
    );
    expect(lines.join('\n')).not.toContain('maximum context length');
  });

  it('messages: in Anthropic’s error shape', async () => {
    const res = await post(
      '/v1/messages',
      { model: 'sealgate-builtin', max_tokens: 99_987, messages: PROMPT },
      { 'content-type': 'application/json', 'x-api-key': env.DEV_API_KEY, 'anthropic-version': '2023-06-01' },
    );
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      type: 'error',
      error: { type: 'invalid_request_error', message: TOO_LONG, code: 'invalid_request' },
    });
    expect(answers[0]).not.toContain('maximum context length');
  });

  it('transcriptions: the multipart request refused with the server’s message', async () => {
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(1000)], { type: 'audio/wav' }), 'a.wav');
    form.append('model', 'sealgate-builtin');
    const res = await call('/v1/audio/transcriptions', {
      method: 'POST',
      headers: { authorization: KEY.authorization },
      body: form,
    });
    expect(await errorOf(res)).toEqual({ status: 400, code: 'invalid_request', message: TOO_LONG });
  });

  it('a model server failure: 502 model_error with its message, no other worker tried', async () => {
    stack.modelServer = { status: 500, body: { error: { message: 'CUDA out of memory' } } };
    expect(await errorOf(await post(CHAT, chat))).toEqual({
      status: 502,
      code: 'model_error',
      message: 'CUDA out of memory',
    });
    expect(workerPosts()).toBe(1);
  });

  it('a model server out of reach: 502 upstream_unavailable, sealed, and the next worker gets the seal', async () => {
    stack.modelServer = 'unreachable';
    stack.modes[WORKER_B] = 'down';
    try {
      // Two requests: the gateway starts at another worker each time, so one starts at the one that
      // answers. Each reaches both: after the sealed 502, the next worker is tried.
      for (const _ of [1, 2]) expect((await post(CHAT, chat)).status).toBe(503); // none answered
      expect(workerPosts()).toBe(4);
      expect(answers.filter((a) => a.startsWith('{"sealgate":'))).toHaveLength(2);
    } finally {
      stack.modes[WORKER_B] = 'ok';
    }
  });

  it('a stream whose model server fails after a 200 head: its sealed failure as the error event', async () => {
    // The worker's head (200) leaves before the model's first event (time to first chunk:
    // node-listener.ts), so the failure comes as the stream's error frame, sealed to this request:
    // the model server's own message reaches the client, the hop sees ciphertext, the logs the code.
    stack.modelServer = { status: 200, body: 'data: {"error":{"message":"boom: the secret prompt"}}\n\n' };
    const lines: string[] = [];
    const keep = (...args: unknown[]) => void lines.push(args.map(String).join(' '));
    for (const level of ['log', 'warn', 'error'] as const) vi.spyOn(console, level).mockImplementation(keep);
    let data: string[];
    try {
      const res = await post(CHAT, { ...chat, stream: true });
      expect(res.status).toBe(200);
      data = await sseData(res);
    } finally {
      vi.restoreAllMocks();
    }
    expect(data).not.toContain('[DONE]');
    expect(JSON.parse(data.at(-1)!)).toMatchObject({
      error: { code: 'model_error', message: 'boom: the secret prompt' },
    });
    expect(lines.some((l) => l.includes('"event":"stream_failed"') && l.includes('model_error'))).toBe(true);
    expect(lines.join('\n')).not.toContain('secret');
    expect(answers.join('\n')).not.toContain('secret');
  });

  it('a stream that fails on /v1/messages: Anthropic’s error event with the model server’s message', async () => {
    stack.modelServer = { status: 200, body: 'data: {"error":{"message":"boom: out of memory"}}\n\n' };
    const res = await post(
      '/v1/messages',
      { model: 'sealgate-builtin', max_tokens: 64, stream: true, messages: PROMPT },
      { 'content-type': 'application/json', 'x-api-key': env.DEV_API_KEY, 'anthropic-version': '2023-06-01' },
    );
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('event: error');
    expect(text).toContain('"type":"api_error"');
    expect(text).toContain('boom: out of memory');
    expect(text).not.toContain('message_stop');
  });

  it('the official SDKs raise the model server’s message', async () => {
    const gateway = (input: RequestInfo | URL, init?: RequestInit) =>
      call(new URL(String(input)).pathname, init);
    const openai = new OpenAI({
      apiKey: env.DEV_API_KEY,
      baseURL: 'https://gateway.test/v1',
      maxRetries: 0,
      fetch: gateway,
    });
    const failed = await openai.chat.completions.create({ ...chat, stream: false }).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(OpenAI.BadRequestError);
    expect((failed as InstanceType<typeof OpenAI.BadRequestError>).message).toBe(`400 ${TOO_LONG}`);
    expect((failed as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('invalid_request');
    const anthropic = new Anthropic({
      apiKey: env.DEV_API_KEY,
      baseURL: 'https://gateway.test',
      maxRetries: 0,
      fetch: gateway,
    });
    const refused = await anthropic.messages
      .create({ model: 'sealgate-builtin', max_tokens: 4096, messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(Anthropic.BadRequestError);
    expect((refused as InstanceType<typeof Anthropic.BadRequestError>).message).toContain(TOO_LONG);
  });
});

gatewayDescribe('the hop cannot choose a refusal', () => {
  const tampered = {
    status: 502,
    code: 'upstream_tampered',
    message: 'the error answer from the AI worker did not authenticate',
  };

  it('a redirect is not followed: the seal goes to the next worker, not where the 3xx points', async () => {
    stack.modelServer = undefined; // the real built-in model answers
    const redirects: (RequestRedirect | undefined)[] = [];
    let first = true;
    vi.stubGlobal('fetch', async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = input instanceof Request ? input.url : String(input);
      if (!(init?.method === 'POST' && url.startsWith('http://worker'))) return await router(input, init);
      redirects.push(init.redirect);
      if (!first) return await router(input, init);
      first = false;
      return new Response(null, { status: 307, headers: { location: 'https://elsewhere.example/v1/chat' } });
    });
    const res = await post(CHAT, chat);
    expect(res.status).toBe(200);
    expect(redirects).toEqual(['manual', 'manual']);
    expect(stack.calls.some((c) => c.includes('elsewhere.example'))).toBe(false);
  });

  it.each([
    [401, 'a 401 (as if the API key were bad)'],
    [429, 'a 429'],
    [500, 'a 500'],
  ])('the outer status flipped to %i: refused', async (status) => {
    onHop(async (res) => new Response(await res.text(), { status, headers: res.headers }));
    expect(await errorOf(await post(CHAT, chat))).toEqual(tampered);
    expect(workerPosts()).toBe(1);
  });

  it.each([
    ['invalid_request', 400],
    ['model_error', 502],
    ['model_not_found', 404],
    ['upstream_unavailable', 502],
    ['invalid_api_key', 401],
    ['rate_limited', 429],
  ])(
    'the sealed error replaced by a plain one with %s: refused, the next worker not asked',
    async (code, status) => {
      onHop(() =>
        Response.json(
          {
            error: {
              message: 'your key was revoked: https://keys.evil.example',
              type: 'x',
              param: null,
              code,
            },
          },
          { status, headers: { 'retry-after': '3600' } },
        ),
      );
      const res = await post(CHAT, chat);
      expect(res.headers.get('retry-after')).toBeNull();
      expect(await errorOf(res)).toEqual(tampered);
      expect(workerPosts()).toBe(1);
    },
  );

  it('a plain error whose status is not its code’s: refused', async () => {
    onHop(() =>
      Response.json(
        { error: { message: 'busy', type: 'x', param: null, code: 'not_ready' } },
        { status: 400 },
      ),
    );
    expect(await errorOf(await post(CHAT, chat))).toEqual(tampered);
  });

  it('a plain refusal longer than a worker writes names no code: 502 upstream_unavailable', async () => {
    const refusal = {
      error: { message: 'request body is not UTF-8 JSON', type: 'x', param: null, code: 'invalid_json' },
    };
    // Valid JSON with a plain code and its fixed text, padded past the 64 KiB an error is read to.
    const padded = `${JSON.stringify(refusal)}${' '.repeat(70 * 1024)}`;
    onHop(() => new Response(padded, { status: 400, headers: { 'content-type': 'application/json' } }));
    expect(await errorOf(await post(CHAT, chat))).toEqual({
      status: 502,
      code: 'upstream_unavailable',
      message: 'the AI worker refused the request (400)',
    });
    expect(workerPosts()).toBe(1);
  });

  it('a plain refusal’s code the hop wrote is logged cut to a code’s length', async () => {
    const code = `x${'y'.repeat(10_000)}`;
    onHop(() => Response.json({ error: { message: 'm', type: 'x', param: null, code } }, { status: 400 }));
    const lines: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void lines.push(args.join(' ')));
    try {
      expect(await errorOf(await post(CHAT, chat))).toEqual(tampered);
    } finally {
      vi.restoreAllMocks();
    }
    const logged = lines
      .filter((l) => l.includes('"event":"worker_error_rejected"'))
      .map((l) => JSON.parse(l) as { code?: string })[0];
    expect(logged?.code).toBe(code.slice(0, 64));
  });

  it('the sealed error of another request in its place: refused', async () => {
    await post(CHAT, chat);
    const earlier = answers[0]!;
    onHop(() => new Response(earlier, { status: 400, headers: { 'content-type': ERROR_CONTENT_TYPE } }));
    expect(await errorOf(await post(CHAT, chat))).toEqual(tampered);
  });

  it.each([
    ['cut short', (text: string) => text.slice(0, text.length - 10)],
    [
      'its ciphertext flipped',
      (text: string) => {
        const body = JSON.parse(text) as { sealgate: { ct: string } };
        return JSON.stringify({ sealgate: { ...body.sealgate, ct: flip(body.sealgate.ct) } });
      },
    ],
    [
      'a field added',
      (text: string) => JSON.stringify({ ...JSON.parse(text), error: { code: 'invalid_api_key' } }),
    ],
  ])('a sealed error %s: refused', async (_what, garble) => {
    onHop(
      async (res) => new Response(garble(await res.text()), { status: res.status, headers: res.headers }),
    );
    expect(await errorOf(await post(CHAT, chat))).toEqual(tampered);
  });

  it('a sealed answer passed off as an error: refused', async () => {
    stack.modelServer = undefined; // the built-in model answers
    onHop(
      async (res) =>
        new Response(await res.text(), { status: 400, headers: { 'content-type': ERROR_CONTENT_TYPE } }),
    );
    expect(await errorOf(await post(CHAT, { model: 'sealgate-builtin', messages: PROMPT }))).toEqual(
      tampered,
    );
  });

  it('a sealed error passed off as an answer: refused', async () => {
    onHop(async (res) => {
      const headers = new Headers(res.headers);
      headers.set('content-type', 'application/json');
      return new Response(await res.text(), { status: 200, headers });
    });
    const res = await post(CHAT, chat);
    expect(res.status).toBe(502);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('upstream_tampered');
  });
});

gatewayDescribe('the hop cannot make the gateway hold an answer whole', () => {
  /** A JSON body that never ends, 1 MiB a pull, recording how far it was read. */
  function endless() {
    const seen = { pulled: 0, cancelled: false };
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        seen.pulled++;
        c.enqueue(new Uint8Array(1024 * 1024).fill(0x20));
      },
      cancel() {
        seen.cancelled = true;
      },
    });
    return { body, seen };
  }

  it.each([
    ['sent chunked, no content-length', null],
    ['under a content-length that lies low', '4096'],
  ])('an endless answer %s: read to the 32 MiB bound, cancelled, refused', async (_what, length) => {
    stack.modelServer = undefined; // the built-in model answers; the hop swaps its body
    const { body, seen } = endless();
    onHop(async (res) => {
      await res.body?.cancel();
      const headers = new Headers(res.headers);
      if (length === null) headers.delete('content-length');
      else headers.set('content-length', length);
      return new Response(body, { status: 200, headers });
    });
    const res = await post(CHAT, { model: 'sealgate-builtin', messages: PROMPT });
    expect(await errorOf(res)).toEqual({
      status: 502,
      code: 'upstream_unavailable',
      message: 'the answer from the AI worker did not authenticate',
    });
    expect(seen.cancelled).toBe(true);
    expect(seen.pulled).toBeGreaterThanOrEqual(32);
    expect(seen.pulled).toBeLessThanOrEqual(36);
  });
});
