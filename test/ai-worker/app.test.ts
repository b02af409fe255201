/**
 * The worker's HTTP API through `app.request()` (Node and workerd): sealed round trips on every
 * model route with a KEK put in the ring by the test, and each refusal with its own code.
 */
import { describe, expect, it } from 'vitest';
import { createWorkerApp } from '../../src/ai-worker/app.js';
import type { WorkerLog } from '../../src/ai-worker/log.js';
import { WorkerKeys } from '../../src/ai-worker/worker-keys.js';
import { fromBase64Url, toBase64Url } from '../../src/bytes.js';
import type { Kek } from '../../src/keys/kek.js';
import { BUILTIN_MODEL_ID, createBuiltinModel } from '../../src/model/builtin.js';
import { expectError, expectSealedError, kekAt, openJson, openSse, post, seal, T } from './support.js';

const CHAT = '/v1/chat/completions';
const DIGEST = 'ab'.repeat(32);
const SECRET = 'the secret prompt text';
const chatBody = { model: BUILTIN_MODEL_ID, messages: [{ role: 'user', content: SECRET }] };

interface Setup {
  app: ReturnType<typeof createWorkerApp>;
  keys: WorkerKeys;
  logs: { level: string; message: string; detail?: Record<string, unknown> }[];
  setCertificate(der: Uint8Array | null): void;
}

async function setup(
  opts: { keys?: Kek[]; refresher?: (keys: WorkerKeys) => Promise<void>; maxBodyBytes?: number } = {},
): Promise<Setup> {
  const logs: Setup['logs'] = [];
  const log: WorkerLog = (level, message, detail) =>
    logs.push({ level, message, ...(detail ? { detail } : {}) });
  const keys = new WorkerKeys({
    minIntervalMs: 0,
    clock: () => T * 1000,
    refresher: opts.refresher ?? (async () => undefined),
  });
  for (const k of opts.keys ?? []) await keys.add(k);
  let certificate: Uint8Array | null = null;
  const app = createWorkerApp({
    keys,
    model: createBuiltinModel({ now: () => T }),
    manifestDigest: DIGEST,
    simulated: true,
    certificate: () => certificate,
    clock: () => T * 1000 + 500,
    log,
    ...(opts.maxBodyBytes ? { maxBodyBytes: opts.maxBodyBytes } : {}),
  });
  return { app, keys, logs, setCertificate: (c) => (certificate = c) };
}

describe('worker app: sealed round trips', () => {
  it('chat, not streamed: the answer opens to the built-in model’s answer, usage plain, content sealed', async () => {
    const kek = await kekAt();
    const { app } = await setup({ keys: [kek] });
    const { sealed, context } = await seal(kek, CHAT, chatBody);
    const response = await post(app, CHAT, sealed);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const text = await response.clone().text();
    expect(text).not.toContain('secret');
    expect(JSON.parse(text).usage).toEqual({ prompt_tokens: 4, completion_tokens: 11, total_tokens: 15 });
    const body = await openJson(response, context);
    expect(body.object).toBe('chat.completion');
    expect(body.choices[0].message.content).toBe(
      'You said: "the secret prompt text" Backwards: "text prompt secret the"',
    );
  });
  it('chat, streamed: the chunks sealed a burst per frame, [DONE] sealed too, then the end frame', async () => {
    const kek = await kekAt();
    const { app } = await setup({ keys: [kek] });
    const { sealed, context } = await seal(kek, CHAT, { ...chatBody, stream: true });
    const opened = await openSse(await post(app, CHAT, sealed), context);
    expect(opened.error).toBeUndefined();
    expect(Buffer.from(opened.hashed).toString('latin1')).not.toContain('secret');
    expect(opened.chunks.at(-1)).toBe('[DONE]');
    // The first chunk alone (time to first chunk), the rest in bursts: fewer frames than chunks.
    expect(opened.frames.length).toBeLessThan(opened.chunks.length);
    expect(opened.types).toEqual([...opened.types.slice(0, -1).map(() => 0), 1]); // the end record last
    const text = opened.chunks
      .slice(0, -1)
      .map((c) => JSON.parse(c).choices[0]?.delta.content ?? '')
      .join('');
    expect(text).toBe('You said: "the secret prompt text" Backwards: "text prompt secret the"');
  });
  it('completions, streamed and not', async () => {
    const kek = await kekAt();
    const { app } = await setup({ keys: [kek] });
    const body = { model: BUILTIN_MODEL_ID, prompt: 'one two' };
    const a = await seal(kek, '/v1/completions', body);
    expect((await openJson(await post(app, '/v1/completions', a.sealed), a.context)).choices[0].text).toBe(
      ' two one',
    );
    const b = await seal(kek, '/v1/completions', { ...body, stream: true });
    const opened = await openSse(await post(app, '/v1/completions', b.sealed), b.context);
    expect(opened.error).toBeUndefined();
    expect(
      opened.chunks
        .slice(0, -1)
        .map((c) => JSON.parse(c).choices[0].text)
        .join(''),
    ).toBe(' two one');
  });
  it('embeddings', async () => {
    const kek = await kekAt();
    const { app } = await setup({ keys: [kek] });
    const { sealed, context } = await seal(kek, '/v1/embeddings', {
      model: BUILTIN_MODEL_ID,
      input: 'alpha',
    });
    const body = await openJson(await post(app, '/v1/embeddings', sealed), context);
    expect(body.data[0].embedding).toHaveLength(256);
    expect(body.usage).toEqual({ prompt_tokens: 1, total_tokens: 1 });
  });
  it('models, health and the worker certificate are plain', async () => {
    const kek = await kekAt();
    const s = await setup();
    expect(await (await s.app.request('/healthz')).json()).toEqual({
      status: 'starting',
      role: 'worker',
      manifestDigest: DIGEST,
      simulated: true,
      keys: 0,
      keyIds: [],
      registered: false,
    });
    await expectError(await s.app.request('/v1/worker'), 503, 'not_ready');
    await s.keys.add(kek);
    s.setCertificate(Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x01));
    expect(await (await s.app.request('/healthz')).json()).toMatchObject({
      status: 'ok',
      keys: 1,
      keyIds: [kek.kid],
      registered: true,
    });
    const worker = (await (await s.app.request('/v1/worker')).json()) as Record<string, unknown>;
    expect(worker).toEqual({
      certificate: toBase64Url(fromBase64Url('MAMCAQE')),
      simulated: true,
      manifestDigest: DIGEST,
    });
    const models = (await (await s.app.request('/v1/models')).json()) as { data: { id: string }[] };
    expect(models.data.map((m) => m.id)).toEqual([BUILTIN_MODEL_ID]);
  });
});

describe('worker app: refusals', () => {
  it('not ready (503) before it holds a key — even for a well-formed sealed request', async () => {
    const kek = await kekAt();
    const { app } = await setup();
    const { sealed } = await seal(kek, CHAT, chatBody);
    const response = await post(app, CHAT, sealed);
    expect(response.headers.get('retry-after')).toBe('1');
    await expectError(response, 503, 'not_ready');
  });
  it('an expired key alone is not ready either', async () => {
    const old = await kekAt(T - 7200, T - 10);
    const { app } = await setup({ keys: [old] });
    await expectError(await post(app, CHAT, { model: 'x', sealgate: {} }), 503, 'not_ready');
  });
  it('plain JSON is never accepted on the sealed routes', async () => {
    const { app } = await setup({ keys: [await kekAt()] });
    for (const route of [CHAT, '/v1/completions', '/v1/embeddings']) {
      const message = await expectError(await post(app, route, chatBody), 400, 'invalid_request');
      expect(message).toBe('this route accepts only sealed requests (docs/protocol.md)');
    }
    await expectError(await post(app, CHAT, '{not json'), 400, 'invalid_json');
    await expectError(
      await post(app, CHAT, '{}', { 'content-type': 'text/plain' }),
      415,
      'unsupported_media_type',
    );
  });
  it('unknown key → one refresh, then 409 unknown_key', async () => {
    let refreshes = 0;
    const { app } = await setup({ keys: [await kekAt()], refresher: async () => void refreshes++ });
    const other = await kekAt();
    const { sealed } = await seal(other, CHAT, chatBody);
    const message = await expectError(await post(app, CHAT, sealed), 409, 'unknown_key');
    expect(message).not.toContain(other.kid);
    expect(refreshes).toBe(1);
  });
  it('unknown key that the refresh brings → answered', async () => {
    const other = await kekAt();
    const { app } = await setup({ keys: [await kekAt()], refresher: (keys) => keys.add(other) });
    const { sealed, context } = await seal(other, CHAT, chatBody);
    expect((await openJson(await post(app, CHAT, sealed), context)).object).toBe('chat.completion');
  });
  it('expired key → 409 key_expired', async () => {
    const old = await kekAt(T - 7200, T - 10);
    const { app } = await setup({ keys: [old, await kekAt()] });
    const { sealed } = await seal(old, CHAT, chatBody, T - 20);
    await expectError(await post(app, CHAT, sealed), 409, 'key_expired');
  });
  it('tampered ciphertext → 400 decryption_failed', async () => {
    const kek = await kekAt();
    const { app } = await setup({ keys: [kek] });
    const { sealed } = await seal(kek, CHAT, chatBody);
    const ct = fromBase64Url(sealed.sealgate.ct);
    ct[0]! ^= 1;
    const tampered = { ...sealed, sealgate: { ...sealed.sealgate, ct: toBase64Url(ct) } };
    const message = await expectError(await post(app, CHAT, tampered), 400, 'decryption_failed');
    expect(message).toBe("sealed request refused: decryption_failed (details are in the worker's log)");
  });
  it('a body sealed for another route, or with another model, does not open (both in the AAD)', async () => {
    const kek = await kekAt();
    const { app } = await setup({ keys: [kek] });
    const forCompletions = await seal(kek, '/v1/completions', chatBody);
    await expectError(await post(app, CHAT, forCompletions.sealed), 400, 'decryption_failed');
    const { sealed } = await seal(kek, CHAT, chatBody);
    await expectError(await post(app, CHAT, { ...sealed, model: 'gpt-other' }), 400, 'decryption_failed');
    await expectError(await post(app, CHAT, { ...sealed, stream: true }), 400, 'decryption_failed');
  });
  it('a replayed request → 409 replay_detected; a stale one too', async () => {
    const kek = await kekAt();
    const { app } = await setup({ keys: [kek] });
    const { sealed } = await seal(kek, CHAT, chatBody);
    expect((await post(app, CHAT, sealed)).status).toBe(200);
    await expectError(await post(app, CHAT, sealed), 409, 'replay_detected');
    const stale = await seal(kek, CHAT, chatBody, T - 301);
    await expectError(await post(app, CHAT, stale.sealed), 409, 'replay_detected');
  });
  it('a model this worker does not serve → 404 model_not_found, sealed (the worker opened the request)', async () => {
    const kek = await kekAt();
    const { app } = await setup({ keys: [kek] });
    const { sealed, context } = await seal(kek, CHAT, { ...chatBody, model: 'gpt-other' });
    const message = await expectSealedError(await post(app, CHAT, sealed), context, 404, 'model_not_found');
    expect(message).toBe('the model "gpt-other" is not served by this worker');
  });
  it('a sealed request the model refuses → 400 invalid_request, sealed with the model’s own message', async () => {
    const kek = await kekAt();
    const { app, logs } = await setup({ keys: [kek] });
    const { sealed, context } = await seal(kek, CHAT, {
      model: BUILTIN_MODEL_ID,
      messages: [{ role: 'x', content: SECRET }],
    });
    const response = await post(app, CHAT, sealed);
    const message = await expectSealedError(response, context, 400, 'invalid_request');
    // Inside the seal the client reads why; the hop sees a status and ciphertext.
    expect(message).toMatch(/^messages\[0\]\.role must be one of/);
    expect(JSON.stringify(logs)).not.toContain('secret');
  });
  it.each([
    [
      'a content block type',
      '/v1/messages',
      { max_tokens: 16, messages: [{ role: 'user', content: [{ type: SECRET }] }] },
    ],
    [
      'a field name',
      '/v1/messages',
      { max_tokens: 16, messages: [{ role: 'user', content: 'hi' }], [SECRET]: 1 },
    ],
    ['an input item type', '/v1/responses', { input: [{ type: SECRET }] }],
  ])(
    'a translation’s refusal naming %s of the request reaches its client sealed, never the log',
    async (_who, route, body) => {
      const kek = await kekAt();
      const { app, logs } = await setup({ keys: [kek] });
      const { sealed, context } = await seal(kek, route, { model: BUILTIN_MODEL_ID, ...body });
      const message = await expectSealedError(
        await post(app, route, sealed),
        context,
        400,
        'invalid_request',
      );
      expect(message).toContain(SECRET);
      expect(logs.some((l) => l.detail?.code === 'invalid_argument')).toBe(true);
      expect(JSON.stringify(logs)).not.toContain('secret');
    },
  );
  it('too large → 413; wrong method → 405 with Allow; unknown path → 404', async () => {
    const { app } = await setup({ keys: [await kekAt()], maxBodyBytes: 64 });
    await expectError(await post(app, CHAT, { model: 'x', pad: 'y'.repeat(100) }), 413, 'payload_too_large');
    const r = await app.request(CHAT);
    expect(r.headers.get('allow')).toBe('POST');
    await expectError(r, 405, 'method_not_allowed');
    const missing = await app.request('/v1/nothing');
    expect(missing.headers.get('cache-control')).toBe('no-store');
    await expectError(missing, 404, 'not_found');
    expect((await app.request('/healthz')).headers.get('cache-control')).toBe('no-store');
  });
});
