/**
 * The gateway's HTTP surface inside workerd (real KV, real DO binding), without a working upstream:
 * every error in OpenAI's shape, API keys, CORS, configuration refusals, and the fail-closed 503
 * when no verified attestation service exists.
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { afterAll, afterEach, beforeEach, expect, it, vi } from 'vitest';
import { createGatewayApp } from '../../src/gateway/app.js';
import { API_KEY_CACHE_MS, resetApiKeyCache } from '../../src/gateway/kv/api-keys.js';
import { resetKeyCache } from '../../src/gateway/kv/key-cache.js';
import { FAILED_API_KEYS_PER_MINUTE, resetAuthThrottle } from '../../src/gateway/middleware/auth-throttle.js';
import worker from '../../src/gateway/worker.js';
import { manifestDigest } from '../../src/policy/manifest-digest.js';
import { callGateway as call, putApiKeyEntry, rotationState } from './do-helpers.js';
import { emptyRotationDo, env, gatewayDescribe, HAS_GATEWAY_BINDINGS } from './stack.js';

const digest = HAS_GATEWAY_BINDINGS ? await manifestDigest(env.SEALGATE_MANIFEST!) : '';

const KEY = { authorization: `Bearer ${env.DEV_API_KEY}` };
const upstream: string[] = [];

beforeEach(() => {
  resetKeyCache();
  resetApiKeyCache();
  resetAuthThrottle();
  upstream.length = 0;
  // No service and no worker: every upstream call fails, and is recorded.
  vi.stubGlobal('fetch', async (input: RequestInfo | URL) => {
    upstream.push(input instanceof Request ? input.url : String(input));
    throw new TypeError('test network: unreachable');
  });
});
afterEach(() => {
  vi.unstubAllGlobals();
});

/** Leaves the shared key-rotation DO empty and without an alarm (the sealed tests use it too). */
const wipeRotation = () => emptyRotationDo(digest);

afterAll(async () => {
  if (HAS_GATEWAY_BINDINGS) await wipeRotation();
});

async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const body = (await res.json()) as { error: Record<string, unknown> };
  expect(Object.keys(body)).toEqual(['error']);
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  expect(body.error.code).toBe(code);
  return body.error;
}

const chat = (body: unknown, headers: Record<string, string> = KEY) =>
  call('/v1/chat/completions', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

gatewayDescribe('routes and errors', () => {
  it('answers /healthz with the manifest digest and says SIMULATED', async () => {
    const res = await call('/healthz');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; manifestDigest: string; simulated: boolean };
    expect(body.status).toBe('ok');
    expect(body.manifestDigest).toMatch(/^[0-9a-f]{64}$/);
    expect(body.simulated).toBe(true);
    expect(res.headers.get('x-sealgate-manifest')).toBe(body.manifestDigest);
    expect(res.headers.get('x-sealgate-simulated')).toBe('1');
  });

  it('app.request() without an execution context: middleware and route sub-apps answer', async () => {
    const app = createGatewayApp({ fetch: (url, init) => fetch(url, init) });
    const health = await app.request('/healthz', {}, env);
    expect(health.status).toBe(200);
    expect(health.headers.get('x-sealgate-manifest')).toBe(digest);
    expect((await app.request('/v1/attestation/nonce', {}, env)).status).toBe(200);
    const noKey = await app.request('/v1/embeddings', { method: 'POST' }, env);
    await expectError(noKey, 401, 'invalid_api_key');
    const badBody = await app.request(
      '/v1/chat/completions',
      { method: 'POST', headers: { ...KEY, 'content-type': 'application/json' }, body: '{' },
      env,
    );
    await expectError(badBody, 400, 'invalid_json');
  });

  it('404 for an unknown route, in OpenAI shape, with the SIMULATED header', async () => {
    const res = await call('/v1/nothing', { headers: KEY });
    expect(res.headers.get('x-sealgate-simulated')).toBe('1');
    await expectError(res, 404, 'not_found');
  });

  it('405 with allow for a known route and another method', async () => {
    const res = await call('/v1/chat/completions', { headers: KEY });
    expect(res.headers.get('allow')).toBe('POST');
    await expectError(res, 405, 'method_not_allowed');
    const models = await call('/v1/models', { method: 'POST', headers: KEY });
    await expectError(models, 405, 'method_not_allowed');
  });

  it('401 invalid_api_key without a key, with a wrong key, and with a malformed header', async () => {
    const none = await expectError(await chat({ model: 'm' }, {}), 401, 'invalid_api_key');
    expect(none.type).toBe('authentication_error');
    await expectError(
      await chat({ model: 'm' }, { authorization: 'Bearer sk-wrong' }),
      401,
      'invalid_api_key',
    );
    await expectError(await chat({ model: 'm' }, { authorization: env.DEV_API_KEY }), 401, 'invalid_api_key');
    await expectError(
      await call('/v1/models', { headers: { authorization: 'Bearer x' } }),
      401,
      'invalid_api_key',
    );
  });

  it('never logs an API key, valid or not', async () => {
    const lines: string[] = [];
    for (const level of ['log', 'warn', 'error'] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
        lines.push(args.map(String).join(' '));
      });
    }
    try {
      await chat({ model: 'm' }, { authorization: 'Bearer sk-wrong-key-do-not-log' });
      await chat({ model: 'm', messages: [] }); // the dev key: gets as far as the empty key store
    } finally {
      vi.restoreAllMocks();
    }
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      expect(line).not.toContain('sk-wrong-key-do-not-log');
      expect(line).not.toContain(env.DEV_API_KEY);
    }
  });

  it('accepts a key registered in KV by its SHA-256 (never stored in the clear)', async () => {
    const key = 'sk-registered-0123456789';
    await putApiKeyEntry(key, { name: 'test' });
    // Past authentication, the request meets the empty key store: 503, not 401.
    const res = await chat({ model: 'm', messages: [] }, { authorization: `Bearer ${key}` });
    await expectError(res, 503, 'no_attested_service');
    expect(await env.SEALGATE_KV.get(`apikey:${key}`, 'text')).toBeNull();
  });

  it('a KV-registered key is trusted in the isolate for a while, then looked up again (revocation)', async () => {
    const key = 'sk-revoked-soon-0123456789';
    const auth = { authorization: `Bearer ${key}` };
    const kvKey = await putApiKeyEntry(key, { name: 'test' });
    await expectError(await chat({ model: 'm', messages: [] }, auth), 503, 'no_attested_service');
    await env.SEALGATE_KV.delete(kvKey);
    // Still trusted from the isolate's memory (no KV read on the request path)…
    await expectError(await chat({ model: 'm', messages: [] }, auth), 503, 'no_attested_service');
    // …until API_KEY_CACHE_MS have passed: then KV says it is gone.
    const real = Date.now.bind(Date);
    vi.spyOn(Date, 'now').mockImplementation(() => real() + API_KEY_CACHE_MS + 1000);
    try {
      await expectError(await chat({ model: 'm', messages: [] }, auth), 401, 'invalid_api_key');
    } finally {
      vi.restoreAllMocks();
    }
    // An unknown key is never remembered: registering it works at once.
    const fresh = 'sk-added-later-0123456789';
    const freshAuth = { authorization: `Bearer ${fresh}` };
    await expectError(await chat({ model: 'm', messages: [] }, freshAuth), 401, 'invalid_api_key');
    await putApiKeyEntry(fresh, {});
    await expectError(await chat({ model: 'm', messages: [] }, freshAuth), 503, 'no_attested_service');
  });

  it('415 for a body that is not application/json', async () => {
    const res = await call('/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'text/plain', ...KEY },
      body: '{"model":"m"}',
    });
    await expectError(res, 415, 'unsupported_media_type');
  });

  it('400 invalid_json for a body that is not JSON, invalid_request for one without model', async () => {
    await expectError(await chat('{"model":'), 400, 'invalid_json');
    await expectError(await chat('[1,2]'), 400, 'invalid_request');
    await expectError(await chat({ messages: [] }), 400, 'invalid_request');
  });

  it('413 for a body over the limit (counted, not taken from content-length)', async () => {
    const big = JSON.stringify({ model: 'm', pad: 'x'.repeat(4 * 1024 * 1024) });
    await expectError(await chat(big), 413, 'payload_too_large');
    // A stream without content-length is counted as it arrives.
    const bytes = new TextEncoder().encode(big);
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < bytes.length; i += 65536) c.enqueue(bytes.subarray(i, i + 65536));
        c.close();
      },
    });
    const res = await call('/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...KEY },
      body,
      duplex: 'half',
    } as RequestInit);
    await expectError(res, 413, 'payload_too_large');
  });

  it('CORS: an allowed origin gets the headers, another does not', async () => {
    const pre = await call('/v1/chat/completions', {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/authorization/);
    const post = await call('/healthz', { headers: { origin: 'https://app.example' } });
    // The SDKs' retry logic reads these; none is CORS-safelisted.
    for (const name of [
      'retry-after',
      'x-should-retry',
      'x-ratelimit-remaining-requests',
      'x-ratelimit-reset-tokens',
    ]) {
      expect(post.headers.get('access-control-expose-headers')).toContain(name);
    }
    const other = await call('/healthz', { headers: { origin: 'https://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const open = await call(
      '/healthz',
      { headers: { origin: 'https://x.example' } },
      { ...env, CORS_ORIGINS: '*' },
    );
    expect(open.headers.get('access-control-allow-origin')).toBe('*');
  });
});

gatewayDescribe('failed API keys are throttled per client', () => {
  const from = (ip: string, authorization: string) =>
    call('/v1/models', { headers: { authorization, 'cf-connecting-ip': ip } });
  beforeEach(() => resetAuthThrottle());

  it('429 with Retry-After once a client used up its failures, before its key is looked at', async () => {
    const guesser = '198.51.100.7';
    for (let i = 0; i < FAILED_API_KEYS_PER_MINUTE; i++) {
      await expectError(await from(guesser, `Bearer sk-guess-${i}`), 401, 'invalid_api_key');
    }
    // Even the valid key: the guesser learns nothing more until its bucket refills.
    for (const auth of ['Bearer sk-guess-more', KEY.authorization]) {
      const res = await from(guesser, auth);
      await expectError(res, 429, 'rate_limited');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    // Another client is not affected; the guesser's bucket refills (one failure per 3 s).
    expect((await from('198.51.100.8', KEY.authorization)).status).not.toBe(401);
    expect((await from('198.51.100.8', KEY.authorization)).status).not.toBe(429);
  });

  it('a valid key never counts: many requests with it, then the full budget of failures', async () => {
    const ip = '198.51.100.9';
    for (let i = 0; i < 3 * FAILED_API_KEYS_PER_MINUTE; i++) {
      const res = await from(ip, KEY.authorization);
      expect([401, 429]).not.toContain(res.status);
    }
    for (let i = 0; i < FAILED_API_KEYS_PER_MINUTE; i++) {
      await expectError(await from(ip, `Bearer sk-guess-${i}`), 401, 'invalid_api_key');
    }
    await expectError(await from(ip, 'Bearer sk-guess-x'), 429, 'rate_limited');
  });

  it('an IPv6 client is its /64: a new address in it per guess gets no more guesses', async () => {
    for (let i = 0; i < FAILED_API_KEYS_PER_MINUTE; i++) {
      await expectError(
        await from(`2001:db8:7:1::${(i + 1).toString(16)}`, `Bearer sk-guess-${i}`),
        401,
        'invalid_api_key',
      );
    }
    await expectError(await from('2001:DB8:7:1:ffff:1:2:3', 'Bearer sk-guess-x'), 429, 'rate_limited');
    expect((await from('2001:db8:7:2::1', KEY.authorization)).status).not.toBe(429);
  });
});

gatewayDescribe('refusing to serve', () => {
  it('503 and no upstream call when the manifest does not parse', async () => {
    const broken = { ...env, SEALGATE_MANIFEST: '{"version": 1,' };
    await expectError(await call('/healthz', {}, broken), 503, 'no_attested_service');
    await expectError(await chat({ model: 'm' }), 503, 'no_attested_service');
    expect(upstream.filter((u) => u.includes('worker'))).toEqual([]);
  });

  it('refuses a simulated manifest without SEALGATE_ALLOW_SIMULATED=1', async () => {
    const strict = { ...env, SEALGATE_ALLOW_SIMULATED: undefined };
    const res = await call('/healthz', {}, strict);
    await expectError(res, 503, 'no_attested_service');
    expect(res.headers.get('x-sealgate-simulated')).toBeNull();
  });

  it('refuses to run without GATEWAY_SECRET', async () => {
    await expectError(
      await call('/healthz', {}, { ...env, GATEWAY_SECRET: undefined }),
      503,
      'no_attested_service',
    );
  });

  it('refuses to serve with a DEV_API_KEY under 32 characters, even for that key', async () => {
    const short = 'sk-short-dev-key';
    const weak = { ...env, DEV_API_KEY: short };
    await expectError(await call('/healthz', {}, weak), 503, 'no_attested_service');
    const res = await call('/v1/models', { headers: { authorization: `Bearer ${short}` } }, weak);
    await expectError(res, 503, 'no_attested_service');
    expect(upstream).toEqual([]);
  });

  it('503 no_worker_available when no worker is configured', async () => {
    const res = await call(
      '/v1/chat/completions',
      { method: 'POST', headers: { 'content-type': 'application/json', ...KEY }, body: '{"model":"m"}' },
      { ...env, WORKER_URLS: '' },
    );
    await expectError(res, 503, 'no_worker_available');
  });

  it('the cron makes sure the key-rotation alarm exists', async () => {
    await wipeRotation();
    const ctx = createExecutionContext();
    await worker.scheduled({}, env, ctx);
    await waitOnExecutionContext(ctx);
    // The alarm is pending, or it already ran (and, the service being unreachable, failed and
    // rescheduled itself): either way the cron brought rotation back to life.
    await vi.waitFor(async () => {
      const state = await rotationState(digest);
      expect(state.alarm !== null || state.failures > 0).toBe(true);
    });
  });

  it('503 no_attested_service with no verified service: nothing is sent to any worker', async () => {
    const res = await chat({
      model: 'sealgate-builtin',
      messages: [{ role: 'user', content: 'secret prompt' }],
    });
    await expectError(res, 503, 'no_attested_service');
    expect(upstream.filter((u) => u.startsWith('http://worker'))).toEqual([]);
  });
});
