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
});
