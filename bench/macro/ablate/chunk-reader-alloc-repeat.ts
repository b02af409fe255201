/**
 * Ablation stand-in for src/http/chunk-reader.ts (`read-alloc×8`): each read allocates its fresh
 * 64 KiB buffer REPEAT times (REPEAT − 1 of them dropped), so Δ / 7 is what allocating every read's
 * buffer of a request costs in place. Measurement only.
 */
import {
  CHUNK_READ_BYTES,
  type ChunkReader,
  chunkReader as original,
} from '../../../src/http/chunk-reader.js';
import { REPEAT } from './repeat.js';

export * from '../../../src/http/chunk-reader.js';

/** The last dropped buffer, kept reachable so that no allocation can be elided. */
export let dropped: Uint8Array | undefined;

export function chunkReader(body: ReadableStream<Uint8Array>, bufferBytes = CHUNK_READ_BYTES): ChunkReader {
  const inner = original(body, bufferBytes);
  return {
    read() {
      for (let i = 1; i < REPEAT; i++) dropped = new Uint8Array(bufferBytes);
      return inner.read();
    },
    cancel: (reason) => inner.cancel(reason),
  };
}
