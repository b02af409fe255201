/**
 * Bad HTTP input and replays at the AI worker (`app.request`, Node and workerd): each refusal is
 * OpenAI's error JSON with its status, and the model is never called for it (the built-in model,
 * counted). Replays: the same sealed request twice → 409 replay_detected; one older than the
 * window → refused even by a fresh process whose guard never saw it; one dated beyond the skew →
 * refused; and the guard's memory is bounded and outlives no request the window still accepts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createWorkerApp } from '../../src/ai-worker/app.js';
import { WorkerKeys } from '../../src/ai-worker/worker-keys.js';
import { MemoryReplayGuard } from '../../src/envelope/replay-guard.js';
import { openRequest, sealRequest } from '../../src/envelope/request.js';
import { isSealgateError } from '../../src/errors.js';
import { KeyRing } from '../../src/keys/key-ring.js';
import { BUILTIN_MODEL_ID, createBuiltinModel } from '../../src/model/builtin.js';
import type { ModelBackend } from '../../src/model/types.js';
import { expectError, expectSealedError, kekAt, post, seal, T } from './support.js';

const CHAT = '/v1/chat/completions';
const chatBody = { model: BUILTIN_MODEL_ID, messages: [{ role: 'user', content: 'the secret prompt' }] };

async function setup(opts: { now?: number; maxBodyBytes?: number } = {}) {
  const kek = await kekAt();
  const keys = new WorkerKeys({ minIntervalMs: 0, clock: () => T * 1000, refresher: async () => undefined });
  await keys.add(kek);
  const inner = createBuiltinModel({ now: () => T });
  let modelCalls = 0;
  const model: ModelBackend = {
    description: inner.description,
    listModels: (signal) => inner.listModels(signal),
    servesModel: (m) => inner.servesModel(m),
    call: (route, req) => {
      modelCalls++;
      return inner.call(route, req);
    },
  };
  const clock = { now: opts.now ?? T };
  const app = createWorkerApp({
    keys,
    model,
    manifestDigest: 'ab'.repeat(32),
    simulated: true,
    certificate: () => null,
    clock: () => clock.now * 1000,
    log: () => undefined,
    ...(opts.maxBodyBytes ? { maxBodyBytes: opts.maxBodyBytes } : {}),
  });
  return { app, kek, clock, modelCalls: () => modelCalls };
}

function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(c) {
      if (i < chunks.length) c.enqueue(chunks[i++]!);
      else c.close();
    },
  });
}

describe('worker: bad HTTP input is refused before the model', () => {
  it('malformed JSON, non-objects, plain (unsealed) bodies, wrong content types', async () => {
    const { app, kek, modelCalls } = await setup();
    for (const body of ['{"sealgate":', '', 'nul', "{'a':1}"]) {
      await expectError(await post(app, CHAT, body), 400, 'invalid_json');
    }
    const bad = await app.request(CHAT, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new Uint8Array([0x7b, 0xff, 0x7d]),
    });
    await expectError(bad, 400, 'invalid_json');
    for (const body of ['[1]', '"s"', '1', 'null', JSON.stringify(chatBody)]) {
      await expectError(await post(app, CHAT, body), 400, 'invalid_request');
    }
    const { sealed } = await seal(kek, CHAT, chatBody);
    for (const type of ['text/plain', 'application/jsonx', 'multipart/form-data', '']) {
      await expectError(
        await post(app, CHAT, sealed, { 'content-type': type }),
        415,
        'unsupported_media_type',
      );
    }
    // Plain fields of the wrong type are part of the authenticated envelope: decryption_failed.
    for (const edit of [{ stream: 'yes' }, { stream: 1 }, { max_tokens: -1 }, { n: '2' }, { extra: 1 }]) {
      await expectError(await post(app, CHAT, { ...sealed, ...edit }), 400, 'decryption_failed');
    }
    expect(modelCalls()).toBe(0);
  });

  it('oversized bodies → 413, whatever content-length says (or when it is absent)', async () => {
    const { app, kek, modelCalls } = await setup({ maxBodyBytes: 4096 });
    const { sealed } = await seal(kek, CHAT, { ...chatBody, pad: 'x'.repeat(8192) });
    const bytes = new TextEncoder().encode(JSON.stringify(sealed));
    await expectError(await post(app, CHAT, sealed), 413, 'payload_too_large');
    const pieces = [bytes.subarray(0, 3000), bytes.subarray(3000)];
    for (const headers of [{ 'content-length': '100' }, {}]) {
      const res = await app.request(CHAT, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: streamOf(pieces),
        duplex: 'half',
      } as RequestInit);
      await expectError(res, 413, 'payload_too_large');
    }
    const small = await seal(kek, CHAT, chatBody);
    await expectError(
      await post(app, CHAT, small.sealed, { 'content-length': String(1 << 30) }),
      413,
      'payload_too_large',
    );
    expect(modelCalls()).toBe(0);
  });

  it('unknown routes → 404, wrong methods → 405 with Allow, an unknown model → 404 after opening', async () => {
    const { app, kek, modelCalls } = await setup();
    for (const path of [
      '/v1/chat/completion',
      '/v1/chat/completions/',
      '/V1/embeddings',
      '/v1/worker/x',
      '/',
    ]) {
      await expectError(await app.request(path, { method: 'POST' }), 404, 'not_found');
    }
    for (const [method, path, allow] of [
      ['GET', CHAT, 'POST'],
      ['PUT', '/v1/embeddings', 'POST'],
      ['DELETE', '/v1/models', 'GET'],
      ['POST', '/healthz', 'GET'],
      ['PATCH', '/v1/worker', 'GET'],
    ] as const) {
      const res = await app.request(path, { method });
      expect(res.headers.get('allow')).toBe(allow);
      await expectError(res, 405, 'method_not_allowed');
    }
    const { sealed, context } = await seal(kek, CHAT, { ...chatBody, model: 'no-such-model' });
    await expectSealedError(await post(app, CHAT, sealed), context, 404, 'model_not_found');
    expect(modelCalls()).toBe(0);
  });
});

describe('worker: a sealed request replayed', () => {
  it('the same sealed request twice → 409 replay_detected (the model ran once)', async () => {
    const { app, kek, modelCalls } = await setup();
    const { sealed } = await seal(kek, CHAT, chatBody);
    expect((await post(app, CHAT, sealed)).status).toBe(200);
    await expectError(await post(app, CHAT, sealed), 409, 'replay_detected');
    // A re-serialisation of the same sealing (member order, whitespace) is the same request.
    const { model, sealgate } = sealed;
    await expectError(
      await post(app, CHAT, JSON.stringify({ sealgate, model }, null, 2)),
      409,
      'replay_detected',
    );
    expect(modelCalls()).toBe(1);
  });

  it('outside the window → refused, even by a new process whose guard never saw it', async () => {
    const kek = await kekAt();
    const ring = await KeyRing.from([kek]);
    const { sealed } = await seal(kek, CHAT, chatBody, T);
    const fresh = { route: CHAT, maxAgeSeconds: 300, replayGuard: new MemoryReplayGuard() };
    const code = await openRequest(sealed, ring, { ...fresh, now: T + 301 }).then(
      () => 'accepted',
      (e: unknown) => (isSealgateError(e) ? e.code : 'other'),
    );
    expect(code).toBe('replay_detected');
  });

  it('through the app: stale (> 300 s) and future-dated (> 60 s skew) → 409; at the edges → accepted', async () => {
    const { app, kek, clock } = await setup();
    for (const [ts, status] of [
      [T - 301, 409],
      [T + 61, 409],
      [T - 300, 200],
      [T + 60, 200],
    ] as const) {
      clock.now = T;
      const { sealed } = await seal(kek, CHAT, chatBody, ts);
      const res = await post(app, CHAT, sealed);
      if (status === 409) await expectError(res, 409, 'replay_detected');
      else expect(res.status, `ts ${ts - T}`).toBe(200);
    }
  });

  it('property: a request the time window accepts is never forgotten by the guard (window ⊆ memory)', async () => {
    const kek = await kekAt();
    const ring = await KeyRing.from([kek]);
    const maxAge = 300;
    const { sealed } = await sealRequest({ kek, route: CHAT, requestId: 'r-1', body: chatBody, now: T });
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: -60, max: 60 }), // when the first opening happens, relative to ts (skew both ways)
        fc.array(fc.integer({ min: -120, max: maxAge + 120 }), { minLength: 1, maxLength: 6 }),
        async (first, laters) => {
          const guard = new MemoryReplayGuard({ maxEntries: 64 });
          const open = (now: number) =>
            openRequest(sealed, ring, { route: CHAT, now, maxAgeSeconds: maxAge, replayGuard: guard }).then(
              () => 'accepted',
              (e: unknown) => (isSealgateError(e) ? e.code : 'other'),
            );
          const firstNow = T + first;
          const r0 = await open(firstNow);
          expect(r0).toBe('accepted');
          // Later openings, in any time order (a clock may step back): never accepted again.
          for (const d of laters) {
            const now = T + d;
            // Other traffic fills and sweeps the guard in between.
            guard.claim(`other-${now}-${d}`, now + 1, now);
            expect(await open(now)).not.toBe('accepted');
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('a clock that steps back after the guard forgot an id does not re-open the window for it', async () => {
    // Found by the property above: accepted at T, guard swept at T + 301 (the id expired), clock
    // stepped back to T — the time window accepted it again and the guard no longer knew it.
    const kek = await kekAt();
    const ring = await KeyRing.from([kek]);
    const { sealed } = await seal(kek, CHAT, chatBody, T);
    const guard = new MemoryReplayGuard();
    const opts = { route: CHAT, maxAgeSeconds: 300, replayGuard: guard };
    await openRequest(sealed, ring, { ...opts, now: T });
    expect(guard.claim('other', T + 302, T + 301)).toBe(true); // sweeps at T + 301
    const code = await openRequest(sealed, ring, { ...opts, now: T }).then(
      () => 'accepted',
      (e: unknown) => (isSealgateError(e) ? e.code : 'other'),
    );
    expect(code).toBe('replay_detected');
  });

  it('the guard is bounded: when full of live ids it refuses (fails closed) instead of forgetting', () => {
    const guard = new MemoryReplayGuard({ maxEntries: 3 });
    for (let i = 0; i < 3; i++) expect(guard.claim(`id-${i}`, T + 301, T)).toBe(true);
    expect(() => guard.claim('id-3', T + 301, T)).toThrow(/replay guard full/);
    expect(guard.size).toBe(3);
    // Expired ids make room; a live one is still remembered.
    expect(guard.claim('id-4', T + 700, T + 301)).toBe(true);
    expect(guard.claim('id-4', T + 700, T + 302)).toBe(false);
    expect(guard.size).toBe(1);
  });
});
