import { describe, expect, it } from 'vitest';
import { toBase64Url, utf8 } from '../../src/bytes.js';
import type { RequestContext } from '../../src/envelope/data-key.js';
import { HKDF_INFO } from '../../src/envelope/data-key.js';
import { sealRequest } from '../../src/envelope/request.js';
import {
  createStreamOpener,
  createStreamSealer,
  MAX_FRAME_BYTES,
  MAX_FRAME_EVENTS,
  openStream,
  sealStream,
} from '../../src/envelope/stream.js';
import { AAD_LABEL, streamFrameAad, streamFrameAads } from '../../src/envelope/wire.js';
import { lengthPrefixed, u64be } from '../../src/keys/encoding.js';
import { createKek } from '../../src/keys/kek.js';
import { expectSealgateError } from '../keys/support.js';
import { lp, ramp } from '../vectors/reference.js';

const T = 1_767_225_600;
const CHUNKS = ['{"delta":"Hel"}', '{"delta":"lo, "}', '{"delta":"Grüße 👋"}', '[DONE]'];

async function context(requestId = 'req-1'): Promise<RequestContext> {
  const kek = await createKek({ key: ramp(1, 32), notBefore: T, notAfter: T + 3600 });
  return (await sealRequest({ kek, route: '/v1/chat/completions', requestId, body: { model: 'm' }, now: T }))
    .context;
}
/** One event per frame (frame n+? carries CHUNKS[n]), as the simplest shape to tamper with. */
async function framesFor(ctx: RequestContext, chunks = CHUNKS): Promise<string[]> {
  return batchFrames(
    ctx,
    chunks.map((c) => [c]),
  );
}
async function batchFrames(ctx: RequestContext, batches: string[][]): Promise<string[]> {
  const out: string[] = [];
  for await (const f of sealStream(ctx, batches)) out.push(f);
  return out;
}
async function openAll(ctx: RequestContext, frames: unknown[]): Promise<string[]> {
  const out: string[] = [];
  for await (const c of openStream(ctx, frames)) out.push(c);
  return out;
}
/** Feeds frames one by one; returns what was released before the error, and the error. */
async function openUntilError(ctx: RequestContext, frames: unknown[]) {
  const released: (string | null)[] = [];
  const opener = createStreamOpener(ctx);
  try {
    for (const f of frames) {
      const events = await opener.open(f);
      if (events === null) released.push(null);
      else released.push(...events);
    }
    await opener.finish();
  } catch (error) {
    return { released, error };
  }
  return { released, error: undefined };
}

/**
 * Authentic frames with any plaintext, format and AAD label: what a hostile or buggy worker holding
 * the DEK could send (the gateway must refuse what the format does not allow, tag or not).
 */
async function forgeFrames(
  ctx: RequestContext,
  plaintexts: Uint8Array[],
  { v = 2, label = AAD_LABEL.stream }: { v?: number; label?: string } = {},
): Promise<string[]> {
  const rs = new Uint8Array(32).fill(7);
  const key = await ctx.crypto.deriveAesKey(ctx.dek, rs, HKDF_INFO.stream);
  const seal = async (seq: number, end: boolean, pt: Uint8Array) => {
    const aad = lp(label, ctx.kid, ctx.requestId, ctx.route, seq, new Uint8Array([end ? 1 : 0]));
    const nonce = new Uint8Array(12);
    new DataView(nonce.buffer).setUint32(8, seq);
    const ct = toBase64Url(await ctx.crypto.gcmSeal(key, nonce, aad, pt));
    const head = seq === 0 ? { v, rs: toBase64Url(rs) } : {};
    return JSON.stringify({ ...head, seq, ...(end ? { end: true } : {}), ct });
  };
  const frames = await Promise.all(plaintexts.map((pt, i) => seal(i, false, pt)));
  frames.push(await seal(plaintexts.length, true, new Uint8Array(0)));
  return frames;
}

describe('sealed streams', () => {
  it('round-trip in order, with the frame format of docs/protocol.md', async () => {
    const ctx = await context();
    const frames = await framesFor(ctx);
    expect(frames).toHaveLength(CHUNKS.length + 1);
    expect(Object.keys(JSON.parse(frames[0]!))).toEqual(['v', 'rs', 'seq', 'ct']);
    expect(JSON.parse(frames[0]!).v).toBe(2);
    expect(Object.keys(JSON.parse(frames[1]!))).toEqual(['seq', 'ct']);
    expect(JSON.parse(frames.at(-1)!)).toMatchObject({ seq: CHUNKS.length, end: true });
    expect(frames.join('')).not.toContain('Hel');
    expect(await openAll(ctx, frames)).toEqual(CHUNKS);
  });
  it('an empty stream is a lone end frame carrying v and rs', async () => {
    const ctx = await context();
    const frames = await framesFor(ctx, []);
    expect(frames).toHaveLength(1);
    expect(Object.keys(JSON.parse(frames[0]!))).toEqual(['v', 'rs', 'seq', 'end', 'ct']);
    expect(await openAll(ctx, frames)).toEqual([]);
  });
  it('accepts parsed frames and concurrent open() calls (serialised in call order)', async () => {
    const ctx = await context();
    const frames = await framesFor(ctx);
    const opener = createStreamOpener(ctx);
    const results = await Promise.all(frames.map((f) => opener.open(JSON.parse(f))));
    await opener.finish();
    expect(results).toEqual([...CHUNKS.map((c) => [c]), null]);
  });
  it('a frame carries a burst of events: opened in order, each event intact', async () => {
    const ctx = await context();
    const batches = [CHUNKS.slice(0, 3), ['', 'x\n"y"'], [CHUNKS[3]!]];
    const frames = await batchFrames(ctx, batches);
    expect(frames).toHaveLength(4);
    const opener = createStreamOpener(ctx);
    const opened = [];
    for (const f of frames) opened.push(await opener.open(f));
    await opener.finish();
    expect(opened).toEqual([...batches, null]);
    expect(await openAll(ctx, frames)).toEqual(batches.flat());
  });
  it('the sealer takes up to MAX_FRAME_EVENTS events and MAX_FRAME_BYTES per frame, no more', async () => {
    const ctx = await context();
    const sealer = createStreamSealer(ctx);
    const many = Array.from({ length: MAX_FRAME_EVENTS }, (_, i) => String(i));
    const opener = createStreamOpener(ctx);
    expect(await opener.open(await sealer.seal(many))).toEqual(many);
    await expectSealgateError(
      sealer.seal([...many, 'x']),
      'invalid_argument',
      `stream sealer: a frame carries 1..${MAX_FRAME_EVENTS} events`,
    );
    await expectSealgateError(
      sealer.seal([]),
      'invalid_argument',
      `stream sealer: a frame carries 1..${MAX_FRAME_EVENTS} events`,
    );
    await expectSealgateError(
      sealer.seal(['x'.repeat(MAX_FRAME_BYTES)]),
      'invalid_argument',
      `stream sealer: batch over ${MAX_FRAME_BYTES} bytes`,
    );
  });

  describe('multi-event frames: the format is enforced on authentic frames too', () => {
    it('forged frames in the right format open (the forger is sound)', async () => {
      const ctx = await context();
      const frames = await forgeFrames(ctx, [utf8.encode('["a","b"]')]);
      expect(await openAll(ctx, frames)).toEqual(['a', 'b']);
    });
    it('a malformed multi-event encoding → decryption_failed, nothing released', async () => {
      const ctx = await context();
      const bad: [string, string][] = [
        ['"a"', 'a frame carries 1..256 events'],
        ['[]', 'a frame carries 1..256 events'],
        ['["a",1]', 'each event must be a well-formed string'],
        ['["\\ud800"]', 'each event must be a well-formed string'],
        ['{"0":"a"}', 'a frame carries 1..256 events'],
        ['["a"', 'frame is not a JSON array of events'],
        ['a', 'frame is not a JSON array of events'],
        [
          JSON.stringify(Array.from({ length: MAX_FRAME_EVENTS + 1 }, () => 'e')),
          'a frame carries 1..256 events',
        ],
      ];
      for (const [pt, message] of bad) {
        const frames = await forgeFrames(ctx, [utf8.encode('["ok"]'), utf8.encode(pt)]);
        const { released, error } = await openUntilError(ctx, frames);
        expect(released).toEqual(['ok']);
        await expectSealgateError(Promise.reject(error), 'decryption_failed', `sealed stream: ${message}`);
      }
      const notUtf8 = await forgeFrames(ctx, [new Uint8Array([0x5b, 0x22, 0xff, 0x22, 0x5d])]);
      await expectSealgateError(
        openAll(ctx, notUtf8),
        'decryption_failed',
        'sealed stream: frame is not a JSON array of events',
      );
    });
    it('a frame over MAX_FRAME_BYTES is refused before it is decoded or decrypted', async () => {
      const ctx = await context();
      const huge = utf8.encode(JSON.stringify(['x'.repeat(MAX_FRAME_BYTES)]));
      const frames = await forgeFrames(ctx, [utf8.encode('["ok"]'), huge]);
      const { released, error } = await openUntilError(ctx, frames);
      expect(released).toEqual(['ok']);
      await expectSealgateError(
        Promise.reject(error),
        'decryption_failed',
        `sealed stream: frame over ${MAX_FRAME_BYTES} bytes`,
      );
      // At the cap exactly, it opens.
      const atCap = utf8.encode(JSON.stringify(['x'.repeat(MAX_FRAME_BYTES - 4)]));
      expect(atCap.length).toBe(MAX_FRAME_BYTES);
      expect(await openAll(ctx, await forgeFrames(ctx, [atCap]))).toHaveLength(1);
    });
    it('a format-1 peer (v:1, one event per frame, v1 AAD label) is refused, not misread', async () => {
      const ctx = await context();
      const v1 = await forgeFrames(ctx, [utf8.encode('{"delta":"a"}')], {
        v: 1,
        label: 'sealgate/v1/stream',
      });
      await expectSealgateError(
        openAll(ctx, v1),
        'decryption_failed',
        'sealed stream: unsupported stream format',
      );
      // Its `v` edited to 2: the AAD label still binds format 1, so the tag fails.
      const edited = [JSON.stringify({ ...JSON.parse(v1[0]!), v: 2 }), ...v1.slice(1)];
      await expectSealgateError(
        openAll(ctx, edited),
        'decryption_failed',
        'sealed stream: authentication failed',
      );
      // Even a v1-labelled frame whose plaintext is a valid batch fails authentication.
      const v1Batch = await forgeFrames(ctx, [utf8.encode('["a"]')], { label: 'sealgate/v1/stream' });
      await expectSealgateError(
        openAll(ctx, v1Batch),
        'decryption_failed',
        'sealed stream: authentication failed',
      );
    });
  });

  describe('fail closed, releasing nothing from a bad frame or after it', () => {
    it('truncation: no end frame → stream_truncated', async () => {
      const ctx = await context();
      const frames = await framesFor(ctx);
      for (const cut of [0, 1, CHUNKS.length]) {
        const { released, error } = await openUntilError(ctx, frames.slice(0, cut));
        expect(released).toEqual(CHUNKS.slice(0, cut));
        await expectSealgateError(
          Promise.reject(error),
          'stream_truncated',
          'sealed stream: ended without end frame',
        );
      }
    });
    it('truncation between and inside multi-event frames → stream_truncated / decryption_failed', async () => {
      const ctx = await context();
      const frames = await batchFrames(ctx, [CHUNKS.slice(0, 2), CHUNKS.slice(2)]);
      // Between frames: every event of the frames that arrived, then stream_truncated.
      const r1 = await openUntilError(ctx, frames.slice(0, 2));
      expect(r1.released).toEqual(CHUNKS);
      await expectSealgateError(Promise.reject(r1.error), 'stream_truncated');
      // Inside a frame (its ciphertext cut short): none of that frame's events are released.
      const f1 = JSON.parse(frames[1]!);
      const cut = { ...f1, ct: f1.ct.slice(0, f1.ct.length - 8) };
      const r2 = await openUntilError(ctx, [frames[0], cut, frames[2]]);
      expect(r2.released).toEqual(CHUNKS.slice(0, 2));
      await expectSealgateError(
        Promise.reject(r2.error),
        'decryption_failed',
        'sealed stream: authentication failed',
      );
    });
    it('a dropped middle frame → decryption_failed', async () => {
      const ctx = await context();
      const frames = await framesFor(ctx);
      const { released, error } = await openUntilError(ctx, [frames[0], frames[2], frames[3]]);
      expect(released).toEqual([CHUNKS[0]]);
      await expectSealgateError(
        Promise.reject(error),
        'decryption_failed',
        'sealed stream: frame out of order',
      );
    });
    it('reordered frames → decryption_failed, even with seq rewritten to look right', async () => {
      const ctx = await context();
      const frames = await framesFor(ctx);
      const swapped = [frames[0], frames[2], frames[1]];
      const r1 = await openUntilError(ctx, swapped);
      expect(r1.released).toEqual([CHUNKS[0]]);
      await expectSealgateError(
        Promise.reject(r1.error),
        'decryption_failed',
        'sealed stream: frame out of order',
      );
      const relabelled = { ...JSON.parse(frames[2]!), seq: 1 };
      const r2 = await openUntilError(ctx, [frames[0], relabelled]);
      expect(r2.released).toEqual([CHUNKS[0]]);
      await expectSealgateError(
        Promise.reject(r2.error),
        'decryption_failed',
        'sealed stream: authentication failed',
      );
    });
    it('a duplicated frame → decryption_failed', async () => {
      const ctx = await context();
      const frames = await framesFor(ctx);
      const { released, error } = await openUntilError(ctx, [frames[0], frames[1], frames[1]]);
      expect(released).toEqual(CHUNKS.slice(0, 2));
      await expectSealgateError(
        Promise.reject(error),
        'decryption_failed',
        'sealed stream: frame out of order',
      );
    });
    it('a frame after the end frame → decryption_failed', async () => {
      const ctx = await context();
      const frames = await framesFor(ctx);
      const { error } = await openUntilError(ctx, [...frames, frames[1]]);
      await expectSealgateError(Promise.reject(error), 'decryption_failed', 'sealed stream: frame after end');
    });
    it('an end flag forged onto a data frame, or removed from the end frame → decryption_failed', async () => {
      const ctx = await context();
      const frames = await framesFor(ctx, ['a']);
      const tag = JSON.parse(frames[1]!).ct;
      const forgedEnd = { seq: 1, end: true, ct: tag };
      const r1 = await openUntilError(ctx, [
        frames[0],
        { ...JSON.parse(frames[1]!), end: undefined, ct: tag },
      ]);
      expect(r1.released).toEqual(['a']);
      expect(r1.error).toBeDefined();
      // The end tag authenticates only with the end bit in the AAD: without it, no end.
      const noEnd = { seq: 1, ct: tag };
      const r2 = await openUntilError(ctx, [frames[0], noEnd]);
      await expectSealgateError(
        Promise.reject(r2.error),
        'decryption_failed',
        'sealed stream: authentication failed',
      );
      // A data frame's ciphertext presented as the end frame fails (and must be exactly a tag).
      const dataAsEnd = { ...JSON.parse(frames[0]!), end: true };
      const r3 = await openUntilError(ctx, [dataAsEnd]);
      expect(r3.released).toEqual([]);
      await expectSealgateError(Promise.reject(r3.error), 'decryption_failed');
      expect((await openUntilError(ctx, [frames[0], forgedEnd])).error).toBeUndefined();
    });
    it('a frame from another stream or another request → decryption_failed', async () => {
      const ctx = await context();
      const a = await framesFor(ctx);
      const b = await framesFor(ctx); // same request, other rs
      const r1 = await openUntilError(ctx, [a[0], b[1]]);
      expect(r1.released).toEqual([CHUNKS[0]]);
      await expectSealgateError(
        Promise.reject(r1.error),
        'decryption_failed',
        'sealed stream: authentication failed',
      );
      const other = await context('req-2');
      const r2 = await openUntilError(other, a);
      expect(r2.released).toEqual([]);
      await expectSealgateError(
        Promise.reject(r2.error),
        'decryption_failed',
        'sealed stream: authentication failed',
      );
    });
    it('tampered ciphertext → decryption_failed; the opener stays failed afterwards', async () => {
      const ctx = await context();
      const frames = await framesFor(ctx);
      const f1 = JSON.parse(frames[1]!);
      f1.ct = (f1.ct[0] === 'A' ? 'B' : 'A') + f1.ct.slice(1);
      const opener = createStreamOpener(ctx);
      expect(await opener.open(frames[0])).toEqual([CHUNKS[0]]);
      await expectSealgateError(opener.open(f1), 'decryption_failed', 'sealed stream: authentication failed');
      await expectSealgateError(
        opener.open(frames[1]),
        'decryption_failed',
        'sealed stream: authentication failed',
      );
      await expectSealgateError(opener.finish(), 'decryption_failed');
    });
    it('malformed frames → decryption_failed with exact messages', async () => {
      const ctx = await context();
      const frames = await framesFor(ctx);
      const f0 = JSON.parse(frames[0]!);
      const cases: [unknown, string][] = [
        ['data: {}', 'sealed stream: not JSON'],
        ['[]', 'sealed stream: frame must be a JSON object'],
        [{ ...f0, seq: '0' }, 'sealed stream: seq must be an integer'],
        [{ ...f0, v: 1 }, 'sealed stream: unsupported stream format'],
        [{ ...f0, v: 3 }, 'sealed stream: unsupported stream format'],
        [{ ...f0, end: false }, 'sealed stream: end must be true when present'],
        [{ ...f0, x: 1 }, 'sealed stream: unexpected field "x"'],
        [{ ...f0, rs: 'AAAA' }, 'sealed stream: rs must be 32 bytes of canonical base64url'],
        [{ ...f0, ct: 'AA' }, 'sealed stream: ct must be at least 16 bytes of canonical base64url'],
      ];
      for (const [frame, message] of cases) {
        await expectSealgateError(createStreamOpener(ctx).open(frame), 'decryption_failed', message);
      }
    });
  });

  it("prepare() derives the key ahead: same frames as without it; a failure is the first seal's", async () => {
    const ctx = await context();
    const fixed = (n: number) => new Uint8Array(n).fill(7);
    const plain = createStreamSealer(ctx, { random: fixed });
    const prepared = createStreamSealer(ctx, { random: fixed });
    prepared.prepare();
    prepared.prepare(); // idempotent
    const frames = async (s: ReturnType<typeof createStreamSealer>) => [
      await s.seal(['a', 'b']),
      await s.seal(['c']),
      await s.end(),
    ];
    const ours = await frames(prepared);
    expect(ours).toEqual(await frames(plain));
    expect(await openAll(ctx, ours)).toEqual(['a', 'b', 'c']);
    // A backend whose derivation fails, synchronously or not: prepare() does not throw, the first
    // seal rejects with that error, as it does without prepare().
    for (const fail of [
      () => {
        throw new Error('derive failed');
      },
      () => Promise.reject(new Error('derive failed')),
    ]) {
      const broken = { ...ctx, crypto: { ...ctx.crypto, deriveAesKey: fail } } as RequestContext;
      const sealer = createStreamSealer(broken);
      sealer.prepare();
      await new Promise((r) => setTimeout(r, 0)); // an unhandled rejection would surface here
      await expect(sealer.seal(['a'])).rejects.toThrow('derive failed');
    }
  });

  it('the sealer refuses to continue after end, and ill-formed chunks', async () => {
    const ctx = await context();
    const sealer = createStreamSealer(ctx);
    await expectSealgateError(
      sealer.seal(['ok', '\ud800']),
      'invalid_argument',
      'stream sealer: each event must be a well-formed string',
    );
    await sealer.end();
    await expectSealgateError(sealer.seal(['x']), 'invalid_argument', 'stream sealer: already ended');
    await expectSealgateError(sealer.end(), 'invalid_argument', 'stream sealer: already ended');
  });
  it('sealStream sends no end frame when its source fails, so the receiver sees a truncation', async () => {
    const ctx = await context();
    async function* failing() {
      yield ['a'];
      throw new Error('model server went away');
    }
    const frames: string[] = [];
    await expect(
      (async () => {
        for await (const f of sealStream(ctx, failing())) frames.push(f);
      })(),
    ).rejects.toThrow('model server went away');
    expect(frames).toHaveLength(1);
    const { released, error } = await openUntilError(ctx, frames);
    expect(released).toEqual(['a']);
    await expectSealgateError(Promise.reject(error), 'stream_truncated');
  });
});

describe('streamFrameAads', () => {
  it('is streamFrameAad byte for byte, for every seq and end, with the ids encoded once', () => {
    const ids = {
      kid: 'kid-é',
      requestId: 'gw-0123456789abcdef0123456789abcdef',
      route: '/v1/chat/completions',
    };
    const aadOf = streamFrameAads(ids);
    for (const seq of [0, 1, 255, 256, 65_537, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER]) {
      for (const end of [false, true]) {
        // The definition (docs/protocol.md), spelled out independently of wire.ts.
        const expected = lengthPrefixed(
          utf8.encode(AAD_LABEL.stream),
          utf8.encode(ids.kid),
          utf8.encode(ids.requestId),
          utf8.encode(ids.route),
          u64be(seq),
          new Uint8Array([end ? 1 : 0]),
        );
        expect(aadOf(seq, end)).toEqual(expected);
        expect(streamFrameAad({ ...ids, seq, end })).toEqual(expected);
      }
    }
    // Each frame gets its own array: a caller may keep one while the next is made.
    expect(aadOf(1, false)).not.toBe(aadOf(1, false));
  });
});
