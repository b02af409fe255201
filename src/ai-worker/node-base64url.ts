/**
 * The AI worker's base64url codec (src/keys/encoding.ts `Base64UrlCodec`) on Node's `Buffer`, which
 * encodes and decodes in C++ — several times faster than the runtime-neutral JavaScript codec of
 * src/bytes.ts on Node ≤ 24, which has no `Uint8Array.toBase64`/`fromBase64` (docs/benchmarks.md).
 *
 * `Buffer`'s decoder is lenient where the protocol is strict (docs/protocol.md): it skips characters
 * outside the alphabet and whitespace, accepts "=" padding and the standard alphabet's "+" and "/",
 * and ignores the unused low bits of the last character. So a decode is accepted only if it
 * re-encodes to exactly the input: the encoder writes only the 64 characters, no padding, zero
 * unused bits, and never a length ≡ 1 (mod 4), so every lenient spelling differs from it. RFC 4648
 * §3.5: the canonical spelling is unique, which makes this check exact — the same verdicts as the
 * JavaScript codec's character, length and tail checks (test/ai-worker/node-base64url.node.test.ts).
 * Re-encoding costs less than the JavaScript codec's character-class regex over the same input.
 */
import type { Base64UrlCodec } from '../keys/encoding.js';

function encode(bytes: Uint8Array): string {
  // A view over the caller's bytes, not a copy.
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

function decodeCanonical(s: string): Uint8Array | undefined {
  if (typeof s !== 'string' || s.length % 4 === 1) return undefined;
  // Decode into an array of our own (not Buffer's shared pool): its `.buffer` holds only these bytes.
  const out = new Uint8Array(Math.floor((s.length * 3) / 4));
  const written = Buffer.from(out.buffer).write(s, 'base64url');
  if (written !== out.length) return undefined;
  return encode(out) === s ? out : undefined;
}

export const nodeBase64Url: Base64UrlCodec = Object.freeze({ encode, decodeCanonical });
