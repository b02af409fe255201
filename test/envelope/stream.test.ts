import { describe, expect, it } from 'vitest';
import { utf8 } from '../../src/bytes.js';
import { HKDF_INFO, type RequestContext } from '../../src/envelope/data-key.js';
import { sealRequest } from '../../src/envelope/request.js';
import {
  createStreamOpener,
  createStreamSealer,
  MAX_FRAME_BYTES,
  MAX_FRAME_EVENTS,
  MAX_TRAILER_BYTES,
  openStream,
  RECORD_TYPE,
  receiptRecord,
  sealedFailureOf,
  sealStream,
} from '../../src/envelope/stream.js';
import { AAD_LABEL, streamFrameAad, streamFrameAads } from '../../src/envelope/wire.js';
import { type ErrorCode, SealgateError } from '../../src/errors.js';
import { lengthPrefixed, u64be } from '../../src/keys/encoding.js';
import { createKek } from '../../src/keys/kek.js';
import { expectSealgateError } from '../keys/support.js';
import { ramp } from '../vectors/reference.js';
import { cat, eventsPlaintext, forgeRecords, openChunks, record, split } from './stream-support.js';

const T = 1_767_225_600;
const CHUNKS = ['{"delta":"Hel"}', '{"delta":"lo, "}', '{"delta":"Grüße 👋"}', '[DONE]'];

async function context(requestId = 'req-1'): Promise<RequestContext> {
  const kek = await createKek({ key: ramp(1, 32), notBefore: T, notAfter: T + 3600 });
  return (await sealRequest({ kek, route: '/v1/chat/completions', requestId, body: { model: 'm' }, now: T }))
    .context;
}
/** The body's pieces as the sealer returns them: header+first record, records, end record. */
async function pieces(ctx: RequestContext, batches: string[][]): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const f of sealStream(ctx, batches)) out.push(f);
  return out;
}
/** One event per frame, as the simplest shape to tamper with: [header, ...records]. */
async function records(ctx: RequestContext, chunks = CHUNKS): Promise<Uint8Array[]> {
  const p = await pieces(
    ctx,
    chunks.map((c) => [c]),
  );
  return p.length > 0 ? [p[0]!.subarray(0, 36), p[0]!.subarray(36), ...p.slice(1)] : p;
}
async function openAll(ctx: RequestContext, chunks: Uint8Array[]): Promise<string[]> {
  const out: string[] = [];
  for await (const c of openStream(ctx, chunks)) out.push(c);
  return out;
}
const failed = (error: unknown, code: ErrorCode, message?: string) =>
  expectSealgateError(Promise.reject(error), code, message);

describe('sealed streams (format 3)', () => {
  it('round-trip in order, with the byte layout of docs/protocol.md', async () => {
    const ctx = await context();
    const body = await records(ctx);
    expect(new TextDecoder().decode(body[0]!.subarray(0, 4))).toBe('SGS3');
    expect(body[0]).toHaveLength(36);
    for (const [i, r] of body.slice(1).entries()) {
      const last = i === CHUNKS.length;
      expect(r[0]).toBe(last ? 1 : 0);
      expect(new DataView(r.buffer, r.byteOffset).getUint32(1)).toBe(r.length - 5);
      expect(r.length - 5).toBe(last ? 16 : 16 + 4 + utf8.encode(CHUNKS[i]!).length);
    }
    expect(Buffer.from(cat(...body)).toString('latin1')).not.toContain('Hel');
    expect(await openAll(ctx, [cat(...body)])).toEqual(CHUNKS);
  });
  it('an empty stream is the header and a lone end record', async () => {
    const ctx = await context();
    const [only, ...rest] = await pieces(ctx, []);
    expect(rest).toEqual([]);
    expect(only).toHaveLength(36 + 5 + 16);
    expect(await openAll(ctx, [only!])).toEqual([]);
  });
  it('opens the same however the transport splits it, and hashes exactly header..end record', async () => {
    const ctx = await context();
    const batches = [CHUNKS.slice(0, 3), ['', 'é'], [CHUNKS[3]!]];
    const body = cat(...(await pieces(ctx, batches)));
    const trailer = receiptRecord('a.b.c');
    for (const size of [1, 2, 5, 7, 36, 41, 1000]) {
      const r = await openChunks(ctx, split(cat(body, trailer), size), { trailer: true });
      expect(r.error, `size ${size}`).toBeUndefined();
      expect(r.events).toEqual(batches.flat());
      expect(r.hashed).toEqual(body);
      expect(r.trailer).toBe('a.b.c');
    }
  });
  it('the sealer takes 1..MAX_FRAME_EVENTS well-formed events without CR, ≤ MAX_FRAME_BYTES', async () => {
    const ctx = await context();
    const sealer = createStreamSealer(ctx);
    const many = Array.from({ length: MAX_FRAME_EVENTS }, (_, i) => String(i));
    expect((await openChunks(ctx, [await sealer.seal(many), await sealer.end()])).events).toEqual(many);
    const refuse = (events: string[], message: string) =>
      expectSealgateError(
        createStreamSealer(ctx).seal(events),
        'invalid_argument',
        `stream sealer: ${message}`,
      );
    await refuse([...many, 'x'], `a frame carries 1..${MAX_FRAME_EVENTS} events`);
    await refuse([], `a frame carries 1..${MAX_FRAME_EVENTS} events`);
    for (const bad of ['ok\r', '\rok', 'a\r\nb', '\ud800']) {
      await refuse(['ok', bad], 'each event must be a well-formed string without CR');
    }
    // LF is what an SSE parser joins a multi-line data field with: sealed and opened as it is.
    const lines = ['{"a":\n1}', '\n', 'x\n\ny'];
    const t = createStreamSealer(ctx);
    expect((await openChunks(ctx, [await t.seal(lines), await t.end()])).events).toEqual(lines);
    await refuse(['x'.repeat(MAX_FRAME_BYTES)], `a frame carries at most ${MAX_FRAME_BYTES} bytes`);
    await refuse(['é'.repeat(MAX_FRAME_BYTES / 2)], `a frame carries at most ${MAX_FRAME_BYTES} bytes`);
    // At the cap exactly (length prefix included), it seals and opens.
    const atCap = 'x'.repeat(MAX_FRAME_BYTES - 4);
    const s = createStreamSealer(ctx);
    expect((await openChunks(ctx, [await s.seal([atCap]), await s.end()])).events).toEqual([atCap]);
  });

  describe('the format is enforced on authentic frames too (a hostile worker holds the DEK)', () => {
    const open = async (ctx: RequestContext, pts: Uint8Array[]) => {
      const { header, records: rs } = await forgeRecords(ctx, pts);
      return openChunks(ctx, [cat(header, ...rs)]);
    };
    it('forged frames in the right format open (the forger is sound)', async () => {
      const ctx = await context();
      expect((await open(ctx, [eventsPlaintext('a', 'b')])).events).toEqual(['a', 'b']);
    });
    it('a malformed event encoding → decryption_failed, nothing of that frame released', async () => {
      const ctx = await context();
      const u32 = (n: number) => record(0, new Uint8Array(0), n).subarray(1);
      const bad: [Uint8Array, string][] = [
        [new Uint8Array(0), 'a frame carries 17..1048592 bytes'], // refused from the record's head
        [new Uint8Array([0, 0, 0]), 'an event length is cut'],
        [cat(eventsPlaintext('a'), new Uint8Array([0])), 'an event length is cut'],
        [cat(u32(2), utf8.encode('a')), 'an event runs past its frame'],
        [cat(u32(0xffffffff), utf8.encode('a')), 'an event runs past its frame'],
        [
          eventsPlaintext(...Array.from({ length: MAX_FRAME_EVENTS + 1 }, () => 'e')),
          'a frame carries at most 256 events',
        ],
        [eventsPlaintext('a\rb'), 'an event contains CR'],
        [eventsPlaintext('a\r\nb'), 'an event contains CR'],
      ];
      const notUtf8 = [
        [0xff],
        [0x80], // lone continuation
        [0xc0, 0x80], // overlong NUL
        [0xc1, 0xbf],
        [0xe0, 0x80, 0x80], // overlong
        [0xed, 0xa0, 0x80], // a surrogate
        [0xf0, 0x80, 0x80, 0x80], // overlong
        [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
        [0xf5, 0x80, 0x80, 0x80],
        [0x61, 0xc3], // cut at the end
        [0xe2, 0x82], // cut
        [0xe2, 0x28, 0xa1], // bad continuation
      ];
      for (const b of notUtf8)
        bad.push([eventsPlaintext(new Uint8Array(b)), 'an event is not well-formed UTF-8']);
      for (const [pt, message] of bad) {
        const r = await open(ctx, [eventsPlaintext('ok'), pt]);
        expect(r.events, message).toEqual(['ok']);
        await failed(r.error, 'decryption_failed', `sealed stream: ${message}`);
      }
      // Well-formed edge cases open: 2-, 3-, 4-byte sequences at their bounds, an empty event.
      const good = [
        '\u0080',
        '\u07ff',
        '\u0800',
        '\ud7ff',
        '\ue000',
        '\uffff',
        '\u{10000}',
        '\u{10ffff}',
        '',
      ];
      expect((await open(ctx, [eventsPlaintext(...good)])).events).toEqual(good);
    });
    it('a record length out of bounds is refused from its 5-byte head, before any payload', async () => {
      const ctx = await context();
      const { header, records: rs } = await forgeRecords(ctx, [eventsPlaintext('ok')]);
      const heads: [Uint8Array, string][] = [
        [record(0, new Uint8Array(0), MAX_FRAME_BYTES + 17), 'a frame carries 17..1048592 bytes'],
        [record(0, new Uint8Array(0), 0xffffffff), 'a frame carries 17..1048592 bytes'],
        [record(0, new Uint8Array(0), 16), 'a frame carries 17..1048592 bytes'],
        [record(1, new Uint8Array(0), 17), 'the end frame is its 16-byte tag'],
        [record(1, new Uint8Array(0), 0), 'the end frame is its 16-byte tag'],
        [record(2, new Uint8Array(0), 10), 'a receipt trailer before the end'],
        [record(3, new Uint8Array(0), 16), 'an error frame carries 17..8192 bytes'],
        [record(3, new Uint8Array(0), 8193), 'an error frame carries 17..8192 bytes'],
        [record(4, new Uint8Array(0), 16), 'unknown record type'],
        [record(255, new Uint8Array(0), 1), 'unknown record type'],
      ];
      for (const [head, message] of heads) {
        // Only the head is ever sent: the opener must decide from it alone.
        const r = await openChunks(ctx, [cat(header, rs[0]!), head]);
        expect(r.events).toEqual(['ok']);
        await failed(r.error, 'decryption_failed', `sealed stream: ${message}`);
      }
      // At the frame cap exactly, it opens.
      const atCap = eventsPlaintext('x'.repeat(MAX_FRAME_BYTES - 4));
      expect((await open(ctx, [atCap])).events).toHaveLength(1);
    });
    it('a format-2 body, or format-3 records under another label or magic, is refused', async () => {
      const ctx = await context();
      const v2 = utf8.encode(
        'data: {"v":2,"rs":"BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc","seq":0,"ct":"AA"}\n\n',
      );
      await failed(
        (await openChunks(ctx, [v2])).error,
        'decryption_failed',
        'sealed stream: not a format-3 stream (magic "SGS3")',
      );
      const sgs2 = await forgeRecords(ctx, [eventsPlaintext('a')], { magic: 'SGS2' });
      await failed(
        (await openChunks(ctx, [cat(sgs2.header, ...sgs2.records)])).error,
        'decryption_failed',
        'sealed stream: not a format-3 stream (magic "SGS3")',
      );
      for (const label of ['sealgate/v2/stream', 'sealgate/v1/stream']) {
        const old = await forgeRecords(ctx, [eventsPlaintext('a')], { label });
        const r = await openChunks(ctx, [cat(old.header, ...old.records)]);
        expect(r.events).toEqual([]);
        await failed(r.error, 'decryption_failed', 'sealed stream: authentication failed');
      }
    });
  });

  describe('fail closed, releasing nothing from a bad record or after it', () => {
    it('truncation at every cut point → stream_truncated, with the frames before the cut', async () => {
      const ctx = await context();
      const rs = await records(ctx);
      const body = cat(...rs);
      const ends: number[] = [];
      let end = 0;
      for (const r of rs) {
        end += r.length;
        ends.push(end);
      }
      for (let cut = 0; cut < body.length; cut++) {
        const r = await openChunks(ctx, cut === 0 ? [] : [body.subarray(0, cut)]);
        const whole = ends.filter((e) => e <= cut).length - 1; // data records complete (header aside)
        expect(r.events, `cut ${cut}`).toEqual(CHUNKS.slice(0, Math.max(0, whole)));
        await failed(r.error, 'stream_truncated', 'sealed stream: ended without end frame');
      }
      expect((await openChunks(ctx, [body])).error).toBeUndefined();
    });
    it('a dropped, duplicated or reordered record → decryption_failed (the counter is implicit)', async () => {
      const ctx = await context();
      const [h, r0, r1, r2, r3, end] = await records(ctx);
      for (const [body, released] of [
        [[h, r0, r2, r3, end], [CHUNKS[0]]],
        [[h, r0, r1, r1, r2], CHUNKS.slice(0, 2)],
        [[h, r0, r2, r1], [CHUNKS[0]]],
        [[h, r1, r0], []],
        [[h, r0, r1, r2, end], CHUNKS.slice(0, 3)], // the end before the last frame
      ] as [Uint8Array[], string[]][]) {
        const r = await openChunks(ctx, [cat(...body)]);
        expect(r.events).toEqual(released);
        await failed(r.error, 'decryption_failed', 'sealed stream: authentication failed');
      }
    });
    it('the end bit is authenticated: a type flipped between data and end fails', async () => {
      const ctx = await context();
      const [h, r0, end] = await records(ctx, ['a']);
      const asData = Uint8Array.from(end!);
      asData[0] = 0; // 16 bytes: too short for a frame
      await failed((await openChunks(ctx, [cat(h!, r0!, asData)])).error, 'decryption_failed');
      const asEnd = Uint8Array.from(r0!);
      asEnd[0] = 1; // not 16 bytes
      await failed(
        (await openChunks(ctx, [cat(h!, asEnd)])).error,
        'decryption_failed',
        'sealed stream: the end frame is its 16-byte tag',
      );
      // A forged end-sized data frame: a 16-byte tag whose plaintext is empty, under the data bit.
      const forged = await forgeRecords(ctx, [eventsPlaintext('a')]);
      const endAsData = Uint8Array.from(forged.records[1]!);
      endAsData[0] = 0;
      const r = await openChunks(ctx, [cat(forged.header, forged.records[0]!, endAsData)]);
      expect(r.events).toEqual(['a']);
      await failed(r.error, 'decryption_failed');
    });
    it('records after the end: refused, except the one receipt trailer when expected', async () => {
      const ctx = await context();
      const rs = await records(ctx, ['a']);
      const body = cat(...rs);
      const trailer = receiptRecord('h.p.s');
      const cases: [Uint8Array, boolean, string][] = [
        [cat(body, rs[1]!), false, 'bytes after the end of the stream'],
        [cat(body, new Uint8Array([0])), false, 'bytes after the end of the stream'],
        [cat(body, trailer), false, 'bytes after the end of the stream'],
        [cat(body, rs[1]!), true, 'a frame after the end'],
        [cat(body, rs.at(-1)!), true, 'a second end'],
        [cat(body, record(2, new Uint8Array(0))), true, `a receipt trailer is 1..${MAX_TRAILER_BYTES} bytes`],
        [
          cat(body, record(2, new Uint8Array(0), MAX_TRAILER_BYTES + 1)),
          true,
          `a receipt trailer is 1..${MAX_TRAILER_BYTES} bytes`,
        ],
        [cat(body, record(2, utf8.encode('a b'))), true, 'a receipt trailer is printable ASCII'],
        [cat(body, record(2, utf8.encode('é'))), true, 'a receipt trailer is printable ASCII'],
        [cat(body), true, 'ended without its receipt trailer'],
        [cat(body, trailer.subarray(0, 8)), true, 'a record after the end is cut'],
      ];
      for (const [bytes, expectTrailer, message] of cases) {
        const r = await openChunks(ctx, [bytes], { trailer: expectTrailer });
        expect(r.events).toEqual(['a']);
        await failed(r.error, 'decryption_failed', `sealed stream: ${message}`);
      }
      // After the trailer nothing is read: the push says so, the caller cancels; a later push throws.
      const opener = createStreamOpener(ctx, { trailer: true });
      const p = await opener.push(cat(body, trailer, rs[1]!), () => undefined);
      expect(p).toMatchObject({ ended: true, trailer: 'h.p.s', excess: true });
      expect(p.hashed).toEqual(body);
      await expectSealgateError(
        opener.push(new Uint8Array([0]), () => undefined),
        'decryption_failed',
        'sealed stream: bytes after the end of the stream',
      );
      const whole = await createStreamOpener(ctx, { trailer: true }).push(
        cat(body, trailer),
        () => undefined,
      );
      expect(whole.excess).toBe(false);
      expect(() => receiptRecord('a'.repeat(MAX_TRAILER_BYTES + 1))).toThrow(/printable ASCII/);
      expect(() => receiptRecord('a\nb')).toThrow(/printable ASCII/);
    });
    it('a record from another stream or another request → decryption_failed', async () => {
      const ctx = await context();
      const a = await records(ctx);
      const b = await records(ctx); // same request, other rs
      const r1 = await openChunks(ctx, [cat(a[0]!, a[1]!, b[2]!)]);
      expect(r1.events).toEqual([CHUNKS[0]]);
      await failed(r1.error, 'decryption_failed', 'sealed stream: authentication failed');
      const r2 = await openChunks(await context('req-2'), [cat(...a)]);
      expect(r2.events).toEqual([]);
      await failed(r2.error, 'decryption_failed', 'sealed stream: authentication failed');
    });
    it('a flipped bit anywhere → refused; the opener stays failed afterwards', async () => {
      const ctx = await context();
      const body = cat(...(await records(ctx)));
      for (let i = 4; i < body.length; i += 3) {
        const bad = Uint8Array.from(body);
        bad[i]! ^= 0x01;
        const r = await openChunks(ctx, [bad]);
        expect(r.error, `byte ${i}`).toBeDefined();
      }
      const opener = createStreamOpener(ctx);
      const bad = Uint8Array.from(body);
      bad[50]! ^= 1;
      await expectSealgateError(
        opener.push(bad, () => undefined),
        'decryption_failed',
        'sealed stream: authentication failed',
      );
      await expectSealgateError(
        opener.push(body, () => undefined),
        'decryption_failed',
        'sealed stream: authentication failed',
      );
      expect(() => opener.finish()).toThrow('sealed stream: authentication failed');
    });
    it('overlapping pushes are refused (records must be read in order)', async () => {
      const ctx = await context();
      const opener = createStreamOpener(ctx);
      const body = cat(...(await records(ctx)));
      const first = opener.push(body.subarray(0, 60), () => undefined);
      await expectSealgateError(
        opener.push(body.subarray(60), () => undefined),
        'internal',
      );
      await first;
    });
  });

  it("prepare() derives the key ahead: same bytes as without it; a failure is the first seal's", async () => {
    const ctx = await context();
    const fixed = (n: number) => new Uint8Array(n).fill(7);
    const plain = createStreamSealer(ctx, { random: fixed });
    const prepared = createStreamSealer(ctx, { random: fixed });
    prepared.prepare();
    prepared.prepare(); // idempotent
    const body = async (s: ReturnType<typeof createStreamSealer>) => [
      await s.seal(['a', 'b']),
      await s.seal(['c']),
      await s.end(),
    ];
    const ours = await body(prepared);
    expect(ours).toEqual(await body(plain));
    expect(await openAll(ctx, ours)).toEqual(['a', 'b', 'c']);
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

  it('header() sends the header alone, once, only before any record: the same body, split earlier', async () => {
    const ctx = await context();
    const fixed = (n: number) => new Uint8Array(n).fill(9);
    const whole = createStreamSealer(ctx, { random: fixed });
    const early = createStreamSealer(ctx, { random: fixed });
    const header = early.header()!;
    expect(header).toHaveLength(36);
    expect(new TextDecoder().decode(header.subarray(0, 4))).toBe('SGS3');
    expect(header.subarray(4)).toEqual(fixed(32)); // rs
    expect(early.header()).toBeUndefined(); // once
    const body = async (s: ReturnType<typeof createStreamSealer>) => [await s.seal(['a']), await s.end()];
    const split = [header, ...(await body(early))];
    const joined = await body(whole);
    expect(cat(...split)).toEqual(cat(...joined)); // the first record does not repeat the header
    expect(whole.header()).toBeUndefined(); // a record carried it already
    // The header alone is a read the opener takes (it derives the key), then the frames open.
    expect(await openAll(ctx, split)).toEqual(['a']);
    const empty = createStreamSealer(ctx);
    const h = empty.header()!;
    expect(await openAll(ctx, [h, await empty.end()])).toEqual([]); // an end record alone after it
    const refused = createStreamSealer(ctx);
    await expect(refused.seal([])).rejects.toThrow(); // a refused seal takes no header
    expect(refused.header()).toHaveLength(36);
  });

  it('the sealer refuses to continue after end', async () => {
    const ctx = await context();
    const sealer = createStreamSealer(ctx);
    await sealer.end();
    await expectSealgateError(sealer.seal(['x']), 'invalid_argument', 'stream sealer: already ended');
    await expectSealgateError(sealer.end(), 'invalid_argument', 'stream sealer: already ended');
  });
  it('sealStream sends no end record when its source fails, so the receiver sees a truncation', async () => {
    const ctx = await context();
    async function* failing() {
      yield ['a'];
      throw new Error('model server went away');
    }
    const out: Uint8Array[] = [];
    await expect(
      (async () => {
        for await (const f of sealStream(ctx, failing())) out.push(f);
      })(),
    ).rejects.toThrow('model server went away');
    expect(out).toHaveLength(1);
    const r = await openChunks(ctx, out);
    expect(r.events).toEqual(['a']);
    await failed(r.error, 'stream_truncated');
  });
});

describe("the error frame: a worker's sealed failure in place of the end", () => {
  const FAILURE = { status: 502, code: 'model_error', message: 'context length exceeded\u202e: 9000 > 8192' };

  it('releases the frames before it, then throws model_error carrying the sealed failure', async () => {
    const ctx = await context();
    const sealer = createStreamSealer(ctx);
    const body = cat(await sealer.seal(['a', 'b']), await sealer.fail(FAILURE));
    expect(body[36]).toBe(RECORD_TYPE.data);
    for (const size of [1, 7, 41, 1000]) {
      const r = await openChunks(ctx, split(body, size));
      expect(r.events).toEqual(['a', 'b']);
      await failed(r.error, 'model_error');
      // The message as plain text (the bidi override a space), the status and code as sealed.
      expect(sealedFailureOf(r.error)).toEqual({
        ...FAILURE,
        message: 'context length exceeded : 9000 > 8192',
      });
    }
    // Alone, with the header (the model failed before its first event).
    const alone = await createStreamSealer(ctx).fail(FAILURE);
    expect(alone[36]).toBe(RECORD_TYPE.error);
    const r = await openChunks(ctx, [alone]);
    expect(r.events).toEqual([]);
    expect(sealedFailureOf(r.error)?.code).toBe('model_error');
  });

  it('ends the stream: the sealer refuses after it, the opener stays failed', async () => {
    const ctx = await context();
    const sealer = createStreamSealer(ctx);
    const failure = await sealer.fail(FAILURE);
    await expectSealgateError(sealer.seal(['x']), 'invalid_argument', 'stream sealer: already ended');
    await expectSealgateError(sealer.end(), 'invalid_argument', 'stream sealer: already ended');
    await expectSealgateError(sealer.fail(FAILURE), 'invalid_argument', 'stream sealer: already ended');
    const ended = createStreamSealer(ctx);
    const whole = cat(await ended.seal(['a']), await ended.end());
    await expectSealgateError(ended.fail(FAILURE), 'invalid_argument', 'stream sealer: already ended');
    const opener = createStreamOpener(ctx);
    await expectSealgateError(
      opener.push(failure, () => undefined),
      'model_error',
    );
    await expectSealgateError(
      opener.push(whole, () => undefined),
      'model_error',
    );
    // An error frame after the end is refused from its head.
    const after = await openChunks(ctx, [whole, Uint8Array.from(failure.subarray(36))]);
    expect(after.events).toEqual(['a']);
    await failed(after.error, 'decryption_failed', 'sealed stream: bytes after the end of the stream');
  });

  it('its type is authenticated: no data frame opens as an error nor an error as data', async () => {
    const ctx = await context();
    const s = createStreamSealer(ctx);
    const body = cat(await s.seal(['a']), await s.fail(FAILURE));
    const [header, data, error] = [
      body.subarray(0, 36),
      body.subarray(36, 36 + 5 + 16 + 5),
      body.subarray(36 + 26),
    ];
    const dataAsError = Uint8Array.from(data);
    dataAsError[0] = RECORD_TYPE.error;
    await failed((await openChunks(ctx, [cat(header, dataAsError)])).error, 'decryption_failed');
    const errorAsData = Uint8Array.from(error);
    errorAsData[0] = RECORD_TYPE.data;
    const r = await openChunks(ctx, [cat(header, data, errorAsData)]);
    expect(r.events).toEqual(['a']);
    await failed(r.error, 'decryption_failed');
  });

  it('every one-bit change of an error-framed stream is refused: no other failure ever opens', async () => {
    const ctx = await context();
    const s = createStreamSealer(ctx);
    const body = cat(await s.seal(['a']), await s.fail(FAILURE));
    for (let i = 0; i < body.length; i++) {
      for (const bit of [0x01, 0x80]) {
        const bad = Uint8Array.from(body);
        bad[i]! ^= bit;
        const r = await openChunks(ctx, [bad]);
        expect(r.error, `byte ${i}`).toBeInstanceOf(SealgateError);
        expect(['decryption_failed', 'stream_truncated']).toContain((r.error as SealgateError).code);
        expect(sealedFailureOf(r.error)).toBeUndefined();
        expect(['a', undefined]).toContain(r.events[0]);
      }
    }
  });

  it('a sealed error that is not exactly {code, message, status} in their domains is refused', async () => {
    const ctx = await context();
    const sealer = createStreamSealer(ctx);
    await expectSealgateError(sealer.fail({ ...FAILURE, status: 200 }), 'invalid_argument');
    await expectSealgateError(sealer.fail({ ...FAILURE, code: 'Not A Code' }), 'invalid_argument');
    // Authentic error frames with other content, as a worker holding the DEK could seal them.
    const rs = new Uint8Array(32).fill(7);
    const key = await ctx.crypto.deriveAesKey(ctx.dek, rs, HKDF_INFO.stream);
    const aadOf = streamFrameAads({ kid: ctx.kid, requestId: ctx.requestId, route: ctx.route });
    for (const content of [
      { status: 502, code: 'model_error' },
      { status: 502, code: 'model_error', message: 'x', extra: 1 },
      { status: 200, code: 'model_error', message: 'x' },
      { status: 502, code: 'model_error', message: 'line\nbreak' },
      [1, 2],
    ]) {
      const pt = new TextEncoder().encode(JSON.stringify(content));
      const ct = await ctx.crypto.gcmSeal(key, new Uint8Array(12), aadOf(0, 'error'), pt);
      const forged = cat(new TextEncoder().encode('SGS3'), rs, record(RECORD_TYPE.error, ct));
      const r = await openChunks(ctx, [forged]);
      await failed(r.error, 'decryption_failed');
      expect(sealedFailureOf(r.error)).toBeUndefined();
    }
  });
});

describe('streamFrameAads', () => {
  it('is streamFrameAad byte for byte, for every seq and end, with the ids encoded once', () => {
    const ids = {
      kid: 'kid-é',
      requestId: 'gw-0123456789abcdef0123456789abcdef',
      route: '/v1/chat/completions',
    };
    expect(AAD_LABEL.stream).toBe('sealgate/v3/stream');
    const aadOf = streamFrameAads(ids);
    for (const seq of [0, 1, 255, 256, 65_537, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER]) {
      for (const end of [false, true, 'error'] as const) {
        // The definition (docs/protocol.md), spelled out independently of wire.ts.
        const expected = lengthPrefixed(
          utf8.encode('sealgate/v3/stream'),
          utf8.encode(ids.kid),
          utf8.encode(ids.requestId),
          utf8.encode(ids.route),
          u64be(seq),
          new Uint8Array([end === 'error' ? 2 : end ? 1 : 0]),
        );
        expect(aadOf(seq, end)).toEqual(expected);
        expect(streamFrameAad({ ...ids, seq, end })).toEqual(expected);
      }
    }
    // Each frame gets its own array: a caller may keep one while the next is made.
    expect(aadOf(1, false)).not.toBe(aadOf(1, false));
  });
});
