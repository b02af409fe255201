/**
 * The body of an answer from a collateral or revocation server (AMD's KDS, Intel's PCS or a PCCS,
 * an OCSP responder), read with a byte cap counted as the bytes arrive (src/http/read-limited.ts):
 * the server, or whoever is on the path to one reached over plain HTTP (OCSP responders commonly
 * are, RFC 6960 Appendix A.1), may send a body without end, and `arrayBuffer()` holds all of it
 * before any size check can refuse it. A response without a stream (a test double) is read whole.
 */
import { readLimited } from '../http/read-limited.js';

/** What is read of a `Response` (a `Response` fits). */
export interface BodyLike {
  body?: ReadableStream<Uint8Array> | null;
  headers?: { get(name: string): string | null };
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** The body, or null when it is longer than `max` bytes. Throws when the body breaks off. */
export async function readCappedBody(res: BodyLike, max: number): Promise<Uint8Array | null> {
  if (res.body !== undefined) {
    return await readLimited(res.body, res.headers?.get('content-length') ?? null, max);
  }
  const bytes = new Uint8Array(await res.arrayBuffer());
  return bytes.length > max ? null : bytes;
}
