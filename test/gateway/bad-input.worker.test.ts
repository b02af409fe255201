/**
 * Bad HTTP input at the gateway, with a WORKING upstream: the key-rotation DO has attested the
 * real attestation service and holds a KEK, the real AI worker holds it too, so a good request IS
 * sealed and sent (the control case below). Every bad one must come back as OpenAI's error JSON with
 * the right status and code — and the recording upstream (test/gateway/stack.ts `calls`) must show
 * that nothing at all was sent to a worker.
 */
import { expect, it } from 'vitest';
import { callGateway as call, stackPerFile } from './do-helpers.js';
import { bodiesSentDuring, env, gatewayDescribe, type Stack, workerPosts } from './stack.js';

const CHAT = '/v1/chat/completions';
const GOOD = { model: 'sealgate-builtin', messages: [{ role: 'user', content: 'the secret prompt' }] };
const AUTH = `Bearer ${env.DEV_API_KEY}`;
let stack: Stack;

function post(body: BodyInit, headers: Record<string, string> = {}, path = CHAT): Promise<Response> {
  const h = new Headers({ authorization: AUTH, 'content-type': 'application/json' });
  for (const [k, v] of Object.entries(headers)) h.set(k, v);
  return call(path, { method: 'POST', headers: h, body });
}

/** OpenAI's error JSON, exactly, with `code` and `status`, and the manifest header. */
async function expectError(res: Response, status: number, code: string, what: string) {
  expect(res.status, what).toBe(status);
  expect(res.headers.get('content-type'), what).toMatch(/^application\/json/);
  const text = await res.text();
  const body = JSON.parse(text) as { error: Record<string, unknown> };
  expect(Object.keys(body), what).toEqual(['error']);
  expect(Object.keys(body.error).sort(), what).toEqual(['code', 'message', 'param', 'type']);
  expect(body.error.code, what).toBe(code);
  expect(typeof body.error.message, what).toBe('string');
  expect(body.error.type, what).toBe(
    status === 401 ? 'authentication_error' : status >= 500 ? 'server_error' : 'invalid_request_error',
  );
  expect(res.headers.get('x-sealgate-manifest'), what).toMatch(/^[0-9a-f]{64}$/);
  expect(text, what).not.toContain('secret prompt');
  return body.error;
}

stackPerFile({ keyed: true, freshRecords: true }, (s) => {
  stack = s;
});

gatewayDescribe('bad HTTP input: refused, and nothing forwarded', () => {
  it('control: a good request is sealed and sent to exactly one worker', async () => {
    const res = await post(JSON.stringify(GOOD));
    expect(res.status).toBe(200);
    expect(workerPosts(stack)).toHaveLength(1);
  });

  it('malformed JSON and invalid UTF-8 → 400 invalid_json', async () => {
    const bodies: [string, BodyInit][] = [
      ['truncated', '{"model":'],
      ['empty', ''],
      ['bare word', 'nul'],
      ['single quotes', "{'model':'m'}"],
      ['trailing comma', '{"model":"m",}'],
      ['two values', '{"model":"m"}{"model":"m"}'],
      ['invalid UTF-8', new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])],
      ['UTF-16 bytes', new Uint8Array([0xff, 0xfe, 0x7b, 0x00, 0x7d, 0x00])],
    ];
    for (const [what, body] of bodies) await expectError(await post(body), 400, 'invalid_json', what);
    expect(workerPosts(stack)).toEqual([]);
  });

  it('JSON that is not an object, or has no usable model → 400 invalid_request', async () => {
    const bodies = ['[1,2]', '"text"', '42', 'null', 'true', '{}', '{"model":7}', '{"model":null}'];
    for (const body of bodies) await expectError(await post(body), 400, 'invalid_request', body);
    expect(workerPosts(stack)).toEqual([]);
  });

  it('plain fields of the wrong type (stream, max_tokens, n, model) → 400 invalid_request', async () => {
    const bad = [
      { ...GOOD, stream: 'yes' },
      { ...GOOD, stream: 1 },
      { ...GOOD, max_tokens: -1 },
      { ...GOOD, max_tokens: 1.5 },
      { ...GOOD, n: '2' },
      { ...GOOD, model: '' },
      { ...GOOD, model: 'a\nb' },
      { ...GOOD, model: 'm'.repeat(257) },
    ];
    for (const body of bad) {
      const what = JSON.stringify(body).slice(0, 80);
      const error = await expectError(await post(JSON.stringify(body)), 400, 'invalid_request', what);
      // Worded for the client: OpenAI's `param` names the field; no internal function name.
      const field = Object.keys(body).find(
        (k) => body[k as keyof typeof body] !== GOOD[k as keyof typeof GOOD],
      );
      expect(error.param, what).toBe(field);
      expect(error.message, what).toMatch(new RegExp(`^${field} must be `));
    }
    expect(workerPosts(stack)).toEqual([]);
  });

  it('a wrong, missing, duplicated or non-UTF-8 content type → 415', async () => {
    const good = JSON.stringify(GOOD);
    const types = [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/jsonx',
      'application/json-seq',
      'application/json; charset=utf-16',
      'application/json; charset="latin1"',
      'application/json, text/plain',
      '',
    ];
    for (const type of types)
      await expectError(await post(good, { 'content-type': type }), 415, 'unsupported_media_type', type);
    const none = await call(CHAT, {
      method: 'POST',
      headers: { authorization: AUTH },
      body: new TextEncoder().encode(good),
    });
    await expectError(none, 415, 'unsupported_media_type', 'no content-type');
    expect(workerPosts(stack)).toEqual([]);
    // What is accepted: the media type in any case, a UTF-8 charset, quoted or not, other parameters.
    for (const type of [
      'Application/JSON',
      'application/json; charset=UTF-8',
      'application/json;charset="utf-8"',
    ]) {
      expect((await post(good, { 'content-type': type })).status, type).toBe(200);
    }
  });

  it('a body over the limit → 413, whether content-length is honest, too big, too small or absent', async () => {
    const big = new TextEncoder().encode(JSON.stringify({ ...GOOD, pad: 'x'.repeat(4 * 1024 * 1024) }));
    await expectError(await post(big), 413, 'payload_too_large', 'honest content-length');
    // A small body that claims to be huge is refused on the claim, before reading.
    const claimsHuge = await call(CHAT, {
      method: 'POST',
      headers: { authorization: AUTH, 'content-type': 'application/json', 'content-length': String(1 << 30) },
      body: streamOf([new TextEncoder().encode(JSON.stringify(GOOD))]),
      duplex: 'half',
    } as RequestInit);
    await expectError(claimsHuge, 413, 'payload_too_large', 'content-length too big');
    // A huge body that claims to be small, and one with no length at all: counted as it arrives.
    const pieces = Array.from({ length: 70 }, (_, i) => big.subarray(i * 65536, (i + 1) * 65536));
    for (const headers of [{ 'content-length': '16' }, {}]) {
      const res = await call(CHAT, {
        method: 'POST',
        headers: { authorization: AUTH, 'content-type': 'application/json', ...headers },
        body: streamOf(pieces),
        duplex: 'half',
      } as RequestInit);
      await expectError(res, 413, 'payload_too_large', JSON.stringify(headers));
    }
    expect(workerPosts(stack)).toEqual([]);
  });

  it('a body that breaks off (the client went away mid-body) → 400 invalid_request, not a 500', async () => {
    // Without the check, the failing read escaped to the app's error handler — 500 internal_error,
    // logged as a failed request — for what is the client's input.
    const head = new TextEncoder().encode(
      '{"model":"sealgate-builtin","messages":[{"role":"user","content":"the sec',
    );
    const cases: [string, string][] = [
      [CHAT, 'application/json'],
      ['/v1/messages', 'application/json'],
      ['/v1/audio/transcriptions', 'multipart/form-data; boundary=AAA'],
    ];
    for (const [path, type] of cases) {
      let reads = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(c) {
          if (reads++ === 0) c.enqueue(head);
          else c.error(new TypeError('test: the client went away'));
        },
      });
      const res = await call(path, {
        method: 'POST',
        headers: { authorization: AUTH, 'content-type': type },
        body,
        duplex: 'half',
      } as RequestInit);
      if (path === '/v1/messages') {
        expect(res.status, path).toBe(400);
        expect(await res.json(), path).toMatchObject({ type: 'error', error: { code: 'invalid_request' } });
      } else await expectError(res, 400, 'invalid_request', path);
    }
    expect(workerPosts(stack)).toEqual([]);
  });

  it('a missing, malformed, wrong or oversized API key → 401 with WWW-Authenticate: Bearer', async () => {
    const key = env.DEV_API_KEY;
    const values = [
      'Bearer',
      'Bearer ',
      `Basic ${btoa(`user:${key}`)}`,
      `Token ${key}`,
      key,
      `Bearer ${key} extra`,
      `Bearer\t${key}`,
      `Bearer ${key}x`,
      `Bearer ${key.slice(0, -1)}`,
      `Bearer ${'a'.repeat(100_000)}`,
      `Bearer ${key}é`,
      `Bearer "${key}"`,
    ];
    for (const v of values) {
      const res = await post(JSON.stringify(GOOD), { authorization: v });
      expect(res.headers.get('www-authenticate'), v.slice(0, 40)).toBe('Bearer');
      await expectError(res, 401, 'invalid_api_key', v.slice(0, 40));
    }
    const none = await call(CHAT, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(GOOD),
    });
    await expectError(none, 401, 'invalid_api_key', 'no authorization');
    // Two Authorization headers arrive joined by ", ": not one key.
    const twice = new Headers({ 'content-type': 'application/json' });
    twice.append('authorization', AUTH);
    twice.append('authorization', AUTH);
    await expectError(
      await call(CHAT, { method: 'POST', headers: twice, body: JSON.stringify(GOOD) }),
      401,
      'invalid_api_key',
      'two authorization headers',
    );
    // Without a key, even a broken body is answered 401 (authentication first, nothing parsed).
    await expectError(
      await post('{"model":', { authorization: 'Bearer nope' }),
      401,
      'invalid_api_key',
      'bad body, no key',
    );
    expect(workerPosts(stack)).toEqual([]);
    // RFC 9110 §11.1: the scheme is case-insensitive; extra spaces around the token are tolerated.
    for (const v of [`bearer ${key}`, `BEARER  ${key}  `]) {
      expect((await post(JSON.stringify(GOOD), { authorization: v })).status, v).toBe(200);
    }
  });

  it('unknown routes → 404 not_found, with or without a key', async () => {
    const paths = [
      '/v1/chat/completion',
      '/v1/chat/completions/',
      '/V1/chat/completions',
      '/v1/chat%2Fcompletions',
      '/v1/engines/davinci/completions',
      '/v1/assistants',
      '/index.html',
      '/v1',
      `/v1/${'x'.repeat(4000)}`,
    ];
    for (const p of paths) {
      await expectError(await post(JSON.stringify(GOOD), {}, p), 404, 'not_found', p.slice(0, 40));
      await expectError(await call(p), 404, 'not_found', `${p.slice(0, 40)} without key`);
    }
    expect(workerPosts(stack)).toEqual([]);
  });

  it('wrong methods → 405 method_not_allowed with Allow', async () => {
    for (const method of ['GET', 'PUT', 'DELETE', 'PATCH']) {
      for (const [path, allow] of [
        [CHAT, 'POST'],
        ['/v1/embeddings', 'POST'],
        ['/v1/models', 'GET'],
        ['/', 'GET'], // the public verification page
        ['/v1/attestation', 'GET'],
      ] as const) {
        if (method === allow) continue;
        const res = await call(path, {
          method,
          headers: { authorization: AUTH, 'content-type': 'application/json' },
          ...(method === 'GET' ? {} : { body: JSON.stringify(GOOD) }),
        });
        expect(res.headers.get('allow'), `${method} ${path}`).toBe(allow === 'GET' ? 'GET, HEAD' : allow);
        await expectError(res, 405, 'method_not_allowed', `${method} ${path}`);
      }
    }
    expect(workerPosts(stack)).toEqual([]);
  });

  it('odd but harmless headers do not get in the way; a duplicated content-type does', async () => {
    const good = JSON.stringify(GOOD);
    const odd: Record<string, string>[] = [
      { 'x-pad': 'p'.repeat(32 * 1024) },
      { 'x-latin1': 'caf\u00e9 \u00ff' },
      { 'openai-organization': 'org-1', 'openai-project': 'proj-1' },
      { accept: 'text/html' },
      { 'content-encoding': 'identity' },
    ];
    for (const h of odd) expect((await post(good, h)).status, Object.keys(h)[0]).toBe(200);
    stack.calls.length = 0;
    const twice = new Headers({ authorization: AUTH });
    twice.append('content-type', 'application/json');
    twice.append('content-type', 'application/json');
    await expectError(
      await call(CHAT, { method: 'POST', headers: twice, body: good }),
      415,
      'unsupported_media_type',
      'two content-types',
    );
    expect(workerPosts(stack)).toEqual([]);
  });

  it('deep nesting and odd numbers in the body: a typed answer, never a 500', async () => {
    const deep = `{"model":"sealgate-builtin","messages":${'['.repeat(200_000)}${']'.repeat(200_000)}}`;
    const res = await post(deep);
    await expectError(res, 400, 'invalid_request', 'nested 200 000 deep');
    // Without the check, such a body was sealed and sent (a worker refused it). Refused at the
    // edge now, at 65 levels; 64 pass.
    const nested = (n: number) =>
      `{"model":"sealgate-builtin","x":${'['.repeat(n - 1)}${']'.repeat(n - 1)},"messages":[]}`;
    await expectError(await post(nested(65)), 400, 'invalid_request', 'nested 65 deep');
    // A number the gateway would parse again exactly (with a recursive reviver) does not take a
    // deep body past the depth check: refused first.
    const deepBig = `{"model":"sealgate-builtin","seed":1e20,"x":${'['.repeat(200_000)}${']'.repeat(200_000)}}`;
    await expectError(await post(deepBig), 400, 'invalid_request', 'nested deep, with 1e20');
    // 1e400 is a JSON number (Infinity to JavaScript): refused, not sent on as null.
    const huge = await post('{"model":"sealgate-builtin","max_tokens":1e400,"messages":[]}');
    await expectError(huge, 400, 'invalid_request', 'max_tokens 1e400');
    // Without the check, in a sealed field it WAS sealed and the model server saw
    // `"temperature": null` — another request than the client's. Refused wherever it sits.
    for (const field of ['"temperature":1e400', '"logit_bias":{"50256":-1e400}', '"x":[[{"y":1E999}]]']) {
      const body = `{"model":"sealgate-builtin",${field},"messages":[{"role":"user","content":"hi"}]}`;
      await expectError(await post(body), 400, 'invalid_request', field);
    }
    expect(workerPosts(stack)).toEqual([]);
  });

  it('a number beyond ±(2^53 − 1) reaches the model exactly as the client wrote it', async () => {
    // Without the check, such an integer WAS sealed rounded — the model saw `"seed":
    // 12345678901234567000`, another seed than the client's. Refused after that (a legal int64
    // bound in a tool's schema too); carried byte for byte now (src/json/exact-numbers.ts).
    const fields = [
      '"seed":12345678901234567890',
      '"seed":-9007199254740993',
      '"x":{"y":[1e20,1000000000000000000000,12345678901234567890.0]}',
      '"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"n":{"type":"integer","minimum":-9223372036854775808,"maximum":9223372036854775807}}}}}]',
      // The exact range's end, as before.
      '"seed":9007199254740991',
    ];
    for (const field of fields) {
      stack.modelBodies.length = 0;
      const body = `{"model":"sealgate-builtin",${field},"messages":[{"role":"user","content":"hi"}]}`;
      expect((await post(body)).status, field).toBe(200);
      // What the worker's model client writes for the model server (src/model/upstream.ts).
      expect(
        stack.modelBodies.map((b) => JSON.stringify(b)),
        field,
      ).toEqual([body]);
    }
    // A plain field the gateway reads as a number is refused, not read as a rounding: 400.
    const big = '{"model":"sealgate-builtin","max_tokens":9007199254740993,"messages":[]}';
    stack.calls.length = 0;
    const refused = await expectError(await post(big), 400, 'invalid_request', 'max_tokens past 2^53');
    expect(refused.param).toBe('max_tokens');
    expect(workerPosts(stack)).toEqual([]);
  });

  it('a content-coded body (gzip, br, or any coding but identity) → 415 with Accept-Encoding: identity', async () => {
    const good = JSON.stringify(GOOD);
    const gzipped = await new Response(
      new Blob([good]).stream().pipeThrough(new CompressionStream('gzip')),
    ).arrayBuffer();
    // Without the check, gzip was read as garbage (400 invalid_json), and a plain
    // body labelled `br` was served as if the label were not there.
    const cases: [string, BodyInit][] = [
      ['gzip', gzipped],
      ['br', good],
      ['deflate', good],
      ['identity, gzip', gzipped],
      ['GZIP', gzipped],
    ];
    for (const [coding, body] of cases) {
      const res = await post(body, { 'content-encoding': coding });
      expect(res.headers.get('accept-encoding'), coding).toBe('identity');
      await expectError(res, 415, 'unsupported_media_type', coding);
    }
    const form = new FormData();
    form.append('model', 'sealgate-builtin');
    form.append('file', new Blob([new Uint8Array(64)]), 'a.wav');
    const audio = await call('/v1/audio/transcriptions', {
      method: 'POST',
      headers: { authorization: AUTH, 'content-encoding': 'gzip' },
      body: form,
    });
    await expectError(audio, 415, 'unsupported_media_type', 'transcription, gzip');
    expect(workerPosts(stack)).toEqual([]);
    for (const coding of ['identity', 'Identity']) {
      expect((await post(good, { 'content-encoding': coding })).status, coding).toBe(200);
    }
  });

  it('HEAD and a content-length that is not a number', async () => {
    const head = await call(CHAT, { method: 'HEAD', headers: { authorization: AUTH } });
    expect(head.status).toBe(405);
    expect(head.headers.get('allow')).toBe('POST');
    // RFC 9110 §9.1: HEAD on a GET resource is GET without content (it was 405 Allow: GET).
    for (const path of ['/healthz', '/v1/models', '/.well-known/jwks.json']) {
      const res = await call(path, { method: 'HEAD', headers: { authorization: AUTH } });
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type'), path).toMatch(/^application\/json/);
      expect(await res.text(), path).toBe('');
    }
    const noKey = await call('/v1/models', { method: 'HEAD' });
    expect(noKey.status).toBe(401);
    expect(await noKey.text()).toBe('');
    const odd = await call(CHAT, {
      method: 'POST',
      headers: { authorization: AUTH, 'content-type': 'application/json', 'content-length': 'abc' },
      body: streamOf([new TextEncoder().encode(JSON.stringify(GOOD))]),
      duplex: 'half',
    } as RequestInit);
    // Not a size we act on; the body is counted as it arrives and is small: served.
    expect([200, 400]).toContain(odd.status);
    if (odd.status === 400) await expectError(odd, 400, 'invalid_request', 'content-length abc');
  });

  it('an unknown model: sealed to an attested worker (never in the clear), which answers 404 model_not_found', async () => {
    // The gateway does not know the workers' model lists; only the attested worker opens the
    // request, so the model check happens there. What leaves the gateway is the sealed body.
    const seen = await bodiesSentDuring(async () => {
      const res = await post(JSON.stringify({ ...GOOD, model: 'no-such-model' }));
      await expectError(res, 404, 'model_not_found', 'unknown model');
    });
    expect(workerPosts(stack)).toHaveLength(1);
    expect(seen).toHaveLength(1);
    expect(seen[0]).not.toContain('secret prompt');
    expect(Object.keys(JSON.parse(seen[0]!)).sort()).toEqual(['model', 'sealgate']);
  });
});

function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(c) {
      if (i < chunks.length) c.enqueue(chunks[i++]!);
      else c.close();
    },
  });
}
