/**
 * `readLimited` past its limit: without `drain` the stream is cancelled at once; with it the rest
 * is read and dropped up to the bound (so an HTTP/1.1 peer still sending sees the 413), and only a
 * stream that goes on past the bound is cancelled. Run in Node and in workerd.
 */
import { describe, expect, it } from 'vitest';
import { readLimited } from '../../src/http/read-limited.js';

/** A body of `chunks` chunks of `size` bytes that records how far it was read and whether it was cancelled. */
function source(chunks: number, size: number) {
  const seen = { pulled: 0, cancelled: false };
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      if (seen.pulled === chunks) return c.close();
      seen.pulled++;
      c.enqueue(new Uint8Array(size));
    },
    cancel() {
      seen.cancelled = true;
    },
  });
  return { body, seen };
}

/** The same as a readable byte stream (BYOB reads, as workerd's and undici's bodies): chunk i is bytes of value i + 1. */
function byteSource(chunks: number, size: number) {
  const seen = { pulled: 0, cancelled: false };
  const body = new ReadableStream({
    type: 'bytes',
    pull(c) {
      if (seen.pulled === chunks) {
        c.close();
        return c.byobRequest?.respond(0); // a pending BYOB read ends only so (WHATWG Streams §4.7.4)
      }
      seen.pulled++;
      c.enqueue(new Uint8Array(size).fill(seen.pulled));
    },
    cancel() {
      seen.cancelled = true;
    },
  }) as ReadableStream<Uint8Array>;
  return { body, seen };
}

const expected = (chunks: number, size: number) =>
  Uint8Array.from({ length: chunks * size }, (_, i) => Math.floor(i / size) + 1);

describe('readLimited', () => {
  it('under or at the limit: the whole body', async () => {
    const { body, seen } = source(4, 10);
    expect((await readLimited(body, null, 40))?.byteLength).toBe(40);
    expect(seen).toEqual({ pulled: 4, cancelled: false });
  });

  it('over the limit, no drain: null, and the stream is cancelled where the limit was passed', async () => {
    const { body, seen } = source(100, 10);
    expect(await readLimited(body, null, 40)).toBe(null);
    expect(seen).toEqual({ pulled: 5, cancelled: true });
  });

  it('over the limit with a drain that covers the rest: read to its end, not cancelled', async () => {
    const { body, seen } = source(10, 10);
    expect(await readLimited(body, null, 40, 60)).toBe(null);
    expect(seen).toEqual({ pulled: 10, cancelled: false });
  });

  it('a rest longer than the drain: read up to the bound, then cancelled', async () => {
    const { body, seen } = source(1000, 10);
    expect(await readLimited(body, null, 40, 60)).toBe(null);
    expect(seen.cancelled).toBe(true);
    expect(seen.pulled).toBeLessThanOrEqual(12);
  });

  it('a content-length over the limit: drained when within the bound, else cancelled unread', async () => {
    const within = source(10, 10);
    expect(await readLimited(within.body, '100', 40, 60)).toBe(null);
    expect(within.seen).toEqual({ pulled: 10, cancelled: false });
    const beyond = source(10, 10);
    expect(await readLimited(beyond.body, '101', 40, 60)).toBe(null);
    expect(beyond.seen.cancelled).toBe(true);
    expect(beyond.seen.pulled).toBeLessThanOrEqual(1);
    // A content-length that lies low about a long body: the drain stops at the declared size.
    const liar = source(1000, 10);
    expect(await readLimited(liar.body, '50', 40, 60)).toBe(null);
    expect(liar.seen.cancelled).toBe(true);
  });

  describe('a byte stream with a content-length under one chunked read (one buffer)', () => {
    it('as declared: every byte, in order', async () => {
      const { body, seen } = byteSource(7, 100);
      expect(await readLimited(body, '700', 4096)).toEqual(expected(7, 100));
      expect(seen).toEqual({ pulled: 7, cancelled: false });
    });

    it('empty, as declared', async () => {
      const { body } = byteSource(0, 1);
      expect(await readLimited(body, '0', 10)).toEqual(new Uint8Array(0));
    });

    it('longer than declared: read on under the limit, never trusted', async () => {
      const under = byteSource(30, 10);
      expect(await readLimited(under.body, '5', 400)).toEqual(expected(30, 10));
      const over = byteSource(1000, 10);
      expect(await readLimited(over.body, '5', 40)).toBe(null);
      expect(over.seen.cancelled).toBe(true);
      expect(over.seen.pulled).toBeLessThanOrEqual(6);
    });

    it('a declared size at the limit with one byte more: null, cancelled', async () => {
      const { body, seen } = byteSource(41, 1);
      expect(await readLimited(body, '40', 40)).toBe(null);
      expect(seen.cancelled).toBe(true);
    });

    it('shorter than declared: what came, as it ended', async () => {
      const { body } = byteSource(3, 10);
      expect(await readLimited(body, '500', 4096)).toEqual(expected(3, 10));
    });

    it('a stream that fails mid-body rejects', async () => {
      let n = 0;
      const body = new ReadableStream({
        type: 'bytes',
        pull(c) {
          if (n++ === 2) return c.error(new Error('cut'));
          c.enqueue(new Uint8Array(10));
        },
      }) as ReadableStream<Uint8Array>;
      await expect(readLimited(body, '100', 4096)).rejects.toThrow('cut');
    });
  });
});
