/**
 * The one reader of a body with a byte limit, counted as the bytes arrive (a `content-length`
 * header is only an early refusal, never trusted as the size: RFC 9110 §8.6). Runtime-neutral.
 * A failing stream rejects with its own error; callers say what a cut body means to them.
 */
import { concatBytes } from '../bytes.js';
import {
  byobChunkReader,
  byobReader,
  CHUNK_READ_BYTES,
  type ChunkReader,
  chunkReader,
} from './chunk-reader.js';
import { errorResponse } from './errors.js';

/**
 * How far past its limit the gateway reads a request body (and throws it away) before it gives up
 * on the peer. A server that answers 413 and stops reading while the client is still sending risks
 * the client never seeing the answer (RFC 9112 §9.6, the "lingering close" problem): under
 * `wrangler dev` about half of the 413s for a 10 MiB body became a 500 text/plain "Network
 * connection lost" or an empty reply. Reading on costs only an authenticated caller's own bytes
 * (the key is checked first) and is bounded; beyond it the stream is cancelled.
 */
export const OVERSIZE_DRAIN_BYTES = 32 * 1024 * 1024;

/**
 * The whole body, or null as soon as it is known to exceed `max` bytes. The rest is then read and
 * discarded for up to `drain` more bytes (default none) and, if it goes on, the stream is cancelled.
 */
export async function readLimited(
  body: ReadableStream<Uint8Array> | null,
  contentLength: string | null,
  max: number,
  drain = 0,
): Promise<Uint8Array | null> {
  const declared = Number(contentLength ?? Number.NaN);
  if (declared > max) {
    if (body) await discard(chunkReader(body), declared <= max + drain ? declared : 0);
    return null;
  }
  if (!body) return new Uint8Array(0);
  if (declared >= 0 && declared < CHUNK_READ_BYTES && Number.isSafeInteger(declared)) {
    const byob = byobReader(body);
    if (byob) return readDeclared(byob, declared, max, drain);
  }
  return readChunks(chunkReader(body), [], 0, max, drain); // up to 64 KiB a read, not workerd's 4 KiB
}

/**
 * A body whose `content-length` is at most `max` and under CHUNK_READ_BYTES, read into ONE buffer
 * of that size plus one byte: one allocation no larger than a single chunked read makes, and no
 * concatenation (docs/benchmarks.md). The header sizes the buffer and nothing else: a body that
 * fills the spare byte is longer than it said and goes on through `readChunks` under the same
 * `max`; a shorter one is returned as it ended (its framing is the transport's, RFC 9112 §6.3).
 */
async function readDeclared(
  byob: ReadableStreamBYOBReader,
  declared: number,
  max: number,
  drain: number,
): Promise<Uint8Array | null> {
  let buffer = new ArrayBuffer(declared + 1);
  let filled = 0;
  for (;;) {
    // WHATWG Streams §4.6: each read transfers the buffer and hands it back in `value`.
    const { done, value } = await byob.read(new Uint8Array(buffer, filled));
    if (!value) throw new Error('the body was cancelled while it was read');
    buffer = value.buffer as ArrayBuffer;
    if (done) return new Uint8Array(buffer, 0, filled);
    filled += value.byteLength;
    if (filled === buffer.byteLength) {
      return readChunks(byobChunkReader(byob), [new Uint8Array(buffer)], filled, max, drain);
    }
  }
}

/** Reads on after `parts` (`size` bytes so far): the whole body, or null once it passes `max`. */
async function readChunks(
  reader: ChunkReader,
  parts: Uint8Array[],
  size: number,
  max: number,
  drain: number,
): Promise<Uint8Array | null> {
  for (;;) {
    if (size > max) {
      await discard(reader, size - max > drain ? 0 : drain - (size - max));
      return null;
    }
    const { done, value } = await reader.read();
    if (done) return concatBytes(...parts);
    size += value.byteLength;
    parts.push(value);
  }
}

/**
 * A server route's request body: its bytes, or the route's refusal — 413 `payload_too_large` over
 * `max` (the rest read and dropped for up to OVERSIZE_DRAIN_BYTES), 400 `invalid_request` when the
 * body breaks off before its end (the client's stream failed, or its connection closed short of its
 * `content-length`): that is the client's input, not a bug of ours, so not a 500 `internal_error`
 * logged as a failed request.
 */
export async function readRequestBody(
  request: Request,
  max: number,
): Promise<{ ok: true; bytes: Uint8Array } | { ok: false; response: Response }> {
  let bytes: Uint8Array | null;
  try {
    bytes = await readLimited(request.body, request.headers.get('content-length'), max, OVERSIZE_DRAIN_BYTES);
  } catch {
    return { ok: false, response: errorResponse('invalid_request', 'the body broke off before its end') };
  }
  if (bytes === null)
    return { ok: false, response: errorResponse('payload_too_large', `the body exceeds ${max} bytes`) };
  return { ok: true, bytes };
}

/** Reads and drops up to `budget` bytes; a stream that goes on past it is cancelled. */
async function discard(reader: ChunkReader, budget: number): Promise<void> {
  let left = budget;
  try {
    while (left > 0) {
      const { done, value } = await reader.read();
      if (done) return;
      left -= value.byteLength;
      if (left === 0 && (await reader.read()).done) return; // exactly the budget, then its end
    }
  } catch {
    return; // a failing stream is over: nothing to cancel
  }
  await reader.cancel().catch(() => undefined);
}

/** RFC 9110 §8.6: Content-Length = 1*DIGIT (at most 15 digits here: beyond any body we accept). */
export function isContentLengthSyntax(header: string): boolean {
  return /^[0-9]{1,15}$/.test(header.trim());
}
