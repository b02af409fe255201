import { describe, expect, it } from 'vitest';
import { utf8 } from '../../src/bytes.js';
import type { RequestContext } from '../../src/envelope/data-key.js';
import { sealRequest } from '../../src/envelope/request.js';
import { createStreamOpener, createStreamSealer, openStream, sealStream } from '../../src/envelope/stream.js';
import { AAD_LABEL, streamFrameAad, streamFrameAads } from '../../src/envelope/wire.js';
import { lengthPrefixed, u64be } from '../../src/keys/encoding.js';
import { createKek } from '../../src/keys/kek.js';
import { expectSealgateError } from '../keys/support.js';
import { ramp } from '../vectors/reference.js';

const T = 1_767_225_600;
const CHUNKS = ['{"delta":"Hel"}', '{"delta":"lo, "}', '{"delta":"Grüße 👋"}', '[DONE]'];

async function context(requestId = 'req-1'): Promise<RequestContext> {
  const kek = await createKek({ key: ramp(1, 32), notBefore: T, notAfter: T + 3600 });
  return (await sealRequest({ kek, route: '/v1/chat/completions', requestId, body: { model: 'm' }, now: T }))
    .context;
}
async function framesFor(ctx: RequestContext, chunks = CHUNKS): Promise<string[]> {
  const out: string[] = [];
  for await (const f of sealStream(ctx, chunks)) out.push(f);
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
    for (const f of frames) released.push(await opener.open(f));
    await opener.finish();
  } catch (error) {
    return { released, error };
  }
  return { released, error: undefined };
}

describe('sealed streams', () => {
  it('round-trip in order, with the frame format of docs/protocol.md', async () => {
    const ctx = await context();
    const frames = await framesFor(ctx);
    expect(frames).toHaveLength(CHUNKS.length + 1);
    expect(Object.keys(JSON.parse(frames[0]!))).toEqual(['v', 'rs', 'seq', 'ct']);
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
    expect(results).toEqual([...CHUNKS, null]);
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
      expect(await opener.open(frames[0])).toBe(CHUNKS[0]);
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
        [{ ...f0, v: 2 }, 'sealed stream: unsupported version'],
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

  it('the sealer refuses to continue after end, and ill-formed chunks', async () => {
    const ctx = await context();
    const sealer = createStreamSealer(ctx);
    await expectSealgateError(
      sealer.seal('\ud800'),
      'invalid_argument',
      'stream sealer: chunk must be a well-formed string',
    );
    await sealer.end();
    await expectSealgateError(sealer.seal('x'), 'invalid_argument', 'stream sealer: already ended');
    await expectSealgateError(sealer.end(), 'invalid_argument', 'stream sealer: already ended');
  });
  it('sealStream sends no end frame when its source fails, so the receiver sees a truncation', async () => {
    const ctx = await context();
    async function* failing() {
      yield 'a';
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
