/**
 * Hostile input to the running gateway. A transcription form whose part header a Python
 * model server reads as another field (src/api/transcriptions/multipart-params.ts) is
 * refused before anything is sealed. And hostile number shapes through the running gateway (the Worker in workerd, the
 * real service and worker apps behind it): what the gateway checked and metered, what it sealed,
 * and what the worker's model client writes for the model server must be one reading of the
 * client's text. `stack.modelBodies` is what the model received; `JSON.stringify` of it is the
 * text the worker sends a model server (src/model/upstream.ts). Held: every shape below is either
 * refused before anything is sealed or reaches the model as one value — the client's literal where
 * it lies beyond ±(2^53 − 1), JavaScript's shortest form of the same double within it.
 */
import { expect, it } from 'vitest';
import { callGateway as call, stackPerFile } from './do-helpers.js';
import { env, gatewayDescribe, type Stack, workerPosts } from './stack.js';

const CHAT = '/v1/chat/completions';
const HI = '"messages":[{"role":"user","content":"hi"}]';
let stack: Stack;

const post = (body: string) =>
  call(CHAT, {
    method: 'POST',
    headers: { authorization: `Bearer ${env.DEV_API_KEY}`, 'content-type': 'application/json' },
    body,
  });
const sentToModel = () => stack.modelBodies.map((b) => JSON.stringify(b));

stackPerFile({ keyed: true, freshRecords: true }, (s) => {
  stack = s;
});

/** [the client's field, what the model server is sent for it]. */
const ONE_READING: [string, string][] = [
  // Beyond ±(2^53 − 1): the literal, whatever its form.
  ['"seed":1e21', '"seed":1e21'],
  ['"seed":1000000000000000000000', '"seed":1000000000000000000000'],
  ['"seed":1E+21', '"seed":1E+21'],
  ['"seed":-12345678901234567890', '"seed":-12345678901234567890'],
  ['"seed":9007199254740992.5', '"seed":9007199254740992.5'],
  [`"x":1${'0'.repeat(300)}`, `"x":1${'0'.repeat(300)}`],
  [`"x":-${'9'.repeat(308)}`, `"x":-${'9'.repeat(308)}`],
  // A big integer as a duplicate key: the last one, as everywhere else.
  ['"seed":12345678901234567890,"seed":1', '"seed":1'],
  ['"seed":1,"seed":12345678901234567890', '"seed":12345678901234567890'],
  // "__proto__" holding one: a data field with the literal.
  ['"__proto__":12345678901234567890', '"__proto__":12345678901234567890'],
  // 63 levels of arrays around one (the body's object is the 64th level).
  [
    `"x":${'['.repeat(63)}12345678901234567890${']'.repeat(63)}`,
    `"x":${'['.repeat(63)}12345678901234567890${']'.repeat(63)}`,
  ],
  // Within the exact range: the same double, in JavaScript's form of it (a Python server reads
  // the same value; `-0.0` loses its sign, `1.0` and `1e-400` become integers).
  ['"temperature":-0', '"temperature":0'],
  ['"temperature":-0.0', '"temperature":0'],
  ['"temperature":1.0', '"temperature":1'],
  ['"temperature":1e-400', '"temperature":0'],
  ['"temperature":0.30000000000000000001', '"temperature":0.3'],
];

gatewayDescribe('hostile numbers: one reading from the client to the model server (held)', () => {
  const short = (text: string) => (text.length > 60 ? `${text.slice(0, 57)}...` : text);
  it.each(ONE_READING.map(([f, e]) => [short(f), short(e), f, e]))(
    '%s → %s',
    async (_f, _e, field, expected) => {
      const res = await post(`{"model":"sealgate-builtin",${field},${HI}}`);
      expect(res.status).toBe(200);
      expect(sentToModel()).toEqual([`{"model":"sealgate-builtin",${expected},${HI}}`]);
    },
  );

  it('integer-like keys are sent in ascending order first (ECMAScript key order): same members', async () => {
    const res = await post(`{"model":"sealgate-builtin","logit_bias":{"50256":-100,"1000":5,"a":1},${HI}}`);
    expect(res.status).toBe(200);
    expect(sentToModel()).toEqual([
      `{"model":"sealgate-builtin","logit_bias":{"1000":5,"50256":-100,"a":1},${HI}}`,
    ]);
  });

  it('refused before anything is sealed: past double range, too deep with a big integer, a metered field', async () => {
    const refused = [
      '"seed":1e400',
      `"x":${'9'.repeat(5000)}`,
      '"seed":-1.7976931348623159e308',
      `"x":${'['.repeat(64)}12345678901234567890${']'.repeat(64)}`,
      '"max_tokens":1e21',
      '"max_tokens":5,"max_tokens":12345678901234567890',
      '"n":9007199254740993',
    ];
    for (const field of refused) {
      const res = await post(`{"model":"sealgate-builtin",${field},${HI}}`);
      expect(res.status, field.slice(0, 40)).toBe(400);
    }
    expect(workerPosts(stack)).toEqual([]);
  });
});

gatewayDescribe('a form Starlette reads as another field (found): nothing reaches a worker', () => {
  const form = (disposition: string): Uint8Array<ArrayBuffer> =>
    Uint8Array.from(
      '--AAA\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\nRIFF\r\n' +
        `--AAA\r\nContent-Disposition: ${disposition}\r\n\r\nsealgate-builtin\r\n--AAA--\r\n`,
      (c) => c.charCodeAt(0),
    );
  const send = (body: Uint8Array<ArrayBuffer>) =>
    call('/v1/audio/transcriptions', {
      method: 'POST',
      headers: {
        authorization: `Bearer ${env.DEV_API_KEY}`,
        'content-type': 'multipart/form-data; boundary=AAA',
      },
      body,
    });

  it('a UTF-8 no-break space after the name: 400, where it was sealed and served', async () => {
    // Starlette 1.7.0 read this part as the field "modelÂ": the server saw no `model`.
    const res = await send(form('form-data; name=model\xc2\xa0'));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_request');
    expect(workerPosts(stack)).toEqual([]);
    // The control: the same form with a plain name is served.
    expect((await send(form('form-data; name=model'))).status).toBe(200);
  });
});
