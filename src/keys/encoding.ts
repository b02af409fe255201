/**
 * Byte encodings shared by the key exchange and the envelope, chosen so that a second implementation
 * produces identical bytes: length prefixes are 4-byte big-endian (as RFC 9180's I2OSP), integers are
 * fixed-width big-endian, and base64url is RFC 4648 §5 without padding and *canonical* (the unused low
 * bits of the last character are zero) so that one byte string has exactly one wire spelling.
 */
import { fromBase64Url, isCanonicalBase64UrlTail } from '../bytes.js';
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

/** An integer 0 ≤ n ≤ 2^53−1 as 8 big-endian bytes. */
export function u64be(n: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n));
  return out;
}

/**
 * Strict decoder for wire fields: rejects anything but canonical unpadded base64url, and (when
 * given) any length other than `length` / shorter than `minLength`. Throws `code` with `message`.
 */
export function decodeBase64UrlField(
  value: unknown,
  opts: { code: ErrorCode; message: string; length?: number; minLength?: number },
): Uint8Array {
  const fail = (): never => {
    throw new SealgateError(opts.code, opts.message);
  };
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]*$/.test(value) || value.length % 4 === 1) return fail();
  // Canonical: the unused bits of the last character are zero (no re-encoding of a 1 MiB body).
  if (!isCanonicalBase64UrlTail(value)) return fail();
  let bytes: Uint8Array;
  try {
    bytes = fromBase64Url(value);
  } catch {
    return fail();
  }
  if (opts.length !== undefined && bytes.length !== opts.length) return fail();
  if (opts.minLength !== undefined && bytes.length < opts.minLength) return fail();
  return bytes;
}
