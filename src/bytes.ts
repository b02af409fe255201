/**
 * Byte helpers shared by every domain module. Runtime-neutral: no `node:*`, no Buffer.
 * Inputs are checked at the boundary with exact messages (after noble).
 */
import { SealgateError } from './errors.js';

/**
 * The one boundary check for bytes (after noble's `isBytes`/`abytes`): a Uint8Array, also from
 * another realm, of exactly `length` bytes when given.
 */
export function isBytes(a: unknown, length?: number): a is Uint8Array {
  const bytes = a instanceof Uint8Array || (ArrayBuffer.isView(a) && a.constructor.name === 'Uint8Array');
  return bytes && (length === undefined || (a as Uint8Array).length === length);
}

const HEX = '0123456789abcdef';

export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += HEX[b >> 4]! + HEX[b & 15]!;
  return out;
}

/** Hex digit (UTF-16 code unit < 128) → value; -1 for anything else. */
const HEX_VALUE = (() => {
  const t = new Int8Array(128).fill(-1);
  for (let i = 0; i < 16; i++) {
    t[HEX.charCodeAt(i)] = i;
    t[HEX.toUpperCase().charCodeAt(i)] = i;
  }
  return t;
})();

/** Strict hex: even length, [0-9a-fA-F] only; `expectedLength` in bytes when given. */
export function fromHex(hex: string, expectedLength?: number): Uint8Array {
  if (typeof hex !== 'string') throw new SealgateError('invalid_argument', 'hex: expected a string');
  if (hex.length % 2 !== 0) throw new SealgateError('invalid_argument', `hex: odd length ${hex.length}`);
  // Table-driven, one pass (evaluateSnp decodes every reference value on each evaluation).
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    const a = hex.charCodeAt(2 * i);
    const b = hex.charCodeAt(2 * i + 1);
    const hi = a < 128 ? HEX_VALUE[a]! : -1;
    const lo = b < 128 ? HEX_VALUE[b]! : -1;
    if (hi < 0 || lo < 0) throw new SealgateError('invalid_argument', 'hex: non-hex character');
    out[i] = (hi << 4) | lo;
  }
  if (expectedLength !== undefined && out.length !== expectedLength) {
    throw new SealgateError('invalid_argument', `hex: expected ${expectedLength} bytes, got ${out.length}`);
  }
  return out;
}

/** TC39 "Uint8Array to/from base64" (native in workerd and Node ≥ 25; absent in Node ≤ 24). */
type NativeBase64 = { toBase64?: (opts?: { alphabet?: string; omitPadding?: boolean }) => string };

export function toBase64(bytes: Uint8Array): string {
  const native = (bytes as NativeBase64).toBase64;
  if (native) return native.call(bytes);
  return encodeBase64(bytes, B64_STD, true);
}

const B64_STD = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const ASCII = new TextDecoder();
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** Every 12-bit value → its two characters as one 16-bit store (in the platform's byte order). */
const pairs = (alphabet: string): Uint16Array => {
  const t = new Uint16Array(4096);
  for (let v = 0; v < 4096; v++) {
    const first = alphabet.charCodeAt(v >>> 6);
    const second = alphabet.charCodeAt(v & 63);
    t[v] = LITTLE_ENDIAN ? first | (second << 8) : (first << 8) | second;
  }
  return t;
};
const STD_PAIRS = pairs(B64_STD);
const URL_PAIRS = pairs(B64_URL);

/**
 * RFC 4648 §4 / §5 encoding where the runtime has no `toBase64` (Node ≤ 24): two characters per
 * table lookup, written as ASCII into one buffer that is decoded once — one pass, no intermediate
 * strings. Both paths spell every input as RFC 4648 does bit by bit (test/bytes.test.ts).
 */
function encodeBase64(bytes: Uint8Array, alphabet: string, pad: boolean): string {
  const table = alphabet === B64_STD ? STD_PAIRS : URL_PAIRS;
  const n = bytes.length;
  const rem = n % 3;
  const full = n - rem;
  const fullLength = (full / 3) * 4;
  // Whole 16-bit stores: the tail's up to 4 characters fit in the 4 spare bytes.
  const out = new Uint8Array(fullLength + 4);
  const out16 = new Uint16Array(out.buffer);
  let o = 0;
  for (let i = 0; i < full; i += 3) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out16[o++] = table[v >>> 12]!;
    out16[o++] = table[v & 4095]!;
  }
  let length = fullLength;
  if (rem !== 0) {
    const v = rem === 1 ? bytes[full]! << 16 : (bytes[full]! << 16) | (bytes[full + 1]! << 8);
    out[length++] = alphabet.charCodeAt(v >>> 18);
    out[length++] = alphabet.charCodeAt((v >>> 12) & 63);
    if (rem === 2) out[length++] = alphabet.charCodeAt((v >>> 6) & 63);
    if (pad) {
      while (length % 4 !== 0) out[length++] = 61; // '='
    }
  }
  return ASCII.decode(out.subarray(0, length));
}

/** base64url character → its 6-bit value, 255 for anything else. */
const URL_VALUES = (() => {
  const t = new Uint8Array(256).fill(255);
  for (let i = 0; i < 64; i++) t[B64_URL.charCodeAt(i)] = i;
  return t;
})();

/**
 * Unpadded base64url (RFC 4648 §5) where the runtime has no `Uint8Array.fromBase64` (Node ≤ 24), in
 * one pass: accepts exactly what the native path does with the checks `fromBase64Url` makes before
 * it — only the 64 characters, no padding, not a lone last character — and, like atob and the
 * native "loose" mode, ignores the unused low bits of the last character. Says which check failed
 * (a character is checked before the length, as on the native path).
 */
function decodeBase64Url(s: string): Uint8Array | 'character' | 'encoding' {
  const n = s.length;
  const rem = n % 4;
  if (rem === 1) return /^[A-Za-z0-9_-]*$/.test(s) ? 'encoding' : 'character';
  const full = n - rem;
  const out = new Uint8Array((full / 4) * 3 + (rem === 0 ? 0 : rem - 1));
  let o = 0;
  for (let i = 0; i < full; i += 4) {
    const a = URL_VALUES[s.charCodeAt(i)] ?? 255;
    const b = URL_VALUES[s.charCodeAt(i + 1)] ?? 255;
    const c = URL_VALUES[s.charCodeAt(i + 2)] ?? 255;
    const d = URL_VALUES[s.charCodeAt(i + 3)] ?? 255;
    if ((a | b | c | d) > 63) return 'character';
    const v = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = v >>> 16;
    out[o++] = (v >>> 8) & 0xff;
    out[o++] = v & 0xff;
  }
  if (rem >= 2) {
    const a = URL_VALUES[s.charCodeAt(full)] ?? 255;
    const b = URL_VALUES[s.charCodeAt(full + 1)] ?? 255;
    const c = rem === 3 ? (URL_VALUES[s.charCodeAt(full + 2)] ?? 255) : 0;
    if ((a | b | c) > 63) return 'character';
    const v = (a << 18) | (b << 12) | (c << 6);
    out[o++] = v >>> 16;
    if (rem === 3) out[o++] = (v >>> 8) & 0xff;
  }
  return out;
}

type NativeFromBase64 = (
  s: string,
  opts?: { alphabet?: 'base64' | 'base64url'; lastChunkHandling?: 'loose' | 'strict' },
) => Uint8Array;
/**
 * `Uint8Array.fromBase64` where the runtime has it (workerd): one native pass instead of atob, a
 * binary string and a charCodeAt loop. Its default "loose" handling is
 * atob's forgiving-base64 (WHATWG Infra §4.6): optional padding, whitespace skipped, unused low bits
 * ignored, a lone trailing character rejected — so both paths accept exactly the same inputs.
 */
const nativeFromBase64 = (Uint8Array as unknown as { fromBase64?: NativeFromBase64 }).fromBase64;

export function fromBase64(b64: string): Uint8Array {
  if (nativeFromBase64) {
    if (typeof b64 !== 'string') throw new SealgateError('invalid_argument', 'base64: invalid encoding');
    try {
      return nativeFromBase64(b64);
    } catch {
      throw new SealgateError('invalid_argument', 'base64: invalid encoding');
    }
  }
  let bin: string;
  try {
    bin = atob(b64);
  } catch {
    throw new SealgateError('invalid_argument', 'base64: invalid encoding');
  }
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function toBase64Url(bytes: Uint8Array): string {
  const native = (bytes as NativeBase64).toBase64;
  if (native) return native.call(bytes, { alphabet: 'base64url', omitPadding: true });
  return encodeBase64(bytes, B64_URL, false);
}

export function fromBase64Url(s: string): Uint8Array {
  const badCharacter = () => new SealgateError('invalid_argument', 'base64url: invalid character');
  const badEncoding = () => new SealgateError('invalid_argument', 'base64: invalid encoding');
  if (!nativeFromBase64) {
    if (typeof s !== 'string') throw badCharacter();
    const bytes = decodeBase64Url(s);
    if (bytes === 'character') throw badCharacter();
    if (bytes === 'encoding') throw badEncoding();
    return bytes;
  }
  if (typeof s !== 'string') throw badCharacter();
  let bytes: Uint8Array;
  try {
    bytes = nativeFromBase64(s, { alphabet: 'base64url' });
  } catch {
    // Only a refusal is scanned in JavaScript, to say which check failed (as the table path does).
    throw /^[A-Za-z0-9_-]*$/.test(s) ? badEncoding() : badCharacter();
  }
  // No padding, no whitespace, which the native "loose" decoder skips: unpadded base64url of n bytes
  // is exactly ceil(4n/3) characters, and every skipped or padding character makes the text longer.
  // One length check instead of a regular expression over every character before the native pass
  // (three times the native decode's time on a stream frame's ciphertext, in workerd).
  if (s.length !== Math.ceil((bytes.length * 4) / 3)) throw badCharacter();
  return bytes;
}

/**
 * Whether unpadded base64url text (of valid characters) is the one canonical spelling of its bytes
 * (RFC 4648 §3.5): not a lone trailing character, and the unused low bits of the last character are
 * zero (4 bits after 2 characters, 2 after 3). Equivalent to re-encoding and comparing, without the copy.
 */
export function isCanonicalBase64UrlTail(s: string): boolean {
  const rem = s.length % 4;
  if (rem === 0) return true;
  if (rem === 1) return false;
  const last = B64_URL.indexOf(s[s.length - 1]!);
  if (last < 0) return false;
  return (last & (rem === 2 ? 0x0f : 0x03)) === 0;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Equality that does not branch on content: for MACs, tags, key digests. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

export function isAllZero(bytes: Uint8Array): boolean {
  let acc = 0;
  for (const b of bytes) acc |= b;
  return acc === 0;
}

// One of each, not one per call: both are stateless here (no `stream` option), and constructing them
// showed in CPU profiles of the sealed stream (several encodes per frame).
const encoder = new TextEncoder();
const fatalDecoder = new TextDecoder('utf-8', { fatal: true });

export const utf8 = {
  encode: (s: string): Uint8Array => encoder.encode(s),
  decode: (b: Uint8Array): string => fatalDecoder.decode(b),
};

/** SHA-256 / SHA-384 via WebCrypto (native in workerd and Node). */
export async function sha256(data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', data as BufferSource));
}

export async function sha384(data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-384', data as BufferSource));
}

/** A copy whose buffer is exactly its bytes, for APIs that take an ArrayBuffer. */
export function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.slice().buffer as ArrayBuffer;
}
