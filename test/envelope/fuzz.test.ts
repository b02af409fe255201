/**
 * Property tests: the openers never accept garbage, never release plaintext from a frame that did
 * not authenticate, and never throw anything but SealgateError.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toBase64Url } from '../../src/bytes.js';
import type { RequestContext } from '../../src/envelope/data-key.js';
import { openRequest, sealRequest } from '../../src/envelope/request.js';
import { openResponse, sealResponse } from '../../src/envelope/response.js';
import { createStreamOpener, sealStream } from '../../src/envelope/stream.js';
import { SealgateError } from '../../src/errors.js';
import { createKek } from '../../src/keys/kek.js';
import { openKek } from '../../src/keys/kek-transport.js';
import { KeyRing } from '../../src/keys/key-ring.js';
import hpkeVector from '../vectors/hpke-xwing-v1.json';
import { ramp, unhex } from '../vectors/reference.js';

const T = 1_767_225_600;
const ROUTE = '/v1/chat/completions';
const CHUNKS = ['one', 'two', 'three', '[DONE]'];
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

async function fixture() {
  const kek = await createKek({ key: ramp(1, 32), notBefore: T - 60, notAfter: T + 3600 });
  const ring = await KeyRing.from([kek]);
  const { sealed, context } = await sealRequest({
    kek,
    route: ROUTE,
    requestId: 'req-1',
    body: { model: 'm', stream: true, messages: [{ role: 'user', content: 'secret' }] },
    now: T,
  });
  const frames: Uint8Array[] = [];
  for await (const f of sealStream(
    context,
    CHUNKS.map((c) => [c]),
  ))
    frames.push(f);
  const response = await sealResponse(context, { choices: [], usage: { total_tokens: 3 } });
  return { kek, ring, sealed, context, frames, response };
}

/** Resolves to 'accepted' or the SealgateError code; anything else thrown fails the property. */
async function outcome(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
    return 'accepted';
  } catch (e) {
    if (!(e instanceof SealgateError)) throw new Error(`non-SealgateError thrown: ${String(e)}`);
    return e.code;
  }
}

const anyJson = fc.oneof(
  fc.jsonValue(),
  fc.string(),
  fc.string().map((s) => `{"seq":0,${s}`),
);
const b64Bytes = (min: number, max: number) =>
  fc.uint8Array({ minLength: min, maxLength: max }).map(toBase64Url);

describe('openRequest never accepts garbage', () => {
  it('arbitrary JSON values and texts', async () => {
    const { ring } = await fixture();
    await fc.assert(
      fc.asyncProperty(anyJson, async (garbage) => {
        const code = await outcome(() =>
          openRequest(garbage, ring, { route: ROUTE, now: T, maxAgeSeconds: 300 }),
        );
        expect(code).toBe('decryption_failed');
      }),
      { numRuns: 300 },
    );
  });
  it('well-formed envelopes with random key material under a known kid', async () => {
    const { ring, kek } = await fixture();
    const envelope = fc.record({
      model: fc.constant('m'),
      sealgate: fc.record({
        v: fc.constant(1),
        kid: fc.constant(kek.kid),
        rid: fc.constant('req-1'),
        ts: fc.integer({ min: T - 300, max: T }),
        wk: b64Bytes(40, 40),
        iv: b64Bytes(12, 12),
        ct: b64Bytes(16, 200),
      }),
    });
    await fc.assert(
      fc.asyncProperty(envelope, async (e) => {
        expect(await outcome(() => openRequest(e, ring, { route: ROUTE, now: T, maxAgeSeconds: 300 }))).toBe(
          'decryption_failed',
        );
      }),
      { numRuns: 200 },
    );
  });
  it('a real sealed request with any one character of any field changed', async () => {
    const { ring, sealed } = await fixture();
    const fields = ['model', 'wk', 'iv', 'ct', 'rid', 'kid'] as const;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...fields),
        fc.nat(),
        fc.constantFrom(...B64),
        async (field, at, ch) => {
          const s = JSON.parse(JSON.stringify(sealed));
          const holder = field === 'model' ? s : s.sealgate;
          const value: string = holder[field];
          const i = at % value.length;
          fc.pre(value[i] !== ch);
          holder[field] = value.slice(0, i) + ch + value.slice(i + 1);
          const code = await outcome(() =>
            openRequest(s, ring, { route: ROUTE, now: T, maxAgeSeconds: 300 }),
          );
          expect(['decryption_failed', 'unknown_key']).toContain(code);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('the stream opener', () => {
  it('releases only a prefix of the real chunks, and accepts only the real stream', async () => {
    const { context, frames } = await fixture();
    // Real records, random bytes, and records with a random type and length (head only or more).
    const garbage = fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 48 }),
      fc.tuple(fc.nat(4), fc.nat(80), fc.uint8Array({ maxLength: 40 })).map(([type, length, payload]) => {
        const out = new Uint8Array(5 + payload.length);
        out[0] = type;
        new DataView(out.buffer).setUint32(1, length);
        out.set(payload, 5);
        return out;
      }),
    );
    const input = fc.array(
      fc.oneof(
        fc.nat(frames.length - 1).map((i) => frames[i]!),
        garbage,
      ),
      { maxLength: 8 },
    );
    await fc.assert(
      fc.asyncProperty(input, async (sequence) => {
        const released: string[] = [];
        const opener = createStreamOpener(context as RequestContext);
        const code = await outcome(async () => {
          for (const f of sequence) {
            await opener.push(f, (events) => {
              for (const e of events) released.push(new TextDecoder().decode(e));
            });
          }
          opener.finish();
        });
        expect(CHUNKS.slice(0, released.length)).toEqual(released);
        if (code === 'accepted') expect(sequence).toEqual(frames);
        else expect(['decryption_failed', 'stream_truncated']).toContain(code);
      }),
      { numRuns: 300 },
    );
  });
});

describe('openResponse and openKek never accept garbage', () => {
  it('openResponse: arbitrary JSON, and random ciphertexts', async () => {
    const { context, response } = await fixture();
    const forged = fc.record({
      usage: fc.constant(response.usage),
      sealgate: fc.record({ v: fc.constant(1), rs: b64Bytes(32, 32), ct: b64Bytes(16, 64) }),
    });
    await fc.assert(
      fc.asyncProperty(fc.oneof(anyJson, forged), async (garbage) => {
        expect(await outcome(() => openResponse(context, garbage))).toBe('decryption_failed');
      }),
      { numRuns: 300 },
    );
  });
  it('openKek: arbitrary JSON, and random enc/ct (X-Wing decapsulation, so fewer runs)', async () => {
    const seed = unhex(hpkeVector.seed);
    const forged = fc.record({
      v: fc.constant(1),
      kid: fc.constant(hpkeVector.kekTransport.sealed.kid),
      enc: b64Bytes(1120, 1120),
      ct: b64Bytes(65, 65),
    });
    await fc.assert(
      fc.asyncProperty(fc.oneof(anyJson, forged), async (garbage) => {
        expect(await outcome(() => openKek(seed, garbage, { purpose: 'kek-release' }))).toBe(
          'decryption_failed',
        );
      }),
      { numRuns: 40 },
    );
  });
});
