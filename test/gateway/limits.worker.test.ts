/**
 * Per-key limits and budgets (docs/gateway.md "Limits and budgets") through the gateway Worker, the
 * REAL worker and its built-in model, Miniflare's Workers Rate Limiting binding and the real
 * KeyUsage Durable Object: OpenAI's headers on a limited key's answers, 429 `rate_limit_exceeded`
 * with Retry-After over a request or token rate, 429 `insufficient_quota` over a budget (in
 * Anthropic's error shape on /v1/messages), streamed answers counted without `include_usage`, the
 * standing read off the request path.
 */

import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import Anthropic from '@anthropic-ai/sdk';
import { streamText } from 'ai';
import OpenAI from 'openai';
import { afterAll, beforeEach, expect, it, vi } from 'vitest';
import { hashApiKey, resetApiKeyCache } from '../../src/gateway/kv/api-keys.js';
import type { KeyLimits } from '../../src/gateway/limits/key-limits.js';
import { resetStandingCache, STANDING_REFRESH_MS } from '../../src/gateway/limits/standing-cache.js';
import { AUDIO_TOKENS_PER_SECOND } from '../../src/gateway/limits/usage-meter.js';
import { DRAIN_MS, KEEPALIVE_MS } from '../../src/gateway/sealing/stream-answer.js';
import worker from '../../src/gateway/worker.js';
import { putApiKey, sendWithKey as send, stackPerFile, keyStanding as usageOf } from './do-helpers.js';
import { advance, awayFromMinuteEnd, env, gatewayDescribe, type Stack, sseObjects } from './stack.js';

const CHAT = { model: 'sealgate-builtin', messages: [{ role: 'user', content: 'hi there' }] };
const MESSAGE = { ...CHAT, max_tokens: 64 };
let stack: Stack;

/** A new API key with `limits`. */
const limitedKey = (limits: KeyLimits | Record<string, unknown>) => putApiKey('limits-test', limits);

/** The usage a chat stream's usage chunk reports (`stream_options.include_usage`). */
const reportedUsage = (text: string) =>
  sseObjects(text).find((c) => c.usage)?.usage as { total_tokens: number } | undefined;

/** A streamed request whose answer the caller reads (or leaves) itself; `ctx` holds its waitUntil work. */
async function openStream(
  key: string,
  body: unknown,
): Promise<{ res: Response; ctx: ReturnType<typeof createExecutionContext> }> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(
    new Request('https://gateway.test/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify(body),
    }),
    env,
    ctx,
  );
  expect(res.status).toBe(200);
  return { res, ctx };
}

stackPerFile({ keyed: true, secondsAfterRotation: 6 }, (s) => {
  stack = s;
});
beforeEach(() => {
  resetApiKeyCache();
  resetStandingCache();
  awayFromMinuteEnd();
});

gatewayDescribe('requests per minute (Workers Rate Limiting binding)', () => {
  it('answers 429 rate_limit_exceeded with Retry-After over the rate, OpenAI headers on every answer', async () => {
    const { key } = await limitedKey({ rpm: 6 }); // 1 request per 10 s window
    // Three requests inside 10 s span at most two windows: at least one is over the limit.
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await send('/v1/chat/completions', key, CHAT));
    const ok = answers.filter((a) => a.res.status === 200);
    const refused = answers.filter((a) => a.res.status === 429);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    for (const { res } of [...ok, ...refused]) {
      expect(res.headers.get('x-ratelimit-limit-requests')).toBe('6');
      expect(res.headers.get('x-ratelimit-remaining-requests')).toMatch(/^\d+$/);
      expect(res.headers.get('x-ratelimit-reset-requests')).toMatch(/^\d+s$/);
      expect(res.headers.get('x-ratelimit-limit-tokens')).toBeNull(); // no tpm: no tokens trio
    }
    const { res, text } = refused[0]!;
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(res.headers.get('retry-after'))).toBeLessThanOrEqual(10);
    expect(JSON.parse(text)).toMatchObject({
      error: { code: 'rate_limit_exceeded', type: 'rate_limit_error' },
    });
  });

  it('leaves an unlimited key without rate-limit headers', async () => {
    const { key } = await limitedKey({});
    const { res } = await send('/v1/chat/completions', key, CHAT);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-ratelimit-limit-requests')).toBeNull();
  });

  it('refuses a key whose limits it cannot read (never treats them as none)', async () => {
    const { key } = await limitedKey({ rpm: 'lots' });
    const { res } = await send('/v1/chat/completions', key, CHAT);
    expect(res.status).toBe(401);
    // An entry edited by hand (here with a typo: a trailing comma) does not authenticate: its rpm
    // must not become none.
    const typo = `sk-sealgate-limits-typo-${crypto.randomUUID()}`;
    await env.SEALGATE_KV.put(`apikey:${await hashApiKey(typo)}`, '{"name":"t","limits":{"rpm":6},}');
    const refused = await send('/v1/chat/completions', typo, CHAT);
    expect(refused.res.status).toBe(401);
    expect(JSON.parse(refused.text)).toMatchObject({ error: { code: 'invalid_api_key' } });
  });
});

gatewayDescribe('a limit the Worker cannot enforce', () => {
  it('refuses the key (500, nothing sent to a worker) rather than serve it unlimited', async () => {
    const metered = await limitedKey({ tpm: 1000 });
    const rated = await limitedKey({ rpm: 6 });
    const calls = stack.calls.length;
    const noUsage = await send('/v1/chat/completions', metered.key, CHAT, { ...env, KEY_USAGE: undefined });
    const noBinding = await send('/v1/chat/completions', rated.key, CHAT, {
      ...env,
      RPM_6: undefined,
    } as typeof env);
    for (const { res, text } of [noUsage, noBinding]) {
      expect(res.status).toBe(500);
      expect(JSON.parse(text)).toMatchObject({ error: { code: 'internal_error' } });
    }
    expect(stack.calls.slice(calls).filter((c) => c.includes('/v1/chat'))).toEqual([]);
  });
});

gatewayDescribe('tokens per minute and budgets (KeyUsage Durable Object, settled off the path)', () => {
  it('counts a JSON answer’s usage, then refuses over the tpm until the minute ends', async () => {
    const { key, hash } = await limitedKey({ tpm: 8 });
    const first = await send('/v1/chat/completions', key, CHAT);
    expect(first.res.status).toBe(200);
    const used = JSON.parse(first.text).usage.total_tokens as number;
    expect(used).toBeGreaterThanOrEqual(8);
    expect(first.res.headers.get('x-ratelimit-limit-tokens')).toBe('8');
    expect((await usageOf(hash)).minuteTokens).toBe(used);
    const second = await send('/v1/chat/completions', key, CHAT);
    expect(second.res.status).toBe(429);
    expect(JSON.parse(second.text)).toMatchObject({ error: { code: 'rate_limit_exceeded' } });
    expect(second.res.headers.get('x-ratelimit-remaining-tokens')).toBe('0');
    expect(Number(second.res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    advance(60); // the next minute: the tpm window is empty again
    expect((await send('/v1/chat/completions', key, CHAT)).res.status).toBe(200);
  });

  it('refuses over the budget with insufficient_quota and x-should-retry: false', async () => {
    const { key } = await limitedKey({ budgetTokens: 5, budgetPeriod: 'month' });
    expect(
      (await send('/v1/embeddings', key, { model: 'sealgate-builtin', input: 'a b c d e f' })).res.status,
    ).toBe(200);
    const over = await send('/v1/chat/completions', key, CHAT);
    expect(over.res.status).toBe(429);
    expect(over.res.headers.get('x-should-retry')).toBe('false');
    expect(over.res.headers.get('x-sealgate-budget-remaining-tokens')).toBe('0');
    expect(JSON.parse(over.text)).toMatchObject({ error: { code: 'insufficient_quota' } });
  });

  it('counts a transcription billed by duration at 50 tokens a second of audio', async () => {
    const { key, hash } = await limitedKey({ budgetTokens: 1_000_000, budgetPeriod: 'day' });
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(3 * 32_000)], { type: 'audio/wav' }), 'a.wav');
    form.append('model', 'sealgate-builtin');
    const ctx = createExecutionContext();
    const res = await worker.fetch(
      new Request('https://gateway.test/v1/audio/transcriptions', {
        method: 'POST',
        headers: { authorization: `Bearer ${key}` },
        body: form,
      }),
      env,
      ctx,
    );
    expect(await res.json()).toMatchObject({ usage: { type: 'duration', seconds: 3 } });
    await waitOnExecutionContext(ctx);
    expect((await usageOf(hash)).minuteTokens).toBe(3 * AUDIO_TOKENS_PER_SECOND);
  });

  it('answers Anthropic’s error shape on /v1/messages', async () => {
    const { key } = await limitedKey({ budgetTokens: 1, budgetPeriod: 'day' });
    expect((await send('/v1/messages', key, MESSAGE)).res.status).toBe(200);
    const over = await send('/v1/messages', key, MESSAGE);
    expect(over.res.status).toBe(429);
    expect(JSON.parse(over.text)).toMatchObject({
      type: 'error',
      error: { type: 'rate_limit_error', code: 'insufficient_quota' },
    });
  });

  it('counts a chat stream whose client did not ask for usage, and withholds the usage chunk', async () => {
    const { key, hash } = await limitedKey({ budgetTokens: 1_000_000, budgetPeriod: 'day' });
    const { res, text } = await send('/v1/chat/completions', key, { ...CHAT, stream: true });
    expect(res.status).toBe(200);
    const payloads = text
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => l.slice(6));
    expect(payloads.at(-1)).toBe('[DONE]');
    const chunks = payloads.slice(0, -1).map((p) => JSON.parse(p) as { choices: unknown[]; usage?: unknown });
    expect(chunks.every((c) => c.choices.length > 0)).toBe(true); // no usage-only chunk
    expect(chunks.some((c) => c.usage)).toBe(false);
    const standing = await usageOf(hash);
    expect(standing.dayTokens).toBeGreaterThan(0);
    // The same request unmetered reports the same count when asked for it.
    const asked = await send('/v1/chat/completions', env.DEV_API_KEY, {
      ...CHAT,
      stream: true,
      stream_options: { include_usage: true },
    });
    const usage = reportedUsage(asked.text);
    expect(standing.dayTokens).toBe(usage?.total_tokens);
  });

  it('counts a chat stream sent with stream_options: null in full, its prompt included', async () => {
    const { key, hash } = await limitedKey({ budgetTokens: 1_000_000, budgetPeriod: 'day' });
    const long = { ...CHAT, messages: [{ role: 'user', content: 'word '.repeat(200) }], stream: true };
    const { text } = await send('/v1/chat/completions', key, { ...long, stream_options: null });
    expect(text).toContain('data: [DONE]');
    const asked = await send('/v1/chat/completions', env.DEV_API_KEY, {
      ...long,
      stream_options: { include_usage: true },
    });
    const usage = reportedUsage(asked.text);
    expect(usage?.total_tokens).toBeGreaterThan(200);
    expect((await usageOf(hash)).dayTokens).toBe(usage?.total_tokens);
  });

  it("a metered stream with a non-boolean include_usage gets the model server's refusal, not a rewrite", async () => {
    // Without the check, `prepare` overwrote "yes" with true, so the client's error was
    // hidden (and its usage chunk withheld) where the model server would have refused it.
    const { key } = await limitedKey({ budgetTokens: 1_000_000, budgetPeriod: 'day' });
    const { res, text } = await send('/v1/chat/completions', key, {
      ...CHAT,
      stream: true,
      stream_options: { include_usage: 'yes' },
    });
    expect(res.status).toBe(400);
    // The model's own words, sealed from the worker to the gateway (docs/protocol.md).
    expect(JSON.parse(text)).toMatchObject({
      error: { code: 'invalid_request', message: 'stream_options.include_usage must be a boolean' },
    });
  });

  it('a client that leaves a stream is charged its whole usage: the gateway reads on to it', async () => {
    // The usage comes last: charged only what reached the client, leaving before the usage event
    // made a long prompt nearly free. The meter settles once, through waitUntil, either way.
    const { key, hash } = await limitedKey({ budgetTokens: 1_000_000, budgetPeriod: 'day' });
    const long = { ...CHAT, messages: [{ role: 'user', content: 'word '.repeat(300) }], stream: true };
    const asked = await send('/v1/chat/completions', env.DEV_API_KEY, {
      ...long,
      stream_options: { include_usage: true },
    });
    const whole = reportedUsage(asked.text)?.total_tokens;
    expect(whole).toBeGreaterThan(300);
    const before = await openStream(key, long); // gone before its first byte
    await before.res.body!.cancel();
    await waitOnExecutionContext(before.ctx);
    expect((await usageOf(hash)).dayTokens).toBe(whole);
    const after = await openStream(key, long); // gone after its first chunk
    const reader = after.res.body!.getReader();
    expect((await reader.read()).done).toBe(false);
    await reader.cancel();
    await waitOnExecutionContext(after.ctx);
    expect((await usageOf(hash)).dayTokens).toBe(2 * whole!);
  });

  it('counts Messages and Responses streams from their own usage events', async () => {
    const { key, hash } = await limitedKey({ tpm: 1_000_000 });
    const m = await send('/v1/messages', key, { ...MESSAGE, stream: true });
    expect(m.text).toContain('message_stop');
    const afterMessages = (await usageOf(hash)).minuteTokens;
    expect(afterMessages).toBeGreaterThan(0);
    const r = await send('/v1/responses', key, {
      model: 'sealgate-builtin',
      input: 'hi there',
      stream: true,
    });
    expect(r.text).toContain('response.completed');
    expect((await usageOf(hash)).minuteTokens).toBeGreaterThan(afterMessages);
  });

  it('counts a translated Messages stream’s prompt: its input tokens come in message_delta', async () => {
    const { key, hash } = await limitedKey({ tpm: 1_000_000 });
    const m = await send('/v1/messages', key, { ...MESSAGE, stream: true });
    const delta = m.text
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map(
        (l) =>
          JSON.parse(l.slice(6)) as { type: string; usage?: { input_tokens: number; output_tokens: number } },
      )
      .find((e) => e.type === 'message_delta');
    expect(delta?.usage?.input_tokens).toBeGreaterThan(0);
    expect((await usageOf(hash)).minuteTokens).toBe(delta!.usage!.input_tokens + delta!.usage!.output_tokens);
  });

  it('reads the standing off the request path: a new isolate learns an over-budget key one request late', async () => {
    const { key, hash } = await limitedKey({ budgetTokens: 1, budgetPeriod: 'day' });
    expect((await send('/v1/chat/completions', key, CHAT)).res.status).toBe(200);
    expect((await usageOf(hash)).dayTokens).toBeGreaterThan(1);
    resetStandingCache(); // as an isolate that has never seen this key
    // Served from what the isolate knows (nothing), without waiting; the refresh runs in waitUntil.
    expect((await send('/v1/chat/completions', key, CHAT)).res.status).toBe(200);
    expect((await send('/v1/chat/completions', key, CHAT)).res.status).toBe(429);
    expect(STANDING_REFRESH_MS).toBeGreaterThan(0);
  });
});

/** A chat completion the model server answers, with `usage` as given (JSON text, as the server sent it). */
const chatAnswer = (usage: string) =>
  `{"id":"c","object":"chat.completion","model":"sealgate-builtin","choices":[{"index":0,"message":{"role":"assistant","content":"n"},"finish_reason":"stop"}],"usage":${usage}}`;
const chatChunk = (rest: string) =>
  `{"id":"c","object":"chat.completion.chunk","model":"sealgate-builtin",${rest}}`;

gatewayDescribe('a model server’s count that is no honest count (src/api/token-count.ts)', () => {
  /** The tokens the key was charged for one request on `path` while the model server answers as set. */
  async function charged(path: string, body: unknown, model: { json?: string; stream?: string[] }) {
    const { key, hash } = await limitedKey({ tpm: 1_000_000 });
    stack.modelJson = model.json;
    stack.modelStream = model.stream;
    try {
      const { res } = await send(path, key, body);
      expect(res.status).toBe(200);
      return (await usageOf(hash)).minuteTokens;
    } finally {
      stack.modelJson = undefined;
      stack.modelStream = undefined;
    }
  }
  const RESPONSES = { model: 'sealgate-builtin', input: 'hi there' };

  it('a fractional count is rounded up, directly and through both translations', async () => {
    const json = chatAnswer('{"prompt_tokens":2.5,"completion_tokens":1.5,"total_tokens":4.5}');
    expect(await charged('/v1/chat/completions', CHAT, { json })).toBe(5);
    expect(await charged('/v1/messages', MESSAGE, { json })).toBe(5); // input 3 + output 2
    expect(await charged('/v1/responses', RESPONSES, { json })).toBe(5); // total_tokens 4.5
  });

  it('a negative count exhausts the key’s minute, never makes the answer cheaper', async () => {
    const json = chatAnswer('{"prompt_tokens":-5,"completion_tokens":3,"total_tokens":-2}');
    for (const [path, body] of [
      ['/v1/chat/completions', CHAT],
      ['/v1/messages', MESSAGE],
      ['/v1/responses', RESPONSES],
    ] as const) {
      // The key's usage object takes at most MAX_TOKENS_PER_RECORD (2^32) per record.
      expect(await charged(path, body, { json })).toBe(2 ** 32);
    }
  });

  it('a stream’s negative or fractional usage, translated to Messages and Responses events', async () => {
    const stream = (usage: string) => [
      chatChunk('"choices":[{"index":0,"delta":{"content":"n"},"finish_reason":"stop"}]'),
      chatChunk(`"choices":[],"usage":${usage}`),
      '[DONE]',
    ];
    const negative = stream('{"prompt_tokens":-5,"completion_tokens":3,"total_tokens":-2}');
    const fractional = stream('{"prompt_tokens":2.5,"completion_tokens":1.5,"total_tokens":4.5}');
    for (const [path, body] of [
      ['/v1/messages', { ...MESSAGE, stream: true }],
      ['/v1/responses', { ...RESPONSES, stream: true }],
    ] as const) {
      expect(await charged(path, body, { stream: negative })).toBe(2 ** 32);
      expect(await charged(path, body, { stream: fractional })).toBe(5);
    }
  });
});

gatewayDescribe('a stream its client left, and answers without usage (limits/usage-meter.ts)', () => {
  const STREAMED = { ...CHAT, stream: true };
  /** What the meter estimates a prompt at: the UTF-8 bytes of the body sealed (usage asked for). */
  const sealedBytes = (body: object) =>
    new TextEncoder().encode(JSON.stringify({ ...body, stream_options: { include_usage: true } })).length;
  const content = (text: string) => chatChunk(`"choices":[{"index":0,"delta":{"content":"${text}"}}]`);
  const usage = chatChunk(
    '"choices":[],"usage":{"prompt_tokens":5000,"completion_tokens":3,"total_tokens":5003}',
  );

  afterAll(() => {
    stack.modelStream = undefined;
    stack.modelStreamHangs = false;
    stack.modelJson = undefined;
  });

  it('reads on after the client left, to a usage that comes long after its last content', async () => {
    const { key, hash } = await limitedKey({ budgetTokens: 1_000_000, budgetPeriod: 'day' });
    stack.modelStream = [content('a'), content('b'), content('c'), usage, '[DONE]'];
    const left = await openStream(key, STREAMED);
    const reader = left.res.body!.getReader();
    expect((await reader.read()).done).toBe(false);
    await reader.cancel();
    await waitOnExecutionContext(left.ctx);
    expect((await usageOf(hash)).dayTokens).toBe(5003);
  });

  it('a server that reports no usage: the prompt’s bytes plus one token per event', async () => {
    const { key, hash } = await limitedKey({ budgetTokens: 1_000_000, budgetPeriod: 'day' });
    stack.modelStream = [content('a'), content('b'), '[DONE]'];
    const { text } = await send('/v1/chat/completions', key, STREAMED);
    expect(text).toContain('data: [DONE]');
    expect((await usageOf(hash)).dayTokens).toBe(sealedBytes(STREAMED) + 2);
  });

  it('a JSON answer without usage: the request’s bytes plus the answer’s', async () => {
    const { key, hash } = await limitedKey({ budgetTokens: 1_000_000, budgetPeriod: 'day' });
    stack.modelJson =
      '{"id":"c","object":"chat.completion","model":"sealgate-builtin","choices":[{"index":0,"message":{"role":"assistant","content":"n"},"finish_reason":"stop"}]}';
    const { res, text } = await send('/v1/chat/completions', key, CHAT);
    expect(res.status).toBe(200);
    const charged = (await usageOf(hash)).dayTokens;
    expect(charged).toBe(JSON.stringify(CHAT).length + new TextEncoder().encode(text).length);
  });

  it('a client still reading a silent model gets an SSE comment, then the rest of the stream', async () => {
    const { key } = await limitedKey({ budgetTokens: 1_000_000, budgetPeriod: 'day' });
    stack.modelStream = [content('a')];
    stack.modelStreamHangs = true;
    const open = await openStream(key, STREAMED);
    const reader = open.res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toContain('"content":"a"');
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let next: ReadableStreamReadResult<Uint8Array>;
    try {
      const pending = reader.read();
      await vi.advanceTimersByTimeAsync(KEEPALIVE_MS + 100);
      next = await pending;
      await reader.cancel(); // and the drain it starts, cut at DRAIN_MS
      await vi.advanceTimersByTimeAsync(KEEPALIVE_MS + DRAIN_MS + 2_000);
    } finally {
      vi.useRealTimers();
    }
    expect(new TextDecoder().decode(next.value)).toBe(': keep-alive\n\n');
    await waitOnExecutionContext(open.ctx);
    stack.modelStreamHangs = false;
  });

  it.each(['openai', '@anthropic-ai/sdk', 'ai'])(
    '%s reads a stream whose model went silent past KEEPALIVE_MS, keep-alive and all',
    async (sdk) => {
      const { key, hash } = await limitedKey({ budgetTokens: 1_000_000, budgetPeriod: 'day' });
      const stop = chatChunk('"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]');
      stack.modelStream = [content('a'), content('b'), stop, usage, '[DONE]'];
      let resume!: () => void;
      stack.modelStreamPause = new Promise<void>((r) => (resume = r));
      const ctx = createExecutionContext();
      let wire = '';
      // The SDK's fetch: the gateway Worker, every byte it sends recorded on the way to the SDK.
      const gateway = async (input: RequestInfo | URL, init?: RequestInit) => {
        const res = await worker.fetch(
          new Request(`https://gateway.test${new URL(String(input)).pathname}`, init),
          env,
          ctx,
        );
        const record = new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, c) {
            wire += new TextDecoder().decode(chunk);
            c.enqueue(chunk);
          },
        });
        return new Response(res.body!.pipeThrough(record), res);
      };
      const texts: string[] = [];
      const auth = { apiKey: key, maxRetries: 0, fetch: gateway };
      const messages = [{ role: 'user' as const, content: 'hi there' }];
      const events: AsyncIterable<unknown> =
        sdk === 'openai'
          ? await new OpenAI({ ...auth, baseURL: 'https://gateway.test/v1' }).chat.completions.create({
              model: CHAT.model,
              messages,
              stream: true,
            })
          : sdk === 'ai'
            ? streamText({
                model: createOpenAICompatible({ name: 'g', baseURL: 'https://gateway.test/v1', ...auth })(
                  CHAT.model,
                ),
                prompt: 'hi there',
                maxRetries: 0,
              }).textStream
            : await new Anthropic({ ...auth, baseURL: 'https://gateway.test' }).messages.create({
                model: CHAT.model,
                max_tokens: 64,
                messages,
                stream: true,
              });
      const iterator = events[Symbol.asyncIterator]();
      const textOf = (e: unknown): string | undefined => {
        if (typeof e === 'string') return e; // the ai SDK's textStream
        const x = e as { choices?: { delta?: { content?: string } }[]; delta?: { text?: string } };
        return x.choices?.[0]?.delta?.content ?? x.delta?.text;
      };
      // Up to the first text, then the model is silent: the relay writes the keep-alive.
      let first: string | undefined;
      while (first === undefined) first = textOf((await iterator.next()).value);
      texts.push(first);
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      let pending: Promise<IteratorResult<unknown>>;
      try {
        pending = iterator.next();
        await vi.advanceTimersByTimeAsync(KEEPALIVE_MS + 100);
      } finally {
        // The rest (and the meter's settlement batch) on real timers.
        vi.useRealTimers();
      }
      expect(wire).toContain('\n\n: keep-alive\n\n');
      resume();
      stack.modelStreamPause = undefined;
      for (let next = await pending; !next.done; next = await iterator.next()) {
        const text = textOf(next.value);
        if (text !== undefined) texts.push(text);
      }
      expect(texts).toEqual(['a', 'b']);
      await waitOnExecutionContext(ctx);
      expect((await usageOf(hash)).dayTokens).toBe(5003);
    },
  );

  it('a client that left a silent model is found by a keep-alive; cut DRAIN_MS later, estimated', async () => {
    const { key, hash } = await limitedKey({ budgetTokens: 1_000_000, budgetPeriod: 'day' });
    stack.modelStream = [content('a')];
    stack.modelStreamHangs = true;
    const left = await openStream(key, STREAMED);
    const reader = left.res.body!.getReader();
    expect((await reader.read()).done).toBe(false);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      await reader.cancel();
      for (let i = 0; i < 50; i++) await new Promise<void>((r) => queueMicrotask(r));
      await vi.advanceTimersByTimeAsync(KEEPALIVE_MS + DRAIN_MS + 2_000);
    } finally {
      vi.useRealTimers();
    }
    await waitOnExecutionContext(left.ctx);
    expect((await usageOf(hash)).dayTokens).toBe(sealedBytes(STREAMED) + 1);
  });
});
