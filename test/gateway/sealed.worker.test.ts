/**
 * The sealed path end to end inside workerd: the key-rotation DO attests the REAL attestation
 * service (simulator), uploads and promotes a KEK; the gateway seals each OpenAI request to the
 * REAL AI worker (built-in model) and opens its sealed answers and streams. Then every fail-closed
 * path: tampered answers, cut and edited streams, a worker that does not know the key, workers
 * that are down, a service that goes away — before and after the key's notAfter.
 */
import { runInDurableObject } from 'cloudflare:test';
import { expect, it, vi } from 'vitest';
import { type StoredKek, unwrapKek, wrapKek } from '../../src/gateway/kv/at-rest.js';
import { resetKeyCache } from '../../src/gateway/kv/key-cache.js';
import { openKvEntry, sealKvEntry } from '../../src/gateway/kv/kv-auth.js';
import type { AttestationPointer, AttestationRecord, PublishedKeys } from '../../src/gateway/kv/kv-store.js';
import { createKek } from '../../src/keys/kek.js';
import { callGateway as call, rotationState, rotationStub, runRotation, stackPerFile } from './do-helpers.js';
import {
  advance,
  bodiesSentDuring,
  env,
  gatewayDescribe,
  KEY,
  PROMPT,
  type Stack,
  sseData,
  WORKER_A,
  WORKER_B,
  type WorkerMode,
  workerPosts,
} from './stack.js';

let stack: Stack;
let digest: string;

/** The DO of this manifest; a rotation runs when the test, not the wall clock, says so. */
const stub = () => rotationStub(digest);
const doState = () => rotationState(digest);
const rotate = () => runRotation(digest);
const post = (path: string, body: unknown) =>
  call(path, { method: 'POST', headers: KEY, body: JSON.stringify(body) });
/** A KV entry as the gateway reads it: authenticated (kv-auth.ts) under GATEWAY_SECRET. */
const kvValue = async <T>(name: string) =>
  openKvEntry<T>(env.GATEWAY_SECRET!, name, (await env.SEALGATE_KV.get(name, 'text'))!);
const kvPut = async (name: string, value: unknown) =>
  env.SEALGATE_KV.put(name, await sealKvEntry(env.GATEWAY_SECRET!, name, value));

/** Runs `body` with both workers answering in `mode`, then puts them back to `ok`. */
async function withWorkerMode<T>(mode: WorkerMode, body: () => Promise<T>): Promise<T> {
  stack.modes[WORKER_A] = mode;
  stack.modes[WORKER_B] = mode;
  try {
    return await body();
  } finally {
    stack.modes[WORKER_A] = 'ok';
    stack.modes[WORKER_B] = 'ok';
  }
}

/** Every payload but the last an authentic chat chunk, the last an error event with `code`. */
function expectChunksThenError(data: string[], code: string): void {
  for (const d of data.slice(0, -1)) {
    expect((JSON.parse(d) as { object: string }).object).toBe('chat.completion.chunk');
  }
  expect((JSON.parse(data.at(-1)!) as { error: { code: string } }).error.code).toBe(code);
}

/** A streamed chat completion of the prompt. */
const askStream = (extra: Record<string, unknown> = {}) =>
  post('/v1/chat/completions', { model: 'sealgate-builtin', messages: PROMPT, stream: true, ...extra });

stackPerFile({}, (s) => {
  stack = s;
  digest = s.dev.manifestDigest;
});

gatewayDescribe('key rotation: first attestation', () => {
  it('attests the service, uploads a KEK, confirms it and publishes it (wrapped) to KV', async () => {
    const state = await rotate();
    expect(state.lastError).toBeNull();
    expect(state.keys).toHaveLength(1);
    expect(state.keys[0]!.confirmed).toBe(true);
    expect(stack.calls).toContain('POST http://attestation-service.test/v1/attestation');
    expect(stack.calls).toContain('POST http://attestation-service.test/v1/keys');

    const published = await kvValue<PublishedKeys>(`keys:${digest}`);
    expect(published.keys.map((k) => k.kid)).toEqual([state.keys[0]!.kid]);
    // Wrapped, not the 32-byte key: 12 IV + 49 record + 16 tag, base64url.
    expect(Object.keys(published.keys[0]!).sort()).toEqual(['kid', 'notAfter', 'notBefore', 'wrapped']);
    expect(published.keys[0]!.wrapped.length).toBe(Math.ceil(((12 + 49 + 16) * 4) / 3));
    const stored = await runInDurableObject(stub(), (_i, s) => s.storage.get<{ wrapped: string }[]>('keys'));
    expect(stored![0]!.wrapped).not.toContain(state.keys[0]!.kid);
  });

  it('caches the verified attestation under att:<digest>:<nonce> and :current, TTL ≤ the rotation interval', async () => {
    const pointer = await kvValue<AttestationPointer>(`att:${digest}:current`);
    expect(pointer.nonce).toMatch(/^[0-9a-f]{64}$/);
    const record = await kvValue<AttestationRecord>(`att:${digest}:${pointer.nonce}`);
    expect(record.manifestDigest).toBe(digest);
    expect(record.simulated).toBe(true);
    expect(record.expiresAt - record.verifiedAt).toBeLessThanOrEqual(
      stack.dev.manifest.keyPolicy.rotationIntervalSeconds,
    );
    expect(record.expiresAt).toBeLessThanOrEqual(record.leafNotAfter);
    const listed = await (
      env.SEALGATE_KV as unknown as {
        list(o: { prefix: string }): Promise<{ keys: { name: string; expiration?: number }[] }>;
      }
    ).list({ prefix: `att:${digest}:` });
    expect(listed.keys.map((k) => k.name).sort()).toEqual(
      [`att:${digest}:${pointer.nonce}`, `att:${digest}:current`].sort(),
    );
    // KV expirations are absolute, in real time (the test's clock offset is 0 here).
    for (const k of listed.keys) {
      expect(k.expiration).toBeDefined();
      expect(k.expiration!).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 300 + 2);
    }
  });
});

gatewayDescribe('the sealed request path', () => {
  it('a chat completion: sealed to the worker, opened for the client', async () => {
    await stack.session.keys.refresh(); // the worker registers with the service and gets the KEK
    stack.calls.length = 0;
    const res = await post('/v1/chat/completions', { model: 'sealgate-builtin', messages: PROMPT });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { object: string; choices: { message: { content: string } }[] };
    expect(body.object).toBe('chat.completion');
    expect(typeof body.choices[0]!.message.content).toBe('string');
    const state = await doState();
    expect(res.headers.get('x-sealgate-key-id')).toBe(state.keys[0]!.kid);
    expect(res.headers.get('x-sealgate-manifest')).toBe(digest);
    expect(res.headers.get('x-sealgate-simulated')).toBe('1');
    expect(workerPosts(stack)).toHaveLength(1);
  });

  it('never sends the prompt in the clear', async () => {
    const seen = await bodiesSentDuring(async () => {
      expect(
        (await post('/v1/chat/completions', { model: 'sealgate-builtin', messages: PROMPT })).status,
      ).toBe(200);
    });
    expect(seen).toHaveLength(1);
    expect(seen[0]).not.toContain('secret prompt');
    expect(JSON.parse(seen[0]!).sealgate.kid).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('a streamed chat completion: every chunk opened in order, [DONE] last', async () => {
    const res = await post('/v1/chat/completions', {
      model: 'sealgate-builtin',
      messages: PROMPT,
      stream: true,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const data = await sseData(res);
    expect(data.at(-1)).toBe('[DONE]');
    expect(data.length).toBeGreaterThan(2);
    for (const d of data.slice(0, -1))
      expect((JSON.parse(d) as { object: string }).object).toBe('chat.completion.chunk');
  });

  it('a stream whose frames arrive split across many small reads opens to the same chunks', async () => {
    const whole = await sseData(await askStream({ seed: 7 }));
    await withWorkerMode('trickle-stream', async () => {
      const trickled = await sseData(await askStream({ seed: 7 }));
      expect(trickled.at(-1)).toBe('[DONE]');
      // The built-in model is deterministic for a body; ids and timestamps may differ, content not.
      const content = (d: string[]) =>
        d.slice(0, -1).map((x) => (JSON.parse(x) as { choices: unknown }).choices);
      expect(content(trickled)).toEqual(content(whole));
    });
  });

  it('a stream is read from the worker only as fast as the client reads it: nothing piles up in the gateway', async () => {
    await withWorkerMode('counted-stream', async () => {
      const res = await askStream();
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      const first = await reader.read();
      expect(first.done).toBe(false);
      // The client stops reading. Let the gateway run as far as it would (many turns of the loop).
      const settle = async () => {
        for (let i = 0; i < 50; i++) await new Promise((r) => setTimeout(r, 0));
      };
      await settle();
      const held = stack.body.reads;
      await settle();
      // It stopped: it holds at most the chunk the client has not taken (one frame's events: a frame
      // carries a burst, at most MAX_FRAME_BYTES), never the rest of the body (end frame, trailer).
      expect(stack.body.reads).toBe(held);
      expect(held).toBeLessThan(stack.body.total);
      // Reading on takes the rest, in order, to [DONE].
      let text = new TextDecoder().decode(first.value);
      for (;;) {
        const next = await reader.read();
        if (next.done) break;
        text += new TextDecoder().decode(next.value);
      }
      expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
      expect(stack.body.reads).toBe(stack.body.total);
      // After the trailer the gateway reads the body's end rather than cancelling it (cheaper).
      for (let i = 0; i < 50; i++) await new Promise((r) => setTimeout(r, 0));
      expect(stack.body.cancelled).toBe(false);
    });
  });

  it('a stream answer under any other content type (format 2: text/event-stream) is refused', async () => {
    await withWorkerMode('sse-typed-stream', async () => {
      const res = await askStream();
      expect(res.status).toBe(502);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('upstream_tampered');
    });
  });

  it('a model event whose data spans lines reaches the client with a data: line per line', async () => {
    // An SSE parser joins a multi-line data field with LF (HTML, "Interpreting an event stream"):
    // such an event is sealed as it is, and the chat route's byte fast path must not send it raw.
    stack.modelStream = ['{"choices":[],\n"x":1}', '{"choices":[]}', '[DONE]'];
    try {
      const res = await askStream();
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text.startsWith('data: {"choices":[],\ndata: "x":1}\n\ndata: {"choices":[]}\n\n')).toBe(true);
      expect(text).toMatch(/\n\n: sealgate-receipt [^\n]+\ndata: \[DONE\]\n\n$/);
    } finally {
      stack.modelStream = undefined;
    }
  });

  it('a record after the receipt trailer is never read on: the body is cancelled, the answer whole', async () => {
    await withWorkerMode('after-trailer', async () => {
      const text = await (await askStream()).text();
      expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
      for (let i = 0; i < 200 && !stack.body.cancelled; i++) await new Promise((r) => setTimeout(r, 0));
      expect(stack.body.cancelled).toBe(true);
      expect(stack.body.reads).toBeLessThan(stack.body.total);
    });
  });

  it("a client that goes away mid-stream: the worker's body is cancelled, nothing more is read", async () => {
    await withWorkerMode('counted-stream', async () => {
      const reader = (await askStream()).body!.getReader();
      expect((await reader.read()).done).toBe(false);
      await reader.cancel();
      for (let i = 0; i < 200 && !stack.body.cancelled; i++) await new Promise((r) => setTimeout(r, 0));
      expect(stack.body.cancelled).toBe(true);
      expect(stack.body.reads).toBeLessThan(stack.body.total);
    });
  });

  it('completions, embeddings and the model list', async () => {
    const completion = await post('/v1/completions', { model: 'sealgate-builtin', prompt: 'hello' });
    expect(completion.status).toBe(200);
    expect(((await completion.json()) as { object: string }).object).toBe('text_completion');
    const embedding = await post('/v1/embeddings', { model: 'sealgate-builtin', input: 'hello' });
    expect(embedding.status).toBe(200);
    expect(
      ((await embedding.json()) as { data: { embedding: number[] }[] }).data[0]!.embedding.length,
    ).toBeGreaterThan(0);
    const models = await call('/v1/models', { headers: KEY });
    expect(models.status).toBe(200);
    expect(((await models.json()) as { data: { id: string }[] }).data.map((m) => m.id)).toContain(
      'sealgate-builtin',
    );
    // The SDKs' models.retrieve (it was 404 not_found: no such route).
    const one = await call('/v1/models/sealgate-builtin', { headers: KEY });
    expect(one.status).toBe(200);
    expect(await one.json()).toMatchObject({ id: 'sealgate-builtin', object: 'model' });
    for (const [path, status, code] of [
      ['/v1/models/gpt-4', 404, 'model_not_found'],
      ['/v1/models/meta-llama%2Fsealgate-builtin', 404, 'model_not_found'],
      ['/v1/models/a/b', 404, 'not_found'],
    ] as const) {
      const res = await call(path, { headers: KEY });
      expect(res.status, path).toBe(status);
      expect(((await res.json()) as { error: { code: string } }).error.code, path).toBe(code);
    }
    const posted = await call('/v1/models/sealgate-builtin', { method: 'POST', headers: KEY });
    expect(posted.status).toBe(405);
    expect((await call('/v1/models/sealgate-builtin')).status).toBe(401);
  });

  it('the model list skips a worker that hangs or floods it, and fails closed when none answers', async () => {
    for (const bad of ['hang', 'huge-models', 'down'] as const) {
      stack.modes[WORKER_A] = bad;
      stack.modes[WORKER_B] = 'ok';
      const models = await call('/v1/models', { headers: KEY });
      expect(models.status, bad).toBe(200);
      expect(((await models.json()) as { data: { id: string }[] }).data.map((m) => m.id)).toContain(
        'sealgate-builtin',
      );
    }
    stack.modes[WORKER_A] = 'hang';
    stack.modes[WORKER_B] = 'huge-models';
    const none = await call('/v1/models', { headers: KEY });
    expect(none.status).toBe(503);
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe('no_worker_available');
    stack.modes[WORKER_A] = 'ok';
    stack.modes[WORKER_B] = 'ok';
  });

  it("an Anthropic SDK's model list and model (x-api-key, anthropic-version): Anthropic's shapes and errors", async () => {
    const anthropic = { 'x-api-key': env.DEV_API_KEY, 'anthropic-version': '2023-06-01' };
    const page = (await (await call('/v1/models', { headers: anthropic })).json()) as {
      data: { type: string; id: string; created_at: string; lifecycle: string }[];
      first_id: string;
      last_id: string;
      has_more: boolean;
    };
    expect(page.has_more).toBe(false);
    expect(page.data.map((m) => m.id)).toContain('sealgate-builtin');
    expect(page.first_id).toBe(page.data[0]!.id);
    expect(page.last_id).toBe(page.data.at(-1)!.id);
    const one = (await (await call('/v1/models/sealgate-builtin', { headers: anthropic })).json()) as {
      type: string;
      id: string;
      created_at: string;
    };
    expect(one).toMatchObject({ type: 'model', id: 'sealgate-builtin', display_name: 'sealgate-builtin' });
    expect(new Date(one.created_at).toISOString()).toBe(one.created_at);
    const unknown = await call('/v1/models/no-such-model', { headers: anthropic });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
    const badKey = await call('/v1/models', { headers: { ...anthropic, 'x-api-key': 'sk-wrong' } });
    expect(badKey.status).toBe(401);
    expect(await badKey.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    // Without anthropic-version: OpenAI's list, as before (the key may still come in x-api-key).
    const openai = (await (await call('/v1/models', { headers: KEY })).json()) as { object: string };
    expect(openai.object).toBe('list');
    const plain = await call('/v1/models', { headers: { 'x-api-key': env.DEV_API_KEY } });
    expect(((await plain.json()) as { object: string }).object).toBe('list');
  });

  it('the model list skips a worker that sends its head and stalls its body, within its budget', async () => {
    // Without models.ts's own deadline on the body this waits forever: the test times out.
    stack.modes[WORKER_A] = 'stall-models';
    stack.modes[WORKER_B] = 'ok';
    try {
      const models = await call('/v1/models', { headers: KEY });
      expect(models.status).toBe(200);
      const ids = ((await models.json()) as { data: { id: string }[] }).data.map((m) => m.id);
      expect(ids).toContain('sealgate-builtin');
      expect(ids).not.toContain('stalled-model');
      stack.modes[WORKER_B] = 'stall-models';
      const none = await call('/v1/models', { headers: KEY });
      expect(none.status).toBe(503);
      expect(((await none.json()) as { error: { code: string } }).error.code).toBe('no_worker_available');
    } finally {
      stack.modes[WORKER_A] = 'ok';
      stack.modes[WORKER_B] = 'ok';
    }
  }, 20_000);

  it('skips a worker that is down or busy and uses the next', async () => {
    stack.modes[WORKER_A] = 'down';
    stack.modes[WORKER_B] = 'ok';
    for (let i = 0; i < 2; i++) {
      stack.calls.length = 0;
      const res = await post('/v1/chat/completions', { model: 'sealgate-builtin', messages: PROMPT });
      expect(res.status).toBe(200);
      expect(workerPosts(stack).at(-1)).toContain(WORKER_B);
    }
    stack.modes[WORKER_A] = 'busy';
    stack.modes[WORKER_B] = 'down';
    const none = await post('/v1/chat/completions', { model: 'sealgate-builtin', messages: PROMPT });
    expect(none.status).toBe(503);
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe('no_worker_available');
    stack.modes[WORKER_A] = 'ok';
    stack.modes[WORKER_B] = 'ok';
  });

  it('a seal one worker refuses as a replay is served by the next, with the same seal', async () => {
    stack.modes[WORKER_A] = 'replay-refused';
    stack.modes[WORKER_B] = 'ok';
    try {
      for (let i = 0; i < 2; i++) {
        stack.calls.length = 0;
        stack.wire.length = 0;
        const res = await post('/v1/chat/completions', { model: 'sealgate-builtin', messages: PROMPT });
        expect(res.status).toBe(200);
        expect(workerPosts(stack).at(-1)).toContain(WORKER_B);
        // Whichever worker came first, B got the seal A refused, not another one.
        const seals = stack.wire.filter((w) => w.includes('"sealgate"'));
        expect(seals).toHaveLength(workerPosts(stack).length);
        if (seals.length === 2) expect(seals[0]).toBe(seals[1]);
      }
      stack.modes[WORKER_B] = 'replay-refused';
      stack.calls.length = 0;
      const refused = await post('/v1/chat/completions', { model: 'sealgate-builtin', messages: PROMPT });
      expect(refused.status).toBe(409);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('replay_detected');
      expect(workerPosts(stack)).toHaveLength(2);
    } finally {
      stack.modes[WORKER_A] = 'ok';
      stack.modes[WORKER_B] = 'ok';
    }
  });

  it('a worker URL listed twice gets one seal once, whichever position the rotation starts at', async () => {
    // Listed twice, A's refusal came from A again with the same seal before B was asked.
    const twice = { ...env, WORKER_URLS: `${WORKER_A},${WORKER_A},${WORKER_B}` };
    const body = JSON.stringify({ model: 'sealgate-builtin', messages: PROMPT });
    const send = () => call('/v1/chat/completions', { method: 'POST', headers: KEY, body }, twice);
    stack.modes[WORKER_A] = 'replay-refused';
    try {
      for (let i = 0; i < 3; i++) {
        stack.calls.length = 0;
        const res = await send();
        expect(res.status).toBe(200);
        expect(workerPosts(stack).filter((p) => p.includes(WORKER_A)).length).toBeLessThanOrEqual(1);
        expect(workerPosts(stack).at(-1)).toContain(WORKER_B);
      }
      stack.modes[WORKER_B] = 'replay-refused';
      for (let i = 0; i < 3; i++) {
        stack.calls.length = 0;
        const res = await send();
        expect(res.status).toBe(409);
        expect(workerPosts(stack).sort()).toEqual(
          [WORKER_A, WORKER_B].map((w) => `POST ${w}/v1/chat/completions`),
        );
      }
    } finally {
      stack.modes[WORKER_A] = 'ok';
      stack.modes[WORKER_B] = 'ok';
    }
  });

  it('a client that goes away while a worker hangs is not failed over to the next worker', async () => {
    // Without the check, the aborted fetch read as "worker unreachable", so the next
    // worker got the request of a client that was gone, and the DO was asked to recheck the keys.
    await withWorkerMode('hang', async () => {
      stack.calls.length = 0;
      const client = new AbortController();
      const pending = call('/v1/chat/completions', {
        method: 'POST',
        headers: KEY,
        body: JSON.stringify({ model: 'sealgate-builtin', messages: PROMPT }),
        signal: client.signal,
      });
      await vi.waitFor(() => expect(workerPosts(stack)).toHaveLength(1));
      client.abort();
      const res = await pending;
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_request');
      expect(workerPosts(stack)).toHaveLength(1);
    });
  });
});

gatewayDescribe('fail closed on what comes back', () => {
  it('a tampered sealed answer is a 502 typed error, with nothing of the answer', async () => {
    stack.modes[WORKER_A] = 'tamper-json';
    stack.modes[WORKER_B] = 'tamper-json';
    const res = await post('/v1/chat/completions', { model: 'sealgate-builtin', messages: PROMPT });
    expect(res.status).toBe(502);
    const body = (await res.json()) as { error: { code: string }; choices?: unknown };
    expect(body.error.code).toBe('upstream_tampered');
    expect(body.choices).toBeUndefined();
  });

  it('a truncated stream ends with an error event, and never with [DONE]', async () => {
    stack.modes[WORKER_A] = 'truncate-stream';
    stack.modes[WORKER_B] = 'truncate-stream';
    const res = await post('/v1/chat/completions', {
      model: 'sealgate-builtin',
      messages: PROMPT,
      stream: true,
    });
    expect(res.status).toBe(200);
    const data = await sseData(res);
    expect(data).not.toContain('[DONE]');
    // Everything before the error is an authentic chunk.
    expectChunksThenError(data, 'stream_truncated');
  });

  it('an edited stream frame ends the stream with an error event right there', async () => {
    const res = await withWorkerMode('tamper-stream', () => askStream());
    const data = await sseData(res);
    // Frame 0 verified, frame 1 did not: frame 0's events (the burst ready when the worker's body
    // was first read), then the error; nothing of frame 1 or after, and no [DONE].
    expect(data.length).toBeGreaterThanOrEqual(2);
    expectChunksThenError(data, 'upstream_tampered');
    const whole = await sseData(await askStream());
    expect(whole.at(-1)).toBe('[DONE]');
    expect(data.length - 1).toBeLessThan(whole.length - 1);
  });

  it('a frame over the frame cap is refused (upstream_tampered), not decrypted', async () => {
    const res = await withWorkerMode('huge-frame', () => askStream());
    const data = await sseData(res);
    expect(data).not.toContain('[DONE]');
    expectChunksThenError(data, 'upstream_tampered');
  });

  it('unknown_key from the worker: one refresh from the DO, one retry', async () => {
    // The isolate's copy (from KV) names a key no service or worker ever saw.
    const now = Math.floor(Date.now() / 1000);
    const stray = await createKek({ notBefore: now, notAfter: now + 600 });
    const published = await kvValue<PublishedKeys>(`keys:${digest}`);
    const wrapped = await wrapKek(env.GATEWAY_SECRET!, digest, stray);
    await kvPut(`keys:${digest}`, { ...published, keys: [wrapped] });
    resetKeyCache();
    stack.calls.length = 0;
    const res = await post('/v1/chat/completions', { model: 'sealgate-builtin', messages: PROMPT });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-sealgate-key-id')).toBe(published.keys[0]!.kid);
    expect(workerPosts(stack)).toHaveLength(2);
    await kvPut(`keys:${digest}`, published);
  });
});

gatewayDescribe('rotation over time', () => {
  it('uploads the next key ahead of time, keeps the previous for the overlap', async () => {
    const policy = stack.dev.manifest.keyPolicy;
    const before = await doState();
    const first = before.keys[0]!;
    advance(policy.rotationIntervalSeconds - policy.overlapSeconds + 1);
    const after = await rotate();
    expect(after.lastError).toBeNull();
    expect(after.keys).toHaveLength(2);
    const next = after.keys.find((k) => k.kid !== first.kid)!;
    expect(next.confirmed).toBe(true);
    expect(next.notBefore).toBe(first.notBefore + policy.rotationIntervalSeconds);
    expect(next.notAfter).toBe(next.notBefore + policy.lifetimeSeconds);
    // Not yet promoted for sealing (its notBefore is ahead); the first still seals.
    resetKeyCache();
    await stack.session.keys.refresh();
    const res = await post('/v1/chat/completions', { model: 'sealgate-builtin', messages: PROMPT });
    expect(res.headers.get('x-sealgate-key-id')).toBe(first.kid);
    advance(policy.overlapSeconds);
    resetKeyCache();
    const later = await post('/v1/chat/completions', { model: 'sealgate-builtin', messages: PROMPT });
    expect(later.status).toBe(200);
    expect(later.headers.get('x-sealgate-key-id')).toBe(next.kid);
  });

  it('a restarted service (new keys, no KEKs) is attested again and gets our live keys again', async () => {
    const before = await doState();
    await stack.restartService();
    stack.calls.length = 0;
    const after = await rotate();
    expect(after.lastError).toBeNull();
    expect(after.keys.map((k) => k.kid).sort()).toEqual(before.keys.map((k) => k.kid).sort());
    expect(after.keys.every((k) => k.confirmed)).toBe(true);
    const uploads = stack.calls.filter((c) => c === 'POST http://attestation-service.test/v1/keys');
    expect(uploads).toHaveLength(before.keys.length);
    const held = (await (await fetch('http://attestation-service.test/v1/keys')).json()) as {
      keys: { kid: string }[];
    };
    expect(held.keys.map((k) => k.kid).sort()).toEqual(before.keys.map((k) => k.kid).sort());
  });

  it('keys that no longer open under GATEWAY_SECRET (the secret changed) are dropped and replaced', async () => {
    const before = await doState();
    // Re-wrap every stored key under another secret: what a changed GATEWAY_SECRET leaves behind.
    await runInDurableObject(
      stub(),
      async (
        _i,
        state: {
          storage: { get<T>(k: string): Promise<T | undefined>; put(k: string, v: unknown): Promise<void> };
        },
      ) => {
        const stored = (await state.storage.get<(StoredKek & { confirmed: boolean })[]>('keys')) ?? [];
        const other = await Promise.all(
          stored.map(async (k) => ({
            ...(await wrapKek(
              'another-gateway-secret-0123456789abcdef',
              digest,
              await unwrapKek(env.GATEWAY_SECRET!, digest, k),
            )),
            confirmed: k.confirmed,
          })),
        );
        await state.storage.put('keys', other);
      },
    );
    const after = await rotate();
    expect(after.lastError).toBeNull();
    expect(after.keys).toHaveLength(1);
    expect(before.keys.map((k) => k.kid)).not.toContain(after.keys[0]!.kid);
    expect(after.keys[0]!.confirmed).toBe(true);
    const published = await kvValue<PublishedKeys>(`keys:${digest}`);
    expect(published.keys.map((k) => k.kid)).toEqual([after.keys[0]!.kid]);
    resetKeyCache();
    const res = await post('/v1/chat/completions', { model: 'sealgate-builtin', messages: PROMPT });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-sealgate-key-id')).toBe(after.keys[0]!.kid);
  });

  it('service down: keeps serving with the current key, then fails closed past its notAfter', async () => {
    stack.serviceDown = true;
    const failed = await rotate();
    expect(failed.lastError?.code).toBe('fetch_failed');
    resetKeyCache();
    const still = await post('/v1/chat/completions', { model: 'sealgate-builtin', messages: PROMPT });
    expect(still.status).toBe(200);

    const newest = Math.max(...failed.keys.map((k) => k.notAfter));
    advance(newest - Math.floor(Date.now() / 1000) + 1);
    const past = await rotate();
    expect(past.lastError?.code).toBe('fetch_failed');
    resetKeyCache();
    stack.calls.length = 0;
    const closed = await post('/v1/chat/completions', { model: 'sealgate-builtin', messages: PROMPT });
    expect(closed.status).toBe(503);
    expect(((await closed.json()) as { error: { code: string } }).error.code).toBe('no_attested_service');
    expect(workerPosts(stack)).toEqual([]);
  });
});
