/**
 * The routes for every client (docs/gateway.md "Routes") through the gateway Worker, the REAL
 * worker and its built-in model: /readyz turning ready only once a sealed request can be served,
 * Retry-After on its 503s, Anthropic Messages (x-api-key, Anthropic's error JSON, named stream
 * events), OpenAI Responses (typed stream events), and transcriptions (multipart sealed whole) —
 * with each route's refusals.
 */
import {
  createExecutionContext,
  runDurableObjectAlarm,
  runInDurableObject,
  waitOnExecutionContext,
} from 'cloudflare:test';
import { expect, it, vi } from 'vitest';
import { MAX_AUDIO_BODY_BYTES } from '../../src/api/transcriptions/form.js';
import { READY_VERDICT_TTL_MS, resetReadinessCache } from '../../src/gateway/routes/readiness.js';
import worker from '../../src/gateway/worker.js';
import { callGateway as call, rotationStub, runRotation, stackPerFile } from './do-helpers.js';
import { advance, env, gatewayDescribe, type Stack } from './stack.js';

const JSON_TYPE = { 'content-type': 'application/json' };
const BEARER = { authorization: `Bearer ${env.DEV_API_KEY}` };
const X_API_KEY = { 'x-api-key': env.DEV_API_KEY, 'anthropic-version': '2023-06-01' };
const MESSAGE = {
  model: 'sealgate-builtin',
  max_tokens: 64,
  messages: [{ role: 'user', content: 'hi there' }],
};
const REPLY = 'You said: "hi there" Backwards: "there hi"';
let stack: Stack;

const post = (path: string, body: unknown, headers: Record<string, string> = BEARER) =>
  call(path, { method: 'POST', headers: { ...JSON_TYPE, ...headers }, body: JSON.stringify(body) });

/** The SSE events of a response as [event name, data]. */
async function events(res: Response): Promise<[string | undefined, string][]> {
  const text = await res.text();
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const lines = block.split('\n');
      const name = lines.find((l) => l.startsWith('event: '))?.slice(7);
      const data = lines
        .filter((l) => l.startsWith('data: '))
        .map((l) => l.slice(6))
        .join('\n');
      return [name, data];
    });
}

function audioForm(bytes: number, fields: Record<string, string> = { model: 'sealgate-builtin' }): FormData {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(bytes)], { type: 'audio/wav' }), 'a.wav');
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  return form;
}

stackPerFile({}, (s) => {
  stack = s;
  resetReadinessCache();
});

gatewayDescribe('/readyz', () => {
  it('is 503 with Retry-After naming the key, then the worker, then 200; /healthz is live all along', async () => {
    expect((await call('/healthz')).status).toBe(200);
    const noKey = await call('/readyz');
    expect(noKey.status).toBe(503);
    expect(noKey.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await noKey.json()).toMatchObject({ status: 'not_ready', missing: ['key'] });

    await runRotation(stack.dev.manifestDigest);
    advance(6); // an isolate that found no key asks the DO again after 5 s (kv/key-cache.ts)
    const noWorker = await call('/readyz');
    expect(noWorker.status).toBe(503);
    expect(noWorker.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await noWorker.json()).toMatchObject({ status: 'not_ready', missing: ['worker'] });

    await stack.session.keys.refresh(); // the worker registers and gets the key
    advance(READY_VERDICT_TTL_MS / 1000); // the isolate keeps its verdict that long (routes/readiness.ts)
    const ready = await call('/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready' });
    // …and a sealed request is served now.
    expect(
      (await post('/v1/chat/completions', { model: 'sealgate-builtin', messages: MESSAGE.messages })).status,
    ).toBe(200);
  });

  const healthProbes = () => stack.calls.filter((c) => c.endsWith('/healthz')).length;

  it('costs one probe round (a /healthz per worker) for N concurrent calls, and one more only after the TTL', async () => {
    advance(READY_VERDICT_TTL_MS / 1000 + 1); // past the previous test's verdict
    const before = healthProbes();
    const answers = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const ctx = createExecutionContext();
        const res = await worker.fetch(new Request('https://gateway.test/readyz'), env, ctx);
        await waitOnExecutionContext(ctx);
        return res;
      }),
    );
    for (const res of answers) expect(res.status).toBe(200);
    const workers = 2; // worker-a and worker-b
    expect(healthProbes() - before).toBe(workers);
    const again = await worker.fetch(
      new Request('https://gateway.test/readyz'),
      env,
      createExecutionContext(),
    );
    expect(again.status).toBe(200);
    expect(healthProbes() - before).toBe(workers);
    advance(READY_VERDICT_TTL_MS / 1000 + 1);
    await worker.fetch(new Request('https://gateway.test/readyz'), env, createExecutionContext());
    expect(healthProbes() - before).toBe(2 * workers);
  });

  it('a worker whose /healthz sends its head and stalls its body costs a probe round, not /readyz', async () => {
    // The body never ends nor errors, whatever the fetch signal does (a fetcher need not tie it to
    // the body): all /readyz calls of the isolate share the round in flight.
    const half = new TextEncoder().encode('{"status":"ok","registered":true,"keyIds":[');
    const stalled = () =>
      new Response(
        new ReadableStream<Uint8Array>({
          start: (c) => c.enqueue(half),
          pull: () => new Promise<void>(() => undefined),
        }),
        { headers: { 'content-type': 'application/json' } },
      );
    const through = globalThis.fetch;
    vi.stubGlobal('fetch', (input: RequestInfo | URL, init?: RequestInit) =>
      String(input instanceof Request ? input.url : input).endsWith('/healthz')
        ? Promise.resolve(stalled())
        : through(input, init),
    );
    try {
      resetReadinessCache();
      const res = await call('/readyz');
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ missing: ['worker'] });
    } finally {
      vi.stubGlobal('fetch', through);
      resetReadinessCache();
    }
  });

  it('a worker registered without the key (its service restarted) makes it ask the DO to recheck', async () => {
    // A service keeps its keys in memory: restarted within a rotation interval (`npm start` again,
    // the gateway's KV and DO kept), it holds none of ours, and a restarted worker gets none from
    // it. Without the recheck the workers stay keyless until the next rotation: /readyz 503.
    const digest = stack.dev.manifestDigest;
    const alarm = () =>
      runInDurableObject(
        rotationStub(digest),
        (_i, state: { storage: { getAlarm(): Promise<number | null> } }) => state.storage.getAlarm(),
      );
    await stack.restartService();
    await stack.session.keys.refresh(); // refused by the new service: registers again
    // The restarted workers' /healthz: registered, holding no key (this worker kept its own).
    const through = globalThis.fetch;
    vi.stubGlobal('fetch', (input: RequestInfo | URL, init?: RequestInit) =>
      String(input instanceof Request ? input.url : input).endsWith('/healthz')
        ? Promise.resolve(Response.json({ status: 'starting', registered: true, keys: 0, keyIds: [] }))
        : through(input, init),
    );
    try {
      advance(16); // past the DO's RECHECK_MIN_SECONDS since its last attestation
      resetReadinessCache();
      const scheduled = await alarm();
      const notReady = await call('/readyz');
      expect(notReady.status).toBe(503);
      expect(await notReady.json()).toMatchObject({ missing: ['worker'] });
      const asked = await alarm();
      expect(asked).not.toBeNull();
      expect(scheduled === null || asked! < scheduled).toBe(true);
    } finally {
      vi.stubGlobal('fetch', through);
    }
    expect(await runDurableObjectAlarm(rotationStub(digest))).toBe(true); // re-attests, re-uploads
    await stack.session.keys.refresh();
    resetReadinessCache();
    expect((await call('/readyz')).status).toBe(200);
    const res = await post('/v1/chat/completions', { model: 'sealgate-builtin', messages: MESSAGE.messages });
    expect(res.status).toBe(200);
  });
});

gatewayDescribe('POST /v1/messages', () => {
  it('answers a Message, with x-api-key as the Anthropic SDK sends it, or Bearer', async () => {
    for (const headers of [X_API_KEY, BEARER]) {
      const res = await post('/v1/messages', MESSAGE, headers);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ type: 'message', content: [{ type: 'text', text: REPLY }] });
    }
  });

  it('streams named Anthropic events, message_stop last', async () => {
    const res = await post('/v1/messages', { ...MESSAGE, stream: true }, X_API_KEY);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const list = await events(res);
    for (const [name, data] of list) expect(name).toBe(JSON.parse(data).type);
    expect(list[0]![0]).toBe('message_start');
    expect(list.at(-1)![0]).toBe('message_stop');
    expect(list.some(([, d]) => d === '[DONE]')).toBe(false);
  });

  it('refuses in Anthropic’s error shape: key, model, content type, JSON, fields', async () => {
    const cases: [Response, number, string][] = [
      [await post('/v1/messages', MESSAGE, { 'x-api-key': 'wrong' }), 401, 'authentication_error'],
      [await post('/v1/messages', { ...MESSAGE, model: 'nope' }, X_API_KEY), 404, 'not_found_error'],
      [
        await call('/v1/messages', { method: 'POST', headers: X_API_KEY, body: 'x' }),
        415,
        'invalid_request_error',
      ],
      [
        await call('/v1/messages', { method: 'POST', headers: { ...X_API_KEY, ...JSON_TYPE }, body: '{' }),
        400,
        'invalid_request_error',
      ],
      [
        await post('/v1/messages', { ...MESSAGE, max_tokens: undefined }, X_API_KEY),
        400,
        'invalid_request_error',
      ],
      [await post('/v1/messages', { ...MESSAGE, top_k: 3 }, X_API_KEY), 400, 'invalid_request_error'],
      [await call('/v1/messages', { headers: X_API_KEY }), 405, 'invalid_request_error'],
      // The SDK's messages.countTokens: no such route, still in Anthropic's shape (was OpenAI's).
      [await post('/v1/messages/count_tokens', MESSAGE, X_API_KEY), 404, 'not_found_error'],
    ];
    for (const [res, status, type] of cases) {
      expect(res.status).toBe(status);
      const body = (await res.json()) as { type: string; error: { type: string; message: string } };
      expect(body.type).toBe('error');
      expect(body.error.type).toBe(type);
    }
    // The worker's refusal of a field is sealed to the client (the hop sees ciphertext): it says which.
    const missing = await post('/v1/messages', { ...MESSAGE, max_tokens: undefined }, X_API_KEY);
    expect(missing.status).toBe(400);
    const message = ((await missing.json()) as { error: { message: string } }).error.message;
    expect(message).toBe('max_tokens must be a positive integer');
  });
});

gatewayDescribe('POST /v1/responses', () => {
  it('answers a response object and streams typed events, response.completed last', async () => {
    const res = await post('/v1/responses', { model: 'sealgate-builtin', input: 'hi there' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ object: 'response', output: [{ content: [{ text: REPLY }] }] });
    const list = await events(
      await post('/v1/responses', { model: 'sealgate-builtin', input: 'hi there', stream: true }),
    );
    expect(list[0]![0]).toBe('response.created');
    expect(list.at(-1)![0]).toBe('response.completed');
  });

  it('refuses an unknown model (404) and what it cannot translate (400), in OpenAI’s shape', async () => {
    const unknown = await post('/v1/responses', { model: 'nope', input: 'x' });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: 'model_not_found' } });
    const chained = await post('/v1/responses', {
      model: 'sealgate-builtin',
      input: 'x',
      previous_response_id: 'r',
    });
    expect(chained.status).toBe(400);
    expect(await chained.json()).toMatchObject({ error: { code: 'invalid_request' } });
  });
});

gatewayDescribe('POST /v1/audio/transcriptions', () => {
  it('seals the multipart body whole and answers the transcript', async () => {
    stack.wire.length = 0;
    const res = await call('/v1/audio/transcriptions', {
      method: 'POST',
      headers: BEARER,
      body: audioForm(32_000),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      text: 'Sealgate heard 32000 bytes of audio, about 1 seconds.',
      usage: { type: 'duration', seconds: 1 },
    });
    expect(stack.wire.some((w) => w.includes('a.wav'))).toBe(false);
  });

  it('refuses JSON (415), a broken form or no file (400), an unknown model (404), too much audio (413)', async () => {
    expect((await post('/v1/audio/transcriptions', { model: 'sealgate-builtin' })).status).toBe(415);
    const broken = await call('/v1/audio/transcriptions', {
      method: 'POST',
      headers: { ...BEARER, 'content-type': 'multipart/form-data; boundary=zz' },
      body: 'not a form',
    });
    expect(broken.status).toBe(400);
    const noFile = new FormData();
    noFile.append('model', 'sealgate-builtin');
    expect(
      (await call('/v1/audio/transcriptions', { method: 'POST', headers: BEARER, body: noFile })).status,
    ).toBe(400);
    const unknown = await call('/v1/audio/transcriptions', {
      method: 'POST',
      headers: BEARER,
      body: audioForm(10, { model: 'nope' }),
    });
    expect(unknown.status).toBe(404);
    const big = await call('/v1/audio/transcriptions', {
      method: 'POST',
      headers: BEARER,
      body: audioForm(MAX_AUDIO_BODY_BYTES + 1),
    });
    expect(big.status).toBe(413);
  });

  it('refuses a form two readers could read as two forms: nothing reaches a worker', async () => {
    // Without the check, with two boundary parameters workerd (gateway and worker) read the first
    // boundary's form — model sealgate-builtin, 100 bytes — while a model server that keeps the
    // last parameter (a dict of parameters, as Python's readers build) reads the second one in the
    // same bytes: another model than the envelope and the receipt name. Refused before sealing now.
    const part = (b: string, model: string, audio: number) =>
      `--${b}\r\nContent-Disposition: form-data; name="model"\r\n\r\n${model}\r\n` +
      `--${b}\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\n${'x'.repeat(audio)}\r\n--${b}--\r\n`;
    const send = (type: string, body: string) =>
      call('/v1/audio/transcriptions', {
        method: 'POST',
        headers: { ...BEARER, 'content-type': type },
        body: new TextEncoder().encode(body),
      });
    stack.calls.length = 0;
    const twoForms = part('AAA', 'sealgate-builtin', 100) + part('BBB', 'gpt-4o-mini', 200);
    const two = await send('multipart/form-data; boundary=AAA; boundary=BBB', twoForms);
    expect(two.status).toBe(415);
    expect(((await two.json()) as { error: { code: string } }).error.code).toBe('unsupported_media_type');
    // A disposition header twice, a base64 part (python-multipart decodes it, workerd does not), an
    // escaped backslash before a quote (python's splitter and RFC 7230 end the filename in two
    // places), bare LF line breaks: 400 invalid_request.
    const disposition = 'Content-Disposition: form-data; name="model"';
    const hostile = [
      part('AAA', 'sealgate-builtin', 10).replace(
        disposition,
        `${disposition}\r\nContent-Disposition: form-data; name="x"`,
      ),
      part('AAA', 'sealgate-builtin', 10).replace(
        'filename="a.wav"',
        'filename="a.wav"\r\nContent-Transfer-Encoding: base64',
      ),
      part('AAA', 'sealgate-builtin', 10).replace('filename="a.wav"', 'filename="a\\\\"; name="model"'),
      part('AAA', 'sealgate-builtin', 10).replaceAll('\r\n', '\n'),
    ];
    /** Each body's status and its error code or transcript, one request at a time. */
    const answers = async (bodies: string[]) => {
      const out: [number, string | undefined][] = [];
      for (const body of bodies) {
        const res = await send('multipart/form-data; boundary=AAA', body);
        const json = (await res.json()) as { error?: { code: string }; text?: string };
        out.push([res.status, json.error?.code ?? json.text]);
      }
      return out;
    };
    expect(await answers(hostile)).toEqual(hostile.map(() => [400, 'invalid_request']));
    expect(stack.calls.filter((c) => c.startsWith('POST http://worker'))).toEqual([]);
    // The same form, strict: served; and the legal forms that were refused before (a preamble,
    // token names, an escaped quote in a filename, another part header in lower case), each read
    // alike by every reader: served too, the file's 10 bytes heard.
    const legal = [
      part('AAA', 'sealgate-builtin', 10),
      `preamble\r\n${part('AAA', 'sealgate-builtin', 10)}`,
      part('AAA', 'sealgate-builtin', 10).replace(
        'name="file"; filename="a.wav"',
        'name=file; filename=a.wav',
      ),
      part('AAA', 'sealgate-builtin', 10).replace('filename="a.wav"', 'filename="a\\"; name=\\"model"'),
      part('AAA', 'sealgate-builtin', 10).replace('filename="a.wav"', 'filename="a.wav"\r\nx-request-id: 7'),
    ];
    const heard = 'Sealgate heard 10 bytes of audio, about 0 seconds.';
    expect(await answers(legal)).toEqual(legal.map(() => [200, heard]));
  });
});
