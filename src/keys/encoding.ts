/**
 * Byte encodings shared by the key exchange and the envelope, chosen so that a second implementation
 * produces identical bytes: length prefixes are 4-byte big-endian (as RFC 9180's I2OSP), integers are
 * fixed-width big-endian, and base64url is RFC 4648 §5 without padding and *canonical* (the unused low
 * bits of the last character are zero) so that one byte string has exactly one wire spelling.
 */
import { fromBase64Url, isCanonicalBase64UrlTail, toBase64Url } from '../bytes.js';
import { type ErrorCode, SealgateError } from '../errors.js';

/** u32be(len(p)) ‖ p for each part: an unambiguous concatenation. */
export function lengthPrefixed(...parts: Uint8Array[]): Uint8Array {
  // One allocation and one view: every sealed request and response builds an AAD with this.
  let total = 0;
  for (const part of parts) total += 4 + part.length;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let offset = 0;
  for (const part of parts) {
    view.setUint32(offset, part.length);
    out.set(part, offset + 4);
    offset += 4 + part.length;
  }
  return out;
}

/** An integer 0 ≤ n ≤ 2^32−1 as 4 big-endian bytes. */
export function u32be(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}

/** An integer 0 ≤ n ≤ 2^53−1 as 8 big-endian bytes. */
export function u64be(n: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n));
  return out;
}

/**
 * Unpadded base64url (RFC 4648 §5) both ways, as a seam so that a runtime with a faster native codec
 * (the Node AI worker's `Buffer`, src/ai-worker/node-base64url.ts) can bring it while this code stays
 * runtime-neutral. Contract every codec keeps (test/ai-worker/node-base64url.node.test.ts checks the
 * Node one against this file's on random bytes and hostile spellings):
 *   - `encode` spells bytes exactly as `toBase64Url` does (the one canonical spelling);
 *   - `decodeCanonical(s)` returns the bytes iff `s` is canonical unpadded base64url — only the 64
 *     characters, length mod 4 ≠ 1, the unused low bits of the last character zero — and
 *     `undefined` for anything else (no exception: the caller throws its own error).
 */
export interface Base64UrlCodec {
  encode(bytes: Uint8Array): string;
  decodeCanonical(s: string): Uint8Array | undefined;
}

/** The runtime-neutral codec (src/bytes.ts), the default everywhere (the gateway, workerd). */
export const jsBase64Url: Base64UrlCodec = Object.freeze({
  encode: toBase64Url,
  decodeCanonical(s: string): Uint8Array | undefined {
    // Canonical: not a lone last character, the unused bits of the last character zero (no
    // re-encoding of a 1 MiB body); fromBase64Url refuses any character but the 64.
    if (typeof s !== 'string' || !isCanonicalBase64UrlTail(s)) return undefined;
    try {
      return fromBase64Url(s);
    } catch {
      return undefined;
    }
  },
});

export function isBase64UrlCodec(value: unknown): value is Base64UrlCodec {
  if (typeof value !== 'object' || value === null) return false;
  const codec = value as Record<string, unknown>;
  return typeof codec.encode === 'function' && typeof codec.decodeCanonical === 'function';
}

/**
 * Strict decoder for wire fields: rejects anything but canonical unpadded base64url, and (when
 * given) any length other than `length` / shorter than `minLength`. Throws `code` with `message`,
 * the same verdict whichever `codec` decodes (default: `jsBase64Url`).
 */
export function decodeBase64UrlField(
  value: unknown,
  opts: { code: ErrorCode; message: string; length?: number; minLength?: number; codec?: Base64UrlCodec },
): Uint8Array {
  if (typeof value !== 'string') return fieldError(opts);
  const bytes = (opts.codec ?? jsBase64Url).decodeCanonical(value) ?? fieldError(opts);
  if (opts.length !== undefined && bytes.length !== opts.length) return fieldError(opts);
  if (opts.minLength !== undefined && bytes.length < opts.minLength) return fieldError(opts);
  return bytes;
}

// Module-level, not a closure per call: under tsx (esbuild keepNames) every named function
// expression made per call costs an Object.defineProperty of its name (~0.4 µs), three per request.
function fieldError(opts: { code: ErrorCode; message: string }): never {
  throw new SealgateError(opts.code, opts.message);
}
