/**
 * The two envelope crypto backends against each other (src/envelope/envelope-crypto.ts): WebCrypto
 * (the gateway's, and the default) and `node:crypto` (the AI worker's). Every direction — sealed by
 * one, opened by the other — for requests, responses and stream frames; byte-identical output for
 * the same randomness, envelope-v1.json and the independent @noble reference included; and every
 * negative case gives the same SealgateError (code and message) with either backend as the opener.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nodeEnvelopeCrypto } from '../../src/ai-worker/node-envelope-crypto.js';
import { nodeSha256, nodeSha256Hex } from '../../src/ai-worker/node-sha256.js';
import { fromBase64Url, toBase64Url } from '../../src/bytes.js';
import type { RequestContext } from '../../src/envelope/data-key.js';
import type { EnvelopeCrypto } from '../../src/envelope/envelope-crypto.js';
import { openRequest, sealRequest } from '../../src/envelope/request.js';
import { openResponse, sealResponse } from '../../src/envelope/response.js';
import { createStreamOpener, createStreamSealer } from '../../src/envelope/stream.js';
import { webEnvelopeCrypto } from '../../src/envelope/web-crypto.js';
import { SealgateError } from '../../src/errors.js';
import { createKek } from '../../src/keys/kek.js';
import { KeyRing } from '../../src/keys/key-ring.js';
import { bodySha256, createStreamHash } from '../../src/receipts/receipt.js';
import { vectorRequest, vectorStreamFrames } from '../vectors/envelope-v1.js';
import v from '../vectors/envelope-v1.json';
import { fixedRandom, ramp, refGcmSeal, refHkdf, refUnwrap, refWrap, unhex } from '../vectors/reference.js';

const T = 1_767_225_600;
const ROUTE = '/v1/chat/completions';
const BACKENDS: Record<string, EnvelopeCrypto> = { web: webEnvelopeCrypto, node: nodeEnvelopeCrypto };
const PAIRS = [
  ['web', 'node'],
  ['node', 'web'],
  ['node', 'node'],
  ['web', 'web'],
] as const;
const BODY = {
  model: 'm',
  stream: false,
  max_tokens: 16,
  messages: [{ role: 'user', content: `the secret prompt ${'x'.repeat(4000)}` }],
};
const RESPONSE = {
  id: 'chatcmpl-1',
  choices: [{ index: 0, message: { role: 'assistant', content: 'the secret answer' } }],
  usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 },
};
const CHUNKS = ['{"delta":"Hel"}', '', '{"delta":"Grüße 👋"}', '[DONE]'];

async function fixture() {
  const kek = await createKek({ key: ramp(1, 32), notBefore: T - 60, notAfter: T + 3600 });
  const other = await createKek({ key: ramp(2, 32), notBefore: T - 60, notAfter: T + 3600 });
  const ring = await KeyRing.from([kek, other]);
  const seal = (backend: EnvelopeCrypto, random?: (n: number) => Uint8Array) =>
    sealRequest({
      kek,
      route: ROUTE,
      requestId: 'req-1',
      body: BODY,
      now: T,
      envelopeCrypto: backend,
      ...(random ? { random } : {}),
    });
  const open = (sealed: unknown, backend: EnvelopeCrypto, route = ROUTE) =>
    openRequest(sealed, ring, { route, now: T, maxAgeSeconds: 300, envelopeCrypto: backend });
  return { kek, other, ring, seal, open };
}

/** "ok" or the SealgateError's code and message (anything else fails the test). */
async function outcome(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
    return 'ok';
  } catch (e) {
    if (!(e instanceof SealgateError)) throw e;
    return `${e.code}: ${e.message}`;
  }
}

async function sealFrames(ctx: RequestContext, random?: (n: number) => Uint8Array): Promise<Uint8Array[]> {
  const sealer = createStreamSealer(ctx, random ? { random } : {});
  const frames = [];
  for (const c of CHUNKS) frames.push(await sealer.seal([c]));
  frames.push(await sealer.end());
  return frames;
}

/** Each record pushed as its own read: the events, then null once the stream finished whole. */
async function openFrames(ctx: RequestContext, frames: Uint8Array[]): Promise<(string | null)[]> {
  const opener = createStreamOpener(ctx);
  const out: (string | null)[] = [];
  for (const f of frames) {
    await opener.push(f, (events) => {
      for (const e of events) out.push(new TextDecoder().decode(e));
    });
  }
  opener.finish();
  out.push(null);
  return out;
}

/** `frames` with record `i` changed by `f` (a copy). */
function editFrame(frames: Uint8Array[], i: number, f: (x: Uint8Array) => void): Uint8Array[] {
  return frames.map((r, j) => {
    if (j !== (i < 0 ? frames.length + i : i)) return r;
    const x = Uint8Array.from(r);
    f(x);
    return x;
  });
}

/** A JSON copy to edit (sealed bodies are readonly in their types). */
type Editable = Record<string, unknown> & { sealgate: Record<string, unknown> };
const clone = (x: unknown): Editable => JSON.parse(JSON.stringify(x));
const flipBit = (b64u: string, byte: number, bit = 0): string => {
  const bytes = fromBase64Url(b64u);
  bytes[(byte + bytes.length) % bytes.length]! ^= 1 << bit;
  return toBase64Url(bytes);
};

describe('envelope backends: every direction', () => {
  for (const [gatewaySide, workerSide] of PAIRS) {
    it(`request, response and stream: gateway ${gatewaySide} ⇄ worker ${workerSide}`, async () => {
      const { seal, open } = await fixture();
      const g = BACKENDS[gatewaySide]!;
      const w = BACKENDS[workerSide]!;
      const { sealed, context: gCtx } = await seal(g);
      expect(gCtx.crypto).toBe(g);
      const opened = await open(sealed, w);
      expect(opened.body).toEqual(BODY);
      expect(opened.context.crypto).toBe(w);
      // The worker answers with its backend; the gateway opens with its own.
      const response = await sealResponse(opened.context, RESPONSE);
      expect(await openResponse(gCtx, JSON.stringify(response))).toEqual(RESPONSE);
      const frames = await sealFrames(opened.context);
      expect(await openFrames(gCtx, frames)).toEqual([...CHUNKS, null]);
      // And the other way round (either context seals, either opens).
      expect(await openResponse(opened.context, await sealResponse(gCtx, RESPONSE))).toEqual(RESPONSE);
      expect(await openFrames(opened.context, await sealFrames(gCtx))).toEqual([...CHUNKS, null]);
    });
  }

  it('same randomness → byte-identical sealed request, response and frames', async () => {
    const { seal } = await fixture();
    const out: Record<string, string> = {};
    for (const [name, backend] of Object.entries(BACKENDS)) {
      const { sealed, context } = await seal(backend, fixedRandom(ramp(7, 32), ramp(40, 12)));
      const response = await sealResponse(context, RESPONSE, { random: fixedRandom(ramp(9, 32)) });
      const frames = await sealFrames(context, fixedRandom(ramp(11, 32)));
      out[name] = JSON.stringify([sealed, response, frames]);
    }
    expect(out.node).toBe(out.web);
  });
});

describe('envelope backends: envelope-v1.json', () => {
  it('the node backend reproduces and opens every vector', async () => {
    const { gateway, worker } = await vectorRequest(nodeEnvelopeCrypto);
    expect(JSON.stringify(gateway.sealed)).toBe(JSON.stringify(v.request.sealed));
    expect(worker.body).toEqual(v.request.body);
    expect(gateway.context.crypto).toBe(nodeEnvelopeCrypto);
    expect(worker.context.crypto).toBe(nodeEnvelopeCrypto);
    for (const ctx of [gateway.context, worker.context]) {
      const sealed = await sealResponse(ctx, v.response.body, { random: fixedRandom(unhex(v.response.rs)) });
      expect(JSON.stringify(sealed)).toBe(JSON.stringify(v.response.sealed));
      expect(await openResponse(ctx, v.response.sealed)).toEqual(v.response.body);
    }
    expect(await vectorStreamFrames(worker.context)).toEqual(v.stream.frames);
    expect(await openFrames(gateway.context, v.stream.frames.map(unhex))).toEqual([
      ...v.stream.batches.flat(),
      null,
    ]);
  });
});

describe('envelope backends: the primitives against the @noble reference', () => {
  it('AES-KW wrap/unwrap, HKDF and AES-GCM agree byte for byte, over plaintext lengths 0…4097', async () => {
    const kek = await createKek({ key: ramp(3, 32), notBefore: T, notAfter: T + 60 });
    const dek = ramp(200, 32);
    const salt = ramp(50, 32);
    const aad = ramp(90, 45);
    const iv = ramp(17, 12);
    const kRef = refHkdf(dek, salt, 'sealgate/v1/stream-key');
    for (const backend of Object.values(BACKENDS)) {
      const { dek: handle, wk } = await backend.importAndWrapDek(kek, dek.slice());
      expect(wk).toEqual(refWrap(kek.key, dek));
      expect(backend.isDek(handle)).toBe(true);
      const unwrapped = await backend.unwrapDek(kek, wk, 'x');
      for (const h of [handle, unwrapped]) {
        const key = await backend.deriveAesKey(h, salt, 'sealgate/v1/stream-key');
        for (const n of [0, 1, 15, 16, 17, 4096, 4097]) {
          const pt = ramp(n, n);
          const ct = await backend.gcmSeal(key, iv, aad, pt);
          expect(ct).toEqual(refGcmSeal(kRef, iv, aad, pt));
          expect(await backend.gcmOpen(key, iv, aad, ct, 'x')).toEqual(pt);
        }
      }
    }
    expect(refUnwrap(kek.key, refWrap(kek.key, dek))).toEqual(dek);
  });

  it('a DEK handle works only with the backend that made it, and only as a DEK', async () => {
    const kek = await createKek({ key: ramp(3, 32), notBefore: T, notAfter: T + 60 });
    const web = await webEnvelopeCrypto.importAndWrapDek(kek, ramp(1, 32));
    const node = await nodeEnvelopeCrypto.importAndWrapDek(kek, ramp(1, 32));
    expect(webEnvelopeCrypto.isDek(node.dek)).toBe(false);
    expect(nodeEnvelopeCrypto.isDek(web.dek)).toBe(false);
    const aesKey = await nodeEnvelopeCrypto.deriveAesKey(node.dek, new Uint8Array(0), 'i');
    expect(nodeEnvelopeCrypto.isDek(aesKey)).toBe(false);
    expect(await outcome(async () => nodeEnvelopeCrypto.deriveAesKey(web.dek, new Uint8Array(0), 'i'))).toBe(
      'invalid_argument: node envelope crypto: not a DEK',
    );
    expect(
      await outcome(async () => nodeEnvelopeCrypto.deriveAesKey(aesKey as never, new Uint8Array(0), 'i')),
    ).toBe('invalid_argument: node envelope crypto: not a DEK');
    expect(
      await outcome(async () =>
        nodeEnvelopeCrypto.gcmSeal(node.dek as never, ramp(0, 12), ramp(0, 1), ramp(0, 1)),
      ),
    ).toBe('invalid_argument: node envelope crypto: not an AES key');
    expect(
      await outcome(async () => nodeEnvelopeCrypto.gcmSeal(aesKey, ramp(0, 11), ramp(0, 1), ramp(0, 1))),
    ).toBe('invalid_argument: node envelope crypto: iv must be 12 bytes');
    expect(await outcome(async () => nodeEnvelopeCrypto.importAndWrapDek(kek, ramp(0, 31)))).toBe(
      'invalid_argument: node envelope crypto: dek must be 32 bytes',
    );
    // A context whose DEK came from the other backend is refused before any crypto.
    const { seal } = await fixture();
    const { context } = await seal(webEnvelopeCrypto);
    expect(await outcome(() => sealResponse({ ...context, dek: node.dek }, RESPONSE))).toBe(
      'invalid_argument: sealResponse: context must come from sealRequest or openRequest',
    );
  });

  it('a KEK whose id does not match its key: the same invalid_argument from both', async () => {
    const kek = await createKek({ key: ramp(3, 32), notBefore: T, notAfter: T + 60 });
    const forged = { ...kek, key: ramp(4, 32) };
    const got = [];
    for (const backend of Object.values(BACKENDS)) {
      got.push(await outcome(async () => backend.unwrapDek(forged, new Uint8Array(40), 'x')));
      got.push(await outcome(async () => backend.importAndWrapDek(forged, ramp(0, 32))));
    }
    expect(new Set(got)).toEqual(new Set(['invalid_argument: KEK: kid does not match key']));
  });
});

describe('envelope backends: every failure is the same error', () => {
  type Mutation = [string, (s: Editable) => void];
  const env = (s: Editable, k: string) => s.sealgate[k] as string;
  const requestCases: Mutation[] = [
    ['wk first bit', (s) => (s.sealgate.wk = flipBit(env(s, 'wk'), 0))],
    ['wk last bit', (s) => (s.sealgate.wk = flipBit(env(s, 'wk'), -1, 7))],
    ['iv', (s) => (s.sealgate.iv = flipBit(env(s, 'iv'), 5))],
    ['ct first byte', (s) => (s.sealgate.ct = flipBit(env(s, 'ct'), 0))],
    ['ct tag', (s) => (s.sealgate.ct = flipBit(env(s, 'ct'), -1))],
    [
      'tag truncated by one byte',
      (s) => (s.sealgate.ct = toBase64Url(fromBase64Url(env(s, 'ct')).subarray(0, -1))),
    ],
    ['ct only a tag', (s) => (s.sealgate.ct = toBase64Url(fromBase64Url(env(s, 'ct')).subarray(-16)))],
    ['ct 15 bytes', (s) => (s.sealgate.ct = toBase64Url(new Uint8Array(15)))],
    ['aad: model', (s) => (s.model = 'n')],
    ['aad: max_tokens', (s) => (s.max_tokens = 17)],
    ['aad: rid', (s) => (s.sealgate.rid = 'req-2')],
    ['aad: ts', (s) => (s.sealgate.ts = T - 1)],
    ['wk 39 bytes', (s) => (s.sealgate.wk = toBase64Url(fromBase64Url(env(s, 'wk')).subarray(1)))],
    ['wk 48 bytes', (s) => (s.sealgate.wk = toBase64Url(new Uint8Array(48)))],
    ['iv 16 bytes', (s) => (s.sealgate.iv = toBase64Url(new Uint8Array(16)))],
  ];

  it('sealed requests: wrong KEK, flipped bits in wk/iv/ct/tag/AAD, truncation, wrong lengths', async () => {
    const { seal, open, other } = await fixture();
    const { sealed } = await seal(webEnvelopeCrypto);
    const cases: [string, unknown, string?][] = requestCases.map(([name, mutate]) => {
      const s = clone(sealed);
      mutate(s);
      return [name, s];
    });
    const wrongKek = clone(sealed);
    wrongKek.sealgate.kid = other.kid;
    cases.push(['another known KEK', wrongKek], ['another route', sealed, '/v1/completions']);
    for (const [name, s, route] of cases) {
      const web = await outcome(() => open(s, webEnvelopeCrypto, route));
      const node = await outcome(() => open(s, nodeEnvelopeCrypto, route));
      expect(node, name).toBe(web);
      expect(web, name).toMatch(/^decryption_failed: /);
    }
    // The unchanged request opens with both (the cases fail for the change, not for the fixture).
    for (const backend of Object.values(BACKENDS))
      expect(await outcome(() => open(sealed, backend))).toBe('ok');
  });

  it('sealed responses: flipped rs/ct/tag/usage, truncated tag, another request', async () => {
    const { seal, open } = await fixture();
    const { sealed } = await seal(webEnvelopeCrypto);
    const otherRequest = (await seal(webEnvelopeCrypto)).context;
    const ctx = Object.fromEntries(
      await Promise.all(
        Object.entries(BACKENDS).map(async ([n, b]) => [n, (await open(sealed, b)).context] as const),
      ),
    ) as Record<string, RequestContext>;
    const response = clone(await sealResponse(ctx.web!, RESPONSE));
    const mutations: [string, (r: Editable) => void][] = [
      ['rs', (r) => (r.sealgate = { ...r.sealgate, rs: flipBit(r.sealgate.rs as string, 3) })],
      ['ct first byte', (r) => (r.sealgate = { ...r.sealgate, ct: flipBit(r.sealgate.ct as string, 0) })],
      ['tag', (r) => (r.sealgate = { ...r.sealgate, ct: flipBit(r.sealgate.ct as string, -1, 7) })],
      [
        'tag truncated',
        (r) =>
          (r.sealgate = {
            ...r.sealgate,
            ct: toBase64Url(fromBase64Url(r.sealgate.ct as string).subarray(0, -1)),
          }),
      ],
      ['usage (AAD)', (r) => (r.usage = { ...(r.usage as object), total_tokens: 9 })],
    ];
    for (const [name, mutate] of mutations) {
      const r = clone(response);
      mutate(r);
      const web = await outcome(() => openResponse(ctx.web!, r));
      expect(await outcome(() => openResponse(ctx.node!, r)), name).toBe(web);
      expect(web, name).toBe('decryption_failed: sealed response: authentication failed');
    }
    for (const c of Object.values(ctx)) {
      expect(await outcome(() => openResponse(c, response))).toBe('ok');
      // Keys of another request (another DEK) do not open it: same error.
      const foreign = { ...otherRequest, crypto: c.crypto, dek: c.dek, requestId: 'req-2' };
      expect(await outcome(() => openResponse(foreign, response))).toBe(
        'decryption_failed: sealed response: authentication failed',
      );
    }
  });

  it('stream frames: flipped bit, truncated tag, reordered, end flag forged, cut stream', async () => {
    const { seal, open } = await fixture();
    const { sealed } = await seal(webEnvelopeCrypto);
    const ctx = {
      web: (await open(sealed, webEnvelopeCrypto)).context,
      node: (await open(sealed, nodeEnvelopeCrypto)).context,
    };
    const frames = await sealFrames(ctx.node);
    const flip = (at: number) => (x: Uint8Array) => {
      x[at < 0 ? x.length + at : at]! ^= 1;
    };
    const cases: [string, Uint8Array[]][] = [
      ['ct bit in frame 0', editFrame(frames, 0, flip(36 + 5))],
      ['tag bit in frame 2', editFrame(frames, 2, flip(-1))],
      ['rs', editFrame(frames, 0, flip(4))],
      ['tag truncated in frame 1', frames.map((r, j) => (j === 1 ? r.subarray(0, -1) : r))],
      ['end tag flipped', editFrame(frames, -1, flip(8))],
      [
        'end type forged on frame 3',
        editFrame(frames, 3, (x) => {
          x[0] = 1;
        }),
      ],
      ['frames 1 and 2 swapped', frames.map((_, j) => frames[j === 1 ? 2 : j === 2 ? 1 : j]!)],
      ['cut before the end record', frames.slice(0, -1)],
    ];
    for (const [name, input] of cases) {
      const web = await outcome(() => openFrames(ctx.web, input));
      expect(await outcome(() => openFrames(ctx.node, input)), name).toBe(web);
      expect(web, name).toMatch(/^(decryption_failed|stream_truncated): /);
    }
    expect(await openFrames(ctx.web, frames)).toEqual(await openFrames(ctx.node, frames));
  });
});

describe('envelope backends: random tampering (property)', () => {
  const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  it('any one character of any request field or frame changed: the same outcome from both', async () => {
    const { seal, open } = await fixture();
    const { sealed } = await seal(nodeEnvelopeCrypto);
    const ctx = {
      web: (await open(sealed, webEnvelopeCrypto)).context,
      node: (await open(sealed, nodeEnvelopeCrypto)).context,
    };
    const frames = await sealFrames(ctx.web);
    const fields = ['model', 'wk', 'iv', 'ct', 'rid', 'kid', 'frame'] as const;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...fields),
        fc.nat(),
        fc.nat(),
        fc.constantFrom(...B64),
        async (field, at, which, ch) => {
          const change = (value: string) => {
            const i = at % value.length;
            fc.pre(value[i] !== ch);
            return value.slice(0, i) + ch + value.slice(i + 1);
          };
          if (field === 'frame') {
            const f = which % frames.length;
            const edited = editFrame(frames, f, (x) => {
              const i = at % x.length;
              const c = ch.charCodeAt(0);
              fc.pre(x[i] !== c);
              x[i] = c;
            });
            const web = await outcome(() => openFrames(ctx.web, edited));
            expect(await outcome(() => openFrames(ctx.node, edited))).toBe(web);
            expect(web).not.toBe('ok');
            return;
          }
          const s = clone(sealed);
          const holder = field === 'model' ? s : s.sealgate;
          holder[field] = change(holder[field] as string);
          const web = await outcome(() => open(s, webEnvelopeCrypto));
          expect(await outcome(() => open(s, nodeEnvelopeCrypto))).toBe(web);
          expect(web).not.toBe('ok');
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('receipt hashes through node:crypto', () => {
  it('bodySha256 and the stream hash give the same hex as WebCrypto / noble', async () => {
    for (const n of [0, 1, 63, 64, 65, 4096]) {
      const bytes = ramp(n, n);
      const web = await bodySha256(bytes);
      expect(await bodySha256(bytes, nodeSha256)).toBe(web);
      // The one-shot hash (the JSON answer's receipt hashes): same hex, also of a view into a larger buffer.
      expect(nodeSha256Hex(bytes)).toBe(web);
      const padded = new Uint8Array(n + 7);
      padded.set(bytes, 3);
      expect(nodeSha256Hex(padded.subarray(3, 3 + n))).toBe(web);
    }
    const a = createStreamHash();
    const b = createStreamHash(nodeSha256);
    for (const bytes of [ramp(0, 41), new Uint8Array(0), ramp(3, 1), ramp(9, 5000)]) {
      a.update(bytes);
      b.update(bytes);
    }
    const digest = a.digest();
    expect(b.digest()).toBe(digest);
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
  });
});
