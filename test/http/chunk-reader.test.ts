/**
 * src/http/chunk-reader.ts: a body read in as few reads as the runtime allows (a BYOB reader with a
 * fresh 64 KiB buffer per read), the same bytes as the default reader, no read's bytes overwritten
 * by a later one, and the default reader for streams that are not byte streams. Runs in Node and in
 * workerd (whose default reader hands bodies over 4096 bytes at a time).
 */
import { describe, expect, it } from 'vitest';
import { concatBytes } from '../../src/bytes.js';
import { CHUNK_READ_BYTES, chunkReader } from '../../src/http/chunk-reader.js';

const pattern = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + 3) & 0xff);

async function readAll(body: ReadableStream<Uint8Array>, bufferBytes?: number) {
  const reader = chunkReader(body, bufferBytes);
  const reads: Uint8Array[] = [];
  for (;;) {
    const next = await reader.read();
    if (next.done) return reads;
    reads.push(next.value);
  }
}

async function defaultReads(body: ReadableStream<Uint8Array>) {
  const reader = body.getReader();
  let n = 0;
  while (!(await reader.read()).done) n++;
  return n;
}

describe('chunkReader', () => {
  it('a runtime body of 14 000 bytes: the same bytes, in no more reads than the default reader', async () => {
    const bytes = pattern(14_000);
    const reads = await readAll(new Response(bytes).body!);
    expect(concatBytes(...reads)).toEqual(bytes);
    expect(reads.length).toBeLessThanOrEqual(await defaultReads(new Response(bytes).body!));
    expect(reads.length).toBe(1);
  });

  it('every read has its own buffer: bytes held from earlier reads stay as they were', async () => {
    const parts = [pattern(5000), pattern(3000).reverse(), pattern(70_000)];
    let k = 0;
    const body = new ReadableStream({
      type: 'bytes',
      pull(controller) {
        const next = parts[k++];
        if (next) return controller.enqueue(next.slice());
        controller.close();
        controller.byobRequest?.respond(0); // §4.10: a pending BYOB read ends only with respond(0)
      },
    });
    const reads = await readAll(body);
    expect(new Set(reads.map((r) => r.buffer)).size).toBe(reads.length);
    expect(concatBytes(...reads)).toEqual(concatBytes(...parts));
    // A byte stream fills the buffer passed in: a part larger than it takes several reads.
    expect(Math.max(...reads.map((r) => r.byteLength))).toBeLessThanOrEqual(CHUNK_READ_BYTES);
  });

  it('a stream that is not a byte stream is read with its default reader, same bytes', async () => {
    const parts = [pattern(10), pattern(20)];
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const p of parts) controller.enqueue(p);
        controller.close();
      },
    });
    const reads = await readAll(body);
    expect(reads).toEqual(parts);
  });

  it('a failing stream rejects the read; cancel reaches the source', async () => {
    const failing = new ReadableStream({
      type: 'bytes',
      pull(controller) {
        controller.error(new Error('cut'));
      },
    });
    await expect(chunkReader(failing).read()).rejects.toThrow('cut');
    let cancelled: unknown;
    const open = new ReadableStream({
      type: 'bytes',
      cancel(reason) {
        cancelled = reason;
      },
    });
    await chunkReader(open).cancel('gone');
    expect(cancelled).toBe('gone');
  });
});
