/**
 * Per-key limits and budgets (docs/gateway.md "Limits and budgets") through the gateway Worker, the
 * REAL worker and its built-in model, Miniflare's Workers Rate Limiting binding and the real
 * KeyUsage Durable Object: OpenAI's headers on a limited key's answers, 429 `rate_limit_exceeded`
 * with Retry-After over a request or token rate, 429 `insufficient_quota` over a budget (in
 * Anthropic's error shape on /v1/messages), streamed answers counted without `include_usage`, the
 * standing read off the request path.
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { afterAll, beforeAll, beforeEach, expect, it, vi } from 'vitest';
import { hashApiKey, resetApiKeyCache } from '../../src/gateway/kv/api-keys.js';
import type { KeyLimits } from '../../src/gateway/limits/key-limits.js';
import { resetStandingCache, STANDING_REFRESH_MS } from '../../src/gateway/limits/standing-cache.js';
import worker from '../../src/gateway/worker.js';
import { runRotation, startFreshStack } from './do-helpers.js';
import { advance, env, gatewayDescribe, HAS_GATEWAY_BINDINGS, type Stack } from './stack.js';

const CHAT = { model: 'sealgate-builtin', messages: [{ role: 'user', content: 'hi there' }] };
const MESSAGE = { ...CHAT, max_tokens: 64 };
let stack: Stack;
let n = 0;

/** A new API key with `limits`, registered in KV as `sealgate apikey create` writes it. */
async function limitedKey(
  limits: KeyLimits | Record<string, unknown>,
): Promise<{ key: string; hash: string }> {
  n += 1;
  const key = `sk-sealgate-limits-test-${n}-${crypto.randomUUID()}`;
  const hash = await hashApiKey(key);
  await env.SEALGATE_KV.put(`apikey:${hash}`, JSON.stringify({ name: `t${n}`, limits }));
  return { key, hash };
}

/**
 * One request through the Worker; the body is read BEFORE its `waitUntil` work is awaited (a
 * stream's usage settles when the client has read it), then that work is awaited.
 */
async function send(
  path: string,
  key: string,
  body: unknown,
  e: typeof env = env,
): Promise<{ res: Response; text: string }> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(
    new Request(`https://gateway.test${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify(body),
    }),
    e,
    ctx,
  );
  const text = await res.text();
  await waitOnExecutionContext(ctx);
  return { res, text };
}

function usageOf(hash: string) {
  const ns = env.KEY_USAGE!;
  return ns.get(ns.idFromName(hash)).standing();
}

beforeAll(async () => {
  if (!HAS_GATEWAY_BINDINGS) return;
  stack = await startFreshStack();
  await runRotation(stack.dev.manifestDigest);
  advance(6);
  await stack.session.keys.refresh();
});
beforeEach(() => {
  resetApiKeyCache();
  resetStandingCache();
});
afterAll(() => {
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
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
    // A hand-edited entry with a typo (a trailing comma) is not JSON: its rpm must not become none.
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
    const usage = asked.text
      .split('\n')
      .filter((l) => l.startsWith('data: {'))
      .map((l) => JSON.parse(l.slice(6)) as { usage?: { total_tokens: number } | null })
      .find((c) => c.usage)?.usage;
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
    const usage = asked.text
      .split('\n')
      .filter((l) => l.startsWith('data: {'))
      .map((l) => JSON.parse(l.slice(6)) as { usage?: { total_tokens: number } | null })
      .find((c) => c.usage)?.usage;
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

  it('a client that leaves a stream is charged once: at least one token, never more than the whole answer', async () => {
    // Round 7: an SDK abort mid-stream leaves no half-state — the meter settles once, through
    // waitUntil, and the KeyUsage DO answers the next request as before.
    const { key, hash } = await limitedKey({ budgetTokens: 1_000_000, budgetPeriod: 'day' });
    const streamed = { ...CHAT, stream: true };
    const open = async () => {
      const ctx = createExecutionContext();
      const res = await worker.fetch(
        new Request('https://gateway.test/v1/chat/completions', {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
          body: JSON.stringify(streamed),
        }),
        env,
        ctx,
      );
      expect(res.status).toBe(200);
      return { res, ctx };
    };
    const before = await open(); // gone before its first byte
    await before.res.body!.cancel();
    await waitOnExecutionContext(before.ctx);
    expect((await usageOf(hash)).dayTokens).toBe(1);
    const after = await open(); // gone after its first chunk
    const reader = after.res.body!.getReader();
    expect((await reader.read()).done).toBe(false);
    await reader.cancel();
    await waitOnExecutionContext(after.ctx);
    const partial = (await usageOf(hash)).dayTokens - 1;
    expect(partial).toBeGreaterThanOrEqual(1);
    const whole = await send('/v1/chat/completions', key, streamed); // read to its end
    expect(whole.text).toContain('data: [DONE]');
    const full = (await usageOf(hash)).dayTokens - 1 - partial;
    expect(partial).toBeLessThanOrEqual(full);
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
