/**
 * Hostile clients against the running gateway, what HELD: bodies
 * two readers could read two ways and paths that could dodge a check. The body is sealed written
 * anew (JSON.stringify of what JSON.parse read), so what limits, the envelope's plain fields, the
 * worker and the model server see must be one reading of it — `stack.modelBodies` is what the
 * worker's model received, `stack.wire` what left the gateway.
 */
import OpenAI from 'openai';
import { expect, it, vi } from 'vitest';
import { callGateway as call, stackPerFile } from './do-helpers.js';
import { env, gatewayDescribe, KEY, type Stack, workerPosts } from './stack.js';

const CHAT = '/v1/chat/completions';
const HI = '"messages":[{"role":"user","content":"the secret prompt"}]';
let stack: Stack;

const post = (body: string, path = CHAT, headers: Record<string, string> = KEY) =>
  call(path, { method: 'POST', headers, body });
/** The plain fields of the last sealed request that left the gateway (the envelope's `sealgate` aside). */
const lastPlain = () => {
  const { sealgate: _, ...plain } = JSON.parse(stack.wire.at(-1)!) as Record<string, unknown>;
  return plain;
};

stackPerFile({ keyed: true, freshRecords: true }, (s) => {
  stack = s;
});

gatewayDescribe('hostile request bodies: one reading everywhere', () => {
  it('a key given twice: the envelope, the worker and the answer all read the last one', async () => {
    const res = await post(
      `{"model":"sealgate-builtin","model":"gpt-4o-mini","max_tokens":5,"max_tokens":7,${HI}}`,
    );
    expect(res.status).toBe(200);
    expect(((await res.json()) as { model: string }).model).toBe('gpt-4o-mini');
    expect(lastPlain()).toEqual({ model: 'gpt-4o-mini', max_tokens: 7 });
    expect(stack.modelBodies).toHaveLength(1);
    expect(stack.modelBodies[0]).toMatchObject({ model: 'gpt-4o-mini', max_tokens: 7 });
  });

  it('"__proto__" stays a data field to the model, at the top and nested; no prototype changes', async () => {
    const body = `{"model":"sealgate-builtin","__proto__":{"stream":true},"metadata":{"__proto__":{"x":1}},${HI}}`;
    const res = await post(body);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/); // not made a stream
    const seen = stack.modelBodies[0]!;
    expect(Object.getPrototypeOf(seen)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(seen, '__proto__')?.value).toEqual({ stream: true });
    expect(Object.hasOwn(seen.metadata as object, '__proto__')).toBe(true);
    expect(lastPlain()).toEqual({ model: 'sealgate-builtin' });
  });

  it('a lone surrogate escape reaches the model as that code unit, never as U+FFFD', async () => {
    const res = await post(
      '{"model":"sealgate-builtin","messages":[{"role":"user","content":"a\\ud800b\\udc00"}]}',
    );
    expect(res.status).toBe(200);
    const [message] = stack.modelBodies[0]!.messages as { content: string }[];
    expect(message!.content).toBe('a\ud800b\udc00');
    expect(stack.wire.at(-1)).not.toContain('\ufffd');
    // In `model` (the envelope's plain field, bound canonically in the AAD) it is refused.
    expect((await post(`{"model":"sealgate-builtin\\ud800",${HI}}`)).status).toBe(400);
  });

  it('a UTF-8 BOM is ignored (RFC 8259 §8.1); the sealed body is the JSON without it', async () => {
    const res = await post(`\ufeff{"model":"sealgate-builtin",${HI}}`);
    expect(res.status).toBe(200);
    expect(stack.modelBodies[0]).toEqual({
      model: 'sealgate-builtin',
      messages: [{ role: 'user', content: 'the secret prompt' }],
    });
  });
});

gatewayDescribe('hostile paths and headers: no route without its checks', () => {
  it('a path that is not a route is 404 before the key and sends nothing', async () => {
    const body = `{"model":"sealgate-builtin",${HI}}`;
    for (const path of [
      '/v1/chat/completions/',
      '//v1/chat/completions',
      '/v1/chat%2Fcompletions',
      '/V1/chat/completions',
      '/v1/chat/completions;x',
    ]) {
      const res = await post(body, path, { 'content-type': 'application/json' });
      expect(res.status, path).toBe(404);
    }
    expect(workerPosts(stack)).toEqual([]);
  });

  it('an encoded or dotted spelling of a route is that route: the key is checked and the body sealed', async () => {
    const body = `{"model":"sealgate-builtin",${HI}}`;
    for (const path of [
      '/v1/chat/completion%73',
      '/v1/x/../chat/completions',
      '/v1/x/%2e%2e/chat/completions',
    ]) {
      expect((await post(body, path, { 'content-type': 'application/json' })).status, path).toBe(401);
      expect((await post(body, `${path}?stream=true`)).status, path).toBe(200);
    }
    // Anthropic's route by another spelling still takes x-api-key and answers in its shape.
    const messages = await post(`{"model":"nope","max_tokens":5,${HI}}`, '/v1/m%65ssages', {
      'content-type': 'application/json',
      'x-api-key': env.DEV_API_KEY,
    });
    expect(messages.status).toBe(404);
    expect(await messages.json()).toMatchObject({ type: 'error', error: { code: 'model_not_found' } });
    expect(workerPosts(stack)).toHaveLength(4); // three spellings of chat, one of Messages
    expect(stack.wire.every((w) => !w.includes('secret prompt'))).toBe(true);
  });

  it('two Authorization headers, a tab after Bearer: 401; a lower-case scheme is the same key', async () => {
    const body = `{"model":"sealgate-builtin",${HI}}`;
    const two = new Headers(KEY);
    two.append('authorization', KEY.authorization);
    expect((await call(CHAT, { method: 'POST', headers: two, body })).status).toBe(401);
    const tab = { ...KEY, authorization: `Bearer\t${env.DEV_API_KEY}` };
    expect((await post(body, CHAT, tab)).status).toBe(401);
    expect(workerPosts(stack)).toEqual([]);
    expect((await post(body, CHAT, { ...KEY, authorization: `bearer ${env.DEV_API_KEY}` })).status).toBe(200);
  });
});

gatewayDescribe('headers and methods that ask for another answer than the body does', () => {
  it('accept: text/event-stream on a JSON request, Expect: 100-continue: the body decides, JSON', async () => {
    const body = `{"model":"sealgate-builtin",${HI}}`;
    const extras: Record<string, string>[] = [{ accept: 'text/event-stream' }, { expect: '100-continue' }];
    for (const extra of extras) {
      const res = await post(body, CHAT, { ...KEY, ...extra });
      expect(res.status, Object.keys(extra)[0]).toBe(200);
      expect(res.headers.get('content-type'), Object.keys(extra)[0]).toMatch(/^application\/json/);
      expect(((await res.json()) as { object: string }).object).toBe('chat.completion');
    }
  });

  it('n: 2 with stream: both choices stream, [DONE] last', async () => {
    const res = await post(`{"model":"sealgate-builtin","stream":true,"n":2,${HI}}`);
    expect(res.status).toBe(200);
    const data = (await res.text())
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => l.slice(6));
    expect(data.at(-1)).toBe('[DONE]');
    const indexes = new Set(
      data
        .slice(0, -1)
        .flatMap((d) => (JSON.parse(d) as { choices: { index: number }[] }).choices.map((c) => c.index)),
    );
    expect([...indexes].sort()).toEqual([0, 1]);
  });

  it('OPTIONS on a sealed route is only a CORS preflight: no handler, no key, nothing sent', async () => {
    const preflights: Record<string, string>[] = [
      {},
      { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    ];
    for (const headers of preflights) {
      const res = await call(CHAT, { method: 'OPTIONS', headers });
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      expect(await res.text()).toBe('');
    }
    expect(workerPosts(stack)).toEqual([]);
  });
});

gatewayDescribe('retries: the openai SDK against the gateway', () => {
  it('a retried request is a new seal the worker takes, never replay_detected; the SDK sees one answer', async () => {
    // Every worker refuses the connection for the first request: 503 no_worker_available with
    // Retry-After, which the SDK retries; the retry is sealed anew (new DEK, request id, time).
    let refused = 0;
    const router = globalThis.fetch;
    vi.stubGlobal('fetch', async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = input instanceof Request ? input.url : String(input);
      if (init?.method === 'POST' && url.startsWith('http://worker') && refused < 2) {
        refused++;
        stack.calls.push(`POST ${url}`);
        if (typeof init.body === 'string') stack.wire.push(init.body);
        throw new TypeError('test: worker down for the first request');
      }
      return await router(input, init);
    });
    const statuses: number[] = [];
    try {
      const client = new OpenAI({
        apiKey: env.DEV_API_KEY,
        baseURL: 'https://gateway.test/v1',
        maxRetries: 2,
        fetch: async (url: RequestInfo | URL, init?: RequestInit) => {
          const res = await call(new URL(String(url)).pathname, init);
          statuses.push(res.status);
          return res;
        },
      });
      const answer = await client.chat.completions.create({
        model: 'sealgate-builtin',
        messages: [{ role: 'user', content: 'the secret prompt' }],
      });
      expect(answer.choices[0]!.message.content).toContain('the secret prompt');
    } finally {
      vi.stubGlobal('fetch', router);
    }
    expect(statuses).toEqual([503, 200]);
    // Three sealed POSTs: the first request's to both workers (one seal), the retry's (another).
    const sealed = stack.wire.map((w) => JSON.parse(w) as { sealgate: { rid: string; wk: string } });
    expect(sealed).toHaveLength(3);
    expect(sealed[0]!.sealgate.wk).toBe(sealed[1]!.sealgate.wk);
    expect(sealed[2]!.sealgate.rid).not.toBe(sealed[0]!.sealgate.rid);
    expect(sealed[2]!.sealgate.wk).not.toBe(sealed[0]!.sealgate.wk);
  });
});
