/**
 * Byte helpers shared by every domain module. Runtime-neutral: no `node:*`, no Buffer.
 * Inputs are checked at the boundary with exact messages (after noble).
 */
import { SealgateError } from './errors.js';

const HEX = '0123456789abcdef';

export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += HEX[b >> 4]! + HEX[b & 15]!;
  return out;
}

/** Strict hex: even length, [0-9a-fA-F] only; `expectedLength` in bytes when given. */
export function fromHex(hex: string, expectedLength?: number): Uint8Array {
  if (typeof hex !== 'string') throw new SealgateError('invalid_argument', 'hex: expected a string');
  if (hex.length % 2 !== 0) throw new SealgateError('invalid_argument', `hex: odd length ${hex.length}`);
  if (!/^[0-9a-fA-F]*$/.test(hex)) throw new SealgateError('invalid_argument', 'hex: non-hex character');
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  if (expectedLength !== undefined && out.length !== expectedLength) {
    throw new SealgateError('invalid_argument', `hex: expected ${expectedLength} bytes, got ${out.length}`);
  }
  return out;
}

/** TC39 "Uint8Array to/from base64" (native in workerd and Node ≥ 25; absent in Node 20). */
type NativeBase64 = { toBase64?: (opts?: { alphabet?: string; omitPadding?: boolean }) => string };

export function toBase64(bytes: Uint8Array): string {
  const native = (bytes as NativeBase64).toBase64;
  if (native) return native.call(bytes);
  // Chunks keep `apply` under engines' argument limits; one btoa over the whole binary string.
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x2000) {
    bin += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x2000) as unknown as number[]);
  }
  return btoa(bin);
}

type NativeFromBase64 = (
  s: string,
  opts?: { alphabet?: 'base64' | 'base64url'; lastChunkHandling?: 'loose' | 'strict' },
) => Uint8Array;
/**
 * `Uint8Array.fromBase64` where the runtime has it (workerd): one native pass instead of atob, a
 * binary string and a charCodeAt loop (≈10× faster on a 1 MiB body). Its default "loose" handling is
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
  return toBase64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function fromBase64Url(s: string): Uint8Array {
  // The character check comes first on both paths: no padding, no whitespace, no "+" or "/".
  if (!/^[A-Za-z0-9_-]*$/.test(s))
    throw new SealgateError('invalid_argument', 'base64url: invalid character');
  if (nativeFromBase64) {
    try {
      return nativeFromBase64(s, { alphabet: 'base64url' });
    } catch {
      throw new SealgateError('invalid_argument', 'base64: invalid encoding');
    }
  }
  const pad = s.length % 4 === 0 ? '' : '='.repeat(4 - (s.length % 4));
  return fromBase64(s.replace(/-/g, '+').replace(/_/g, '/') + pad);
}

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * Whether unpadded base64url text (of valid characters) is the one canonical spelling of its bytes
 * (RFC 4648 §3.5): not a lone trailing character, and the unused low bits of the last character are
 * zero (4 bits after 2 characters, 2 after 3). Equivalent to re-encoding and comparing, without the copy.
 */
export function isCanonicalBase64UrlTail(s: string): boolean {
  const rem = s.length % 4;
  if (rem === 0) return true;
  if (rem === 1) return false;
  const last = BASE64URL.indexOf(s[s.length - 1]!);
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

export const utf8 = {
  encode: (s: string): Uint8Array => new TextEncoder().encode(s),
  decode: (b: Uint8Array): string => new TextDecoder('utf-8', { fatal: true }).decode(b),
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
